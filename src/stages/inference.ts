// Using trained models on text: a classifier's (or a bidirectional pair's averaged) class probabilities for
// texts in the caller's order, its metrics on a labelled set, and a language model's perplexity on text.
import { z } from 'zod';

import { classifierBatches, restoreOrder } from '../data/classifier-batches.js';
import { LmBatches } from '../data/lm-batches.js';
import { SeqLenSchema } from '../model/config.js';
import { TokenStore } from '../data/token-store.js';
import { validate } from '../options.js';
import { BOS_ID } from '../text/special-tokens.js';
import { Tokenizer, type TokenizerOptionsInput } from '../text/tokenizer.js';
import { Vocabulary } from '../text/vocabulary.js';
import { Encoder } from '../text/encoder.js';
import { classifierMetrics, lmMetrics, type ClassifierMetrics, type LmMetrics } from '../train/metrics.js';
import { encodeLabelled, encodeTexts, type LabelledInput, type TextsInput } from './inputs.js';
import type { AnyClassifier, AnyTextModel, TextClassifier, TextLanguageModel } from './text-models.js';

export const PredictOptionsSchema = z
  .object({
    batchSize: z.number().int().min(1).default(64),
    /** Tokenizer options: those the model's vocabulary was built with (the defaults unless you changed them). */
    tokenizer: z.custom<TokenizerOptionsInput>((v) => typeof v === 'object' && v !== null).default({}),
    /** Keep at most this many tokens of each document (its first). */
    maxTokens: z.number().int().min(1).optional(),
  })
  .strict();

export type PredictOptions = z.input<typeof PredictOptionsSchema>;

export interface Prediction {
  /** The most probable class. */
  label: string;
  /** Its probability. */
  confidence: number;
  /** Every class's probability, by class name. */
  probabilities: Record<string, number>;
}

// Token ids of each text with the model's vocabulary; every document keeps at least xxbos.
function encodeForModel(texts: readonly string[], vocab: readonly string[], tokenizer: TokenizerOptionsInput): TokenStore {
  const encoder = new Encoder(new Tokenizer(tokenizer), new Vocabulary(vocab));
  const docs = texts.map((text, i) => {
    if (typeof text !== 'string') throw new TypeError(`predict: texts[${i}] must be a string, got ${text === null ? 'null' : typeof text}`);
    const { ids } = encoder.encode([text]);
    return ids.length ? ids : Int32Array.of(BOS_ID);
  });
  return TokenStore.fromDocuments(docs);
}

// Probabilities (documents x classes, row-major, in the store's order) from one classifier.
async function probabilitiesOf(c: TextClassifier, store: TokenStore, o: z.output<typeof PredictOptionsSchema>): Promise<Float64Array> {
  const options = {
    batchSize: o.batchSize,
    seqLen: c.model.config.seqLen,
    direction: c.direction,
    ...(o.maxTokens ? { maxTokens: o.maxTokens } : {}),
  };
  const batches = [];
  const rows: number[][][] = [];
  for (const batch of classifierBatches(store, null, options)) {
    const p = await c.model.predict(batch);
    batches.push(batch);
    rows.push(Array.from({ length: p.rows }, (_, r) => Array.from(p.probabilities.subarray(r * p.classes, (r + 1) * p.classes))));
  }
  const ordered = restoreOrder(batches, rows, store.documentCount);
  const n = c.classes.length;
  const out = new Float64Array(store.documentCount * n);
  ordered.forEach((row, d) => out.set(row, d * n));
  return out;
}

// Averaged probabilities of a classifier or a pair, for documents encoded with its vocabulary.
async function ensembleProbabilities(
  model: AnyClassifier,
  store: TokenStore,
  o: z.output<typeof PredictOptionsSchema>,
): Promise<Float64Array> {
  if (model.kind === 'classifier') return probabilitiesOf(model, store, o);
  const forward = await probabilitiesOf(model.forward, store, o);
  const backward = await probabilitiesOf(model.backward, store, o);
  return forward.map((p, i) => (p + backward[i]!) / 2);
}

