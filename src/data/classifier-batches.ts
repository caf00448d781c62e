// Classifier batches: the one place that reorders documents. Training batches are "sortish" (seeded): a
// random order cut into chunks of batchSize x 50, each chunk sorted by length, longest first; the batch
// holding the longest document goes first (memory trouble shows at once), the last batch stays last and the
// others are shuffled. Evaluation and prediction sort all documents by length, longest first. Every batch
// is padded to its longest document in fastai's layout, which the BPT3C engine expects: padding at the
// front in whole multiples of seqLen, the remainder at the end. Each batch carries the dataset index of
// every row, so results go back to the caller's order (restoreOrder); the native side never reorders.
import { z } from 'zod';

import { validate } from '../options.js';
import { PAD_ID } from '../text/special-tokens.js';
import { Random } from './random.js';
import type { TokenStore } from './token-store.js';

export const ClassifierBatchesOptionsSchema = z
  .object({
    batchSize: z.number().int().min(1).default(64),
    /** BPT3C chunk length: padding comes in whole chunks of it. */
    seqLen: z.number().int().min(1).default(72),
    /** 'sortish' (training, seeded) or 'descending' (evaluation and prediction). */
    order: z.enum(['sortish', 'descending']).default('descending'),
    seed: z.number().int().nonnegative().default(0),
    /** Sortish chunk size, in batches. */
    chunkBatches: z.number().int().min(1).default(50),
    /** Drop a last, smaller batch (fastai drops it in training: BatchNorm needs more than one row). */
    dropLast: z.boolean().default(false),
    /** Keep at most this many tokens of each document: its first ones (in text order, for both directions). */
    maxTokens: z.number().int().min(1).optional(),
    padId: z.number().int().nonnegative().default(PAD_ID),
    direction: z.enum(['forward', 'backward']).default('forward'),
    /** Data parallelism (training batches, with dropLast): this process's rank and the number of ranks. */
    rank: z.number().int().nonnegative().default(0),
    worldSize: z.number().int().positive().default(1),
  })
  .refine((o) => o.rank < o.worldSize, { message: 'rank must be below worldSize', path: ['rank'] })
  .refine((o) => o.worldSize === 1 || o.dropLast, {
    message: 'batches shared by several ranks need dropLast (every rank takes an equal share of every batch)',
    path: ['dropLast'],
  });

export type ClassifierBatchesOptions = z.output<typeof ClassifierBatchesOptionsSchema>;
export type ClassifierBatchesOptionsInput = z.input<typeof ClassifierBatchesOptionsSchema>;

export interface ClassifierBatch {
  /** rows x length token ids, row-major, padded in fastai's layout. */
  tokens: Int32Array;
  rows: number;
  /** Padded length of every row. */
  length: number;
  /** Real tokens in each row. */
  lengths: Int32Array;
  /** Class id of each row; null without labels. */
  labels: Int32Array | null;
  /** Dataset index of each row. */
  indices: Int32Array;
}

/** A document's length after truncation to maxTokens. */
function keptLength(store: TokenStore, doc: number, maxTokens: number | undefined): number {
  const len = store.documentLength(doc);
  return maxTokens === undefined ? len : Math.min(len, maxTokens);
}

// Sorts indices by length, longest first; ties keep their order (the sort is stable).
function byLengthDescending(indices: Int32Array, lengths: Int32Array): Int32Array {
  return Int32Array.from(indices).sort((a, b) => lengths[b]! - lengths[a]!);
}

