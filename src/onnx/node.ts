// `ulmfit/onnx` in Node: an exported classifier loaded from its file onto onnxruntime-node (an optional peer
// dependency: `npm install onnxruntime-node --onnxruntime-node-install=skip` for the CPU build alone).
// Neither the native addon nor LibTorch is loaded.
import fs from 'node:fs/promises';

import { OnnxClassifier, type OrtModule } from './classifier.js';

export { OnnxClassifier, readOnnxMetadata, type OnnxPrediction, type OrtModule } from './classifier.js';
export { OnnxFileError, type OnnxMetadata } from './metadata.js';

async function onnxRuntime(): Promise<OrtModule> {
  try {
    return (await import('onnxruntime-node')) as unknown as OrtModule;
  } catch (err) {
    throw new Error(
      `ulmfit/onnx needs onnxruntime-node: npm install onnxruntime-node --onnxruntime-node-install=skip (${(err as Error).message})`,
      { cause: err },
    );
  }
}

/** The classifier in an exported ONNX file (a path, or the file's bytes), on `ort` (default: onnxruntime-node). */
export async function loadOnnxClassifier(file: string | Uint8Array, ort?: OrtModule): Promise<OnnxClassifier> {
  const name = typeof file === 'string' ? file : 'the ONNX bytes';
  let bytes: Uint8Array;
  if (typeof file === 'string') {
    try {
      bytes = await fs.readFile(file);
    } catch (err) {
      throw new Error(`${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
  } else bytes = file;
  return OnnxClassifier.create(bytes, ort ?? (await onnxRuntime()), name);
}