function classifierParts(model: AnyTextModel, what: string): { vocab: string[]; classes: string[] } {
  const one = model.kind === 'bidirectional' ? model.forward : model;
  if (one.kind !== 'classifier') throw new TypeError(`${what}: the model is a language model, not a classifier`);
  return { vocab: one.vocab, classes: one.classes };
}

/** Each text's predicted class and probabilities, in the caller's order (a pair averages its two). */
export async function predict(model: AnyClassifier, texts: readonly string[], options: PredictOptions = {}): Promise<Prediction[]> {
  const o = validate(PredictOptionsSchema, options, 'predict options');
  if (!Array.isArray(texts)) throw new TypeError('predict: texts must be an array of strings');
  const { vocab, classes } = classifierParts(model, 'predict');
  if (texts.length === 0) return [];
  const store = encodeForModel(texts, vocab, o.tokenizer);
  const p = await ensembleProbabilities(model, store, o);
  const n = classes.length;
  return texts.map((_, d) => {
    const row = p.subarray(d * n, (d + 1) * n);
    let best = 0;
    for (let c = 1; c < n; c++) if (row[c]! > row[best]!) best = c;
    return { label: classes[best]!, confidence: row[best]!, probabilities: Object.fromEntries(classes.map((name, c) => [name, row[c]!])) };
  });
}

/**
 * A classifier's (or pair's) metrics on a labelled set: loss (mean cross-entropy of the predicted
 * probabilities), accuracy, error rate, macro-F1, confusion; a language model's loss, perplexity and
 * accuracy on unlabelled text.
 */
export async function evaluate(model: AnyClassifier, labelled: LabelledInput, options?: PredictOptions): Promise<ClassifierMetrics>;
export async function evaluate(
  model: TextLanguageModel,
  texts: TextsInput,
  options?: { batchSize?: number; seqLen?: number },
): Promise<LmMetrics>;
export async function evaluate(
  model: AnyTextModel,
  data: LabelledInput | TextsInput,
  options: Record<string, unknown> = {},
): Promise<ClassifierMetrics | LmMetrics> {
  if (model.kind === 'language-model') {
    const o = validate(
      z.object({ batchSize: z.number().int().min(1).default(64), seqLen: SeqLenSchema }).strict(),
      options,
      'evaluate options',
    );
    const corpus = await encodeTexts(data as TextsInput, { vocabulary: model.vocab }, 'texts');
    const rows = Math.max(1, Math.min(o.batchSize, Math.floor((corpus.store.tokenCount - 1) / o.seqLen)));
    const batches = new LmBatches(corpus.store, { batchSize: rows, seqLen: o.seqLen, shuffle: false, direction: model.direction });
    model.model.resetState('eval');
    const results = [];
    for (const b of batches.epoch(0)) results.push(await model.model.evalStep(b));
    return lmMetrics(results);
  }
  const o = validate(PredictOptionsSchema, options, 'evaluate options');
  const { vocab, classes } = classifierParts(model, 'evaluate');
  const corpus = await encodeLabelled(
    data as LabelledInput,
    { vocabulary: vocab, classes, encode: { tokenizer: o.tokenizer } },
    'labelled',
  );
  const p = await ensembleProbabilities(model as AnyClassifier, corpus.store, o);
  const n = classes.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let loss = 0;
  corpus.labels.forEach((label, d) => {
    const row = p.subarray(d * n, (d + 1) * n);
    let best = 0;
    for (let c = 1; c < n; c++) if (row[c]! > row[best]!) best = c;
    confusion[label]![best]!++;
    loss -= Math.log(Math.max(row[label]!, 1e-12));
  });
  return classifierMetrics([{ loss, count: corpus.labels.length, confusion }]);
}
