// Using trained models on text: a classifier's (or a bidirectional pair's averaged) class probabilities for
// texts in the caller's order, its metrics on a labelled set, and a language model's perplexity on text.
import { z } from 'zod';

import { classifierBatches, restoreOrder } from '../data/classifier-batches.js';
import { LmBatches } from '../data/lm-batches.js';
import { SeqLenSchema } from '../model/config.js';
import { TokenStore } from '../data/token-store.js';
import { validate } from '../options.js';
import { Tokenizer, type TokenizerOptionsInput } from '../text/tokenizer.js';
import { Vocabulary } from '../text/vocabulary.js';
import { Encoder } from '../text/encoder.js';
import { classifierMetrics, lmMetrics, type ClassifierMetrics, type LmMetrics } from '../train/metrics.js';
import { textOfFields, type FieldsInput } from '../data/fields.js';
import type { LabelledSourceOptions } from '../data/labelled-reader.js';
import { DataError } from '../data/read-error.js';
import type { InputShape } from '../model/directory.js';
import { BOS_ID, FLD } from '../text/special-tokens.js';
import { encodeLabelled, encodeTexts, type LabelledInput, type TextsInput } from './inputs.js';
import type { AnyClassifier, AnyTextModel, TextClassifier, TextLanguageModel } from './text-models.js';