/** The documents of each batch, in batch order (exposed for tests and for counting batches). */
export function batchIndices(lengths: Int32Array, options: ClassifierBatchesOptions, epoch = 0): Int32Array[] {
  const n = lengths.length;
  const bs = options.batchSize * options.worldSize;
  let order: Int32Array;
  if (options.order === 'descending') {
    order = byLengthDescending(
      Int32Array.from({ length: n }, (_, i) => i),
      lengths,
    );
  } else {
    const random = new Random(options.seed, epoch, 0x4354);
    const perm = random.permutation(n);
    // The longest document first, so that it lands in the first batch.
    let longest = 0;
    for (let i = 1; i < n; i++) if (lengths[perm[i]!]! > lengths[perm[longest]!]!) longest = i;
    [perm[0], perm[longest]] = [perm[longest]!, perm[0]!];
    const chunk = bs * options.chunkBatches;
    order = new Int32Array(n);
    for (let at = 0; at < n; at += chunk) {
      order.set(byLengthDescending(perm.subarray(at, at + chunk), lengths), at);
    }
  }
  const batches: Int32Array[] = [];
  for (let at = 0; at < n; at += bs) batches.push(order.slice(at, at + bs));
  if (options.order === 'sortish' && batches.length > 2) {
    const middle = batches.slice(1, -1);
    new Random(options.seed, epoch, 0x4d49).shuffle(middle);
    batches.splice(1, middle.length, ...middle);
  }
  if (options.dropLast && batches.length && batches[batches.length - 1]!.length < bs) batches.pop();
  if (options.worldSize === 1) return batches;
  return batches.map((batch) => batch.filter((_, row) => row % options.worldSize === options.rank));
}

/** Lays out one batch: front padding in whole seqLen chunks, the remainder at the end. */
export function layoutBatch(
  store: TokenStore,
  indices: Int32Array,
  labels: Int32Array | null,
  options: ClassifierBatchesOptions,
): ClassifierBatch {
  const rows = indices.length;
  const lengths = new Int32Array(rows);
  for (let r = 0; r < rows; r++) lengths[r] = keptLength(store, indices[r]!, options.maxTokens);
  let length = 0;
  for (let r = 0; r < rows; r++) length = Math.max(length, lengths[r]!);
  const tokens = new Int32Array(rows * length).fill(options.padId);
  for (let r = 0; r < rows; r++) {
    const doc = indices[r]!;
    const n = lengths[r]!;
    const front = Math.floor((length - n) / options.seqLen) * options.seqLen;
    const at = r * length + front;
    // Both directions keep the same text (the document's first tokens), so their predictions can be averaged.
    if (options.direction === 'backward') store.copyReversed(store.documentStart(doc), n, tokens, at);
    else store.copy(store.documentStart(doc), n, tokens, at);
  }
  const batchLabels = labels ? Int32Array.from(indices, (i) => labels[i]!) : null;
  return { tokens, rows, length, lengths, labels: batchLabels, indices: Int32Array.from(indices) };
}

/** All batches of an epoch, laid out one at a time. */
export function* classifierBatches(
  store: TokenStore,
  labels: Int32Array | null,
  options: ClassifierBatchesOptionsInput = {},
  epoch = 0,
): Generator<ClassifierBatch> {
  const o = validate(ClassifierBatchesOptionsSchema, options, 'classifier batches options');
  if (labels && labels.length !== store.documentCount) {
    throw new RangeError(`classifier batches: ${labels.length} labels for ${store.documentCount} documents`);
  }
  const lengths = Int32Array.from({ length: store.documentCount }, (_, d) => keptLength(store, d, o.maxTokens));
  for (const indices of batchIndices(lengths, o, epoch)) yield layoutBatch(store, indices, labels, o);
}

/** Puts per-row results back in dataset order: results[i] belongs to the batch row whose index is i. */
export function restoreOrder<T>(batches: readonly { indices: Int32Array }[], perBatch: readonly (readonly T[])[], count: number): T[] {
  const out = new Array<T>(count);
  const seen = new Uint8Array(count);
  batches.forEach((batch, b) => {
    const rows = perBatch[b];
    if (!rows || rows.length !== batch.indices.length) {
      throw new RangeError(`restoreOrder: batch ${b} has ${batch.indices.length} rows but ${rows?.length ?? 0} results`);
    }
    batch.indices.forEach((i, r) => {
      out[i] = rows[r]!;
      seen[i] = 1;
    });
  });
  const missing = seen.indexOf(0);
  if (missing >= 0) throw new RangeError(`restoreOrder: no result for document ${missing}`);
  return out;
}
