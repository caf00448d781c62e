// A classifier exported with `ulmfit export --format onnx`, run by ONNX Runtime (onnxruntime-node in Node,
// onnxruntime-web in a browser, handed in by the caller): the file's own metadata gives the vocabulary,
// classes and input shape, ulmfit's tokenizer gives the tokens, and predict() returns what the LibTorch
// predict() returns. No native addon and no Node built-in is imported here (src/onnx/node.ts reads files).
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';

import { textOfFields, type FieldsInput } from '../data/fields.js';
import { BOS_ID, FLD, PAD_ID, UNK_ID } from '../text/special-tokens.js';
import { Tokenizer } from '../text/tokenizer.js';
import { OnnxFileError, parseMetadata, type OnnxMetadata } from './metadata.js';

// A CommonJS module: its namespace is the default export under ESM.
const { onnx } = onnxProto;

/** What is used of an ONNX Runtime module (onnxruntime-node and onnxruntime-web both are one). */
export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: Record<string, unknown>): Promise<OrtSession> };
  Tensor: new (type: 'int64', data: BigInt64Array, dims: readonly number[]) => unknown;
}

interface OrtSession {
  run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dims: readonly number[] }>>;
  release?(): Promise<void>;
}

export interface OnnxPrediction {
  label: string;
  confidence: number;
  probabilities: Record<string, number>;
}

/** Our metadata from an ONNX file's bytes, or an error naming `file` when it is not ONNX or not ours. */
export function readOnnxMetadata(bytes: Uint8Array, file: string): OnnxMetadata {
  let model: Onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new OnnxFileError(file, `not an ONNX model (${(err as Error).message})`);
  }
  if (!model.graph) throw new OnnxFileError(file, 'not an ONNX model (no graph)');
  return parseMetadata(model.metadataProps, file);
}

export class OnnxClassifier {
  readonly classes: readonly string[];
  readonly metadata: OnnxMetadata;
  readonly #session: OrtSession;
  readonly #ort: OrtModule;
  readonly #ids: Map<string, number>;
  readonly #tokenizer = new Tokenizer();

  private constructor(metadata: OnnxMetadata, session: OrtSession, ort: OrtModule) {
    this.metadata = metadata;
    this.classes = metadata.classes!;
    this.#session = session;
    this.#ort = ort;
    this.#ids = new Map(metadata.vocab.map((token, id) => [token, id]));
  }

  /** The classifier in `bytes` (an exported file's contents; `file` names it in errors), on `ort`. */
  static async create(bytes: Uint8Array, ort: OrtModule, file: string): Promise<OnnxClassifier> {
    const metadata = readOnnxMetadata(bytes, file);
    if (metadata.kind !== 'classifier') throw new OnnxFileError(file, `holds a ${metadata.kind}, not a classifier`);
    const tokenizer = new Tokenizer();
    if (metadata.rulesVersion !== null && metadata.rulesVersion !== tokenizer.rulesVersion) {
      throw new OnnxFileError(
        file,
        `its vocabulary was built with tokenizer rules "${metadata.rulesVersion}"; the ONNX entry point has the default rules "${tokenizer.rulesVersion}" only`,
      );
    }
    const session = await ort.InferenceSession.create(bytes);
    return new OnnxClassifier(metadata, session, ort);
  }

  /** A document's token ids: the tokenizer's tokens in the vocabulary (unknown: xxunk), its first maxTokens. */
  tokenIds(input: FieldsInput, maxTokens: number | null, what: string): Int32Array {
    const fields = this.metadata.input.textFields;
    if (typeof input === 'string' && fields !== null && !input.startsWith(`${FLD} 1 `)) {
      throw new TypeError(
        `${what}: the classifier reads documents of ${fields.length} fields (${fields.join(', ')}): give an object of them or a list`,
      );
    }
    const tokens = this.#tokenizer.tokenize(textOfFields(input, fields, what));
    const ids = Int32Array.from(tokens, (t) => this.#ids.get(t) ?? UNK_ID);
    const kept = maxTokens === null ? ids : ids.subarray(0, maxTokens);
    return kept.length ? kept : Int32Array.of(BOS_ID);
  }

  /** Each text's class and probabilities, in order; `maxTokens` overrides the model's limit (null: all tokens). */
  async predict(texts: readonly FieldsInput[], options: { batchSize?: number; maxTokens?: number | null } = {}): Promise<OnnxPrediction[]> {
    if (!Array.isArray(texts)) throw new TypeError('predict: texts must be an array');
    const batchSize = options.batchSize ?? 64;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new RangeError(`predict: batchSize must be a positive integer, got ${batchSize}`);
    const maxTokens = options.maxTokens === undefined ? this.metadata.input.maxTokens : options.maxTokens;
    const docs = texts.map((t, i) => this.tokenIds(t, maxTokens, `predict: texts[${i}]`));
    const out: OnnxPrediction[] = [];
    for (let at = 0; at < docs.length; at += batchSize) out.push(...(await this.#run(docs.slice(at, at + batchSize))));
    return out;
  }

  // One batch, right-padded: the graph's LSTMs stop at each row's length.
  async #run(docs: Int32Array[]): Promise<OnnxPrediction[]> {
    const time = Math.max(...docs.map((d) => d.length));
    const tokens = new BigInt64Array(docs.length * time).fill(BigInt(PAD_ID));
    docs.forEach((d, r) => d.forEach((id, p) => (tokens[r * time + p] = BigInt(id))));
    const lengths = BigInt64Array.from(docs, (d) => BigInt(d.length));
    const result = await this.#session.run({
      tokens: new this.#ort.Tensor('int64', tokens, [docs.length, time]),
      lengths: new this.#ort.Tensor('int64', lengths, [docs.length]),
    });
    const p = result.probabilities!.data as Float32Array;
    const n = this.classes.length;
    return docs.map((_, r) => {
      const row = Array.from(p.subarray(r * n, (r + 1) * n));
      let best = 0;
      for (let c = 1; c < n; c++) if (row[c]! > row[best]!) best = c;
      return {
        label: this.classes[best]!,
        confidence: row[best]!,
        probabilities: Object.fromEntries(this.classes.map((c, i) => [c, row[i]!])),
      };
    });
  }

  /** Lets go of the ONNX Runtime session. */
  async dispose(): Promise<void> {
    await this.#session.release?.();
  }
}
