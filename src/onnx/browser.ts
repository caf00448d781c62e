// `ulmfit/onnx` in a browser (the package's "browser" condition): an exported classifier fetched from a URL
// (or given as bytes) onto onnxruntime-web, which the page hands in (`import * as ort from
// 'onnxruntime-web'`). Nothing here needs Node.
import { OnnxClassifier, type OrtModule } from './classifier.js';

export { OnnxClassifier, readOnnxMetadata, type OnnxPrediction, type OrtModule } from './classifier.js';
export { OnnxFileError, type OnnxMetadata } from './metadata.js';

/** The classifier at `url` (or in `bytes`), on the ONNX Runtime module `ort`. */
export async function loadOnnxClassifier(source: string | URL | Uint8Array, ort: OrtModule): Promise<OnnxClassifier> {
  if (source instanceof Uint8Array) return OnnxClassifier.create(source, ort, 'the ONNX bytes');
  const response = await fetch(source);
  if (!response.ok) throw new Error(`${String(source)}: HTTP ${response.status} ${response.statusText}`);
  return OnnxClassifier.create(new Uint8Array(await response.arrayBuffer()), ort, String(source));
}