export const PredictOptionsSchema = z
  .object({
    batchSize: z.number().int().min(1).default(64),
    /** Tokenizer options: those the model's vocabulary was built with (the defaults unless you changed them). */
    tokenizer: z.custom<TokenizerOptionsInput>((v) => typeof v === 'object' && v !== null).default({}),
    /** Keep at most this many tokens of each document (its first). Default: the model's, as in training; null: all. */
    maxTokens: z.number().int().min(1).nullable().optional(),
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

// The tokenizer for a model: its rules must be the ones its vocabulary was built with.
function tokenizerFor(one: TextClassifier, options: TokenizerOptionsInput, what: string): Tokenizer {
  const tokenizer = new Tokenizer(options);
  if (one.rulesVersion !== null && one.rulesVersion !== tokenizer.rulesVersion) {
    throw new RangeError(
      `${what}: the model's vocabulary was built with tokenizer rules "${one.rulesVersion}", these options give "${tokenizer.rulesVersion}": pass the tokenizer options it was trained with`,
    );
  }
  return tokenizer;
}

// Token ids of each text with the model's vocabulary; every document keeps at least xxbos.
function encodeForModel(texts: readonly string[], vocab: readonly string[], tokenizer: Tokenizer): TokenStore {
  const encoder = new Encoder(tokenizer, new Vocabulary(vocab));
  const docs = texts.map((text) => {
    const { ids } = encoder.encode([text]);
    return ids.length ? ids : Int32Array.of(BOS_ID);
  });
  return TokenStore.fromDocuments(docs);
}

// One input's text for a model that read documents of `fields`: a plain string for a one-field model; for
// several fields, the values (an object or a list) or text already joined with joinFields.
function inputText(input: FieldsInput, fields: InputShape['textFields'], what: string): string {
  if (typeof input === 'string' && fields !== null && !input.startsWith(`${FLD} 1 `)) {
    throw new DataError(
      `${what}: the classifier reads documents of ${fields.length} fields (${fields.join(', ')}): give each as an object of those fields, a list of their values, or text joined with joinFields`,
    );
  }
  if (typeof input !== 'string' && fields === null && (Array.isArray(input) || typeof input !== 'object' || input === null)) {
    throw new TypeError(`${what} must be a string, got ${input === null ? 'null' : Array.isArray(input) ? 'an array' : typeof input}`);
  }
  return textOfFields(input, fields, what);
}

// The option given, else the model's own limit from training.
function maxTokensFor(c: TextClassifier, o: z.output<typeof PredictOptionsSchema>): { maxTokens?: number } {
  const limit = o.maxTokens === undefined ? c.input.maxTokens : o.maxTokens;
  return limit === null ? {} : { maxTokens: limit };
}

// Probabilities (documents x classes, row-major, in the store's order) from one classifier.
async function probabilitiesOf(c: TextClassifier, store: TokenStore, o: z.output<typeof PredictOptionsSchema>): Promise<Float64Array> {
  const options = {
    batchSize: o.batchSize,
    seqLen: c.model.config.seqLen,
    direction: c.direction,
    ...maxTokensFor(c, o),
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

function classifierOf(model: AnyTextModel, what: string): TextClassifier {
  const one = model.kind === 'bidirectional' ? model.forward : model;
  if (one.kind !== 'classifier') throw new TypeError(`${what}: the model is a language model, not a classifier`);
  return one;
}

/**
 * Each text's predicted class and probabilities, in the caller's order (a pair averages its two). A model
 * trained on documents of several fields takes each text as an object of those fields (or their values in order).
 */
export async function predict(model: AnyClassifier, texts: readonly FieldsInput[], options: PredictOptions = {}): Promise<Prediction[]> {
  const o = validate(PredictOptionsSchema, options, 'predict options');
  if (!Array.isArray(texts)) throw new TypeError('predict: texts must be an array of strings');
  const one = classifierOf(model, 'predict');
  const { vocab, classes } = one;
  const tokenizer = tokenizerFor(one, o.tokenizer, 'predict');
  if (texts.length === 0) return [];
  const store = encodeForModel(
    texts.map((t, i) => inputText(t, one.input.textFields, `predict: texts[${i}]`)),
    vocab,
    tokenizer,
  );
  const p = await ensembleProbabilities(model, store, o);
  const n = classes.length;
  return texts.map((_, d) => {
    const row = p.subarray(d * n, (d + 1) * n);
    let best = 0;
    for (let c = 1; c < n; c++) if (row[c]! > row[best]!) best = c;
    return { label: classes[best]!, confidence: row[best]!, probabilities: Object.fromEntries(classes.map((name, c) => [name, row[c]!])) };
  });
}

// A labelled set read with the model's text fields: files whose fields are not given take the model's;
// records in memory may give their text as fields.
function shapedLikeTraining(data: LabelledInput, fields: InputShape['textFields']): LabelledInput {
  if (Array.isArray(data)) {
    return data.map((d: unknown, i) => {
      const text = (d as { text?: unknown } | null)?.text;
      return text === undefined || text === null
        ? d
        : { ...(d as object), text: inputText(text as FieldsInput, fields, `labelled[${i}].text`) };
    }) as LabelledInput;
  }
  if (fields === null || typeof data !== 'object' || data === null || !('path' in data)) return data;
  const source = data as LabelledSourceOptions;
  return {
    ...source,
    ...(source.textField === undefined && fields.every((f) => typeof f === 'string') ? { textField: fields as string[] } : {}),
    ...(source.textColumn === undefined ? { textColumn: fields } : {}),
  };
}

/**
 * A classifier's (or pair's) metrics on a labelled set: loss (mean cross-entropy of the predicted
 * probabilities), accuracy, error rate, macro-F1, confusion; a language model's loss, perplexity and
 * accuracy on unlabelled text.
 */
export async function evaluate(
  model: AnyClassifier,
  labelled: LabelledInput | readonly { text: FieldsInput; label: string }[],
  options?: PredictOptions,
): Promise<ClassifierMetrics>;
export async function evaluate(
  model: TextLanguageModel,
  texts: TextsInput,
  options?: { batchSize?: number; seqLen?: number },
): Promise<LmMetrics>;
export async function evaluate(
  model: AnyTextModel,
  data: LabelledInput | readonly { text: FieldsInput; label: string }[] | TextsInput,
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
  const one = classifierOf(model, 'evaluate');
  const { vocab, classes } = one;
  tokenizerFor(one, o.tokenizer, 'evaluate');
  const corpus = await encodeLabelled(
    shapedLikeTraining(data as LabelledInput, one.input.textFields),
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
