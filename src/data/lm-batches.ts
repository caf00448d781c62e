// Language-model batches from a TokenStore. Each epoch shuffles the documents (seeded by (seed, epoch), so
// any epoch can be replayed alone, e.g. after a resume), treats them as one stream in that order, cuts the
// stream into `batchSize` contiguous rows of rowLength tokens, and walks the rows in steps of seqLen: row r
// of batch b continues row r of batch b-1, which is what lets the engine carry the hidden state. Nothing
// is copied per epoch but the document order and its prefix sums; a batch reads its bs x (seqLen + 1)
// tokens straight from the store.
//
// Layout as fastai v2's LMDataLoader: the stream is trimmed to rowLength = floor((tokens - 1) / bs) tokens
// per row (the last target of a row is the first token of the next), fixed seqLen with a shorter last
// batch. Variable BPTT as the AWD-LSTM paper: per batch, bptt is 70 with p = 0.95 else 35, and the length
// is floor(N(bptt, 5)) but at least 5 (the 0.7-era first-batch warm-up length is not reproduced).
// A backward model reads every document last token first. Data parallelism: with worldSize ranks, the stream
// is cut into worldSize x batchSize rows and rank r reads rows r x batchSize .. (r + 1) x batchSize - 1, so N
// ranks of batchSize rows see exactly the rows one process of N x batchSize would (and each row stays a
// contiguous run of the stream across batches, which a random sampler would break).
import { z } from 'zod';

import { validate } from '../options.js';
import { Random } from './random.js';
import type { TokenStore } from './token-store.js';

export const VariableBpttSchema = z.object({
  bptt: z.number().int().min(1).default(70),
  /** Probability of a half-length (bptt / 2) batch. */
  pHalf: z.number().min(0).max(1).default(0.05),
  std: z.number().min(0).default(5),
  min: z.number().int().min(1).default(5),
});

export const LmBatchesOptionsSchema = z
  .object({
    batchSize: z.number().int().min(1).default(64),
    /** Tokens per batch row (fixed BPTT; fastai v2: 72). Ignored under variableBptt. */
    seqLen: z.number().int().min(1).default(72),
    /** The paper's variable BPTT instead of a fixed seqLen. */
    variableBptt: VariableBpttSchema.optional(),
    shuffle: z.boolean().default(true),
    seed: z.number().int().nonnegative().default(0),
    direction: z.enum(['forward', 'backward']).default('forward'),
    /** Data parallelism: this process's rank and the number of ranks (each reads batchSize of the rows). */
    rank: z.number().int().nonnegative().default(0),
    worldSize: z.number().int().positive().default(1),
  })
  .refine((o) => o.rank < o.worldSize, { message: 'rank must be below worldSize', path: ['rank'] });

export type LmBatchesOptions = z.output<typeof LmBatchesOptionsSchema>;
export type LmBatchesOptionsInput = z.input<typeof LmBatchesOptionsSchema>;

/** One batch: row r of `target` is row r of `input` one token later (row-major, batchSize x seqLen). */
export interface LmStreamBatch {
  input: Int32Array;
  target: Int32Array;
  batchSize: number;
  seqLen: number;
  epoch: number;
  /** 0-based index of the batch in its epoch. */
  index: number;
  /** Position of the batch's first column within each row. */
  offset: number;
}

// A position in the epoch's stream: the k-th document of the order, `pos` tokens into it.
interface Cursor {
  k: number;
  pos: number;
}

export class LmBatches {
  readonly options: LmBatchesOptions;
  readonly rowLength: number;

  constructor(
    readonly store: TokenStore,
    options: LmBatchesOptionsInput = {},
  ) {
    this.options = validate(LmBatchesOptionsSchema, options, 'LM batches options');
    const total = store.tokenCount;
    const rows = this.options.batchSize * this.options.worldSize;
    this.rowLength = Math.floor((total - 1) / rows);
    if (this.rowLength < 1) {
      const ranks = this.options.worldSize > 1 ? ` (${this.options.batchSize} on each of ${this.options.worldSize} ranks)` : '';
      throw new RangeError(
        `LM batches: the corpus has ${total} tokens, too few for ${rows} rows${ranks} (at least ${rows + 1} are needed)`,
      );
    }
  }

  /** Batches per epoch with a fixed seqLen (an expectation under variable BPTT). */
  get batchesPerEpoch(): number {
    const o = this.options;
    const seq = o.variableBptt
      ? (1 - o.variableBptt.pHalf) * o.variableBptt.bptt + o.variableBptt.pHalf * Math.floor(o.variableBptt.bptt / 2)
      : o.seqLen;
    return Math.ceil(this.rowLength / seq);
  }

  /** The exact number of batches in an epoch (it varies from epoch to epoch under variable BPTT). */
  batchesIn(epoch: number): number {
    if (!this.options.variableBptt) return Math.ceil(this.rowLength / this.options.seqLen);
    const lengths = new Random(this.options.seed, epoch, 0x5345);
    let count = 0;
    for (let offset = 0; offset < this.rowLength; count++) offset += this.nextLength(lengths);
    return count;
  }

  /** The documents' order in an epoch. */
  documentOrder(epoch: number): Int32Array {
    const n = this.store.documentCount;
    if (!this.options.shuffle) return Int32Array.from({ length: n }, (_, i) => i);
    return new Random(this.options.seed, epoch, 0x4c4d).permutation(n);
  }

  /** The batches of one epoch, in order. */
  *epoch(epoch: number): Generator<LmStreamBatch> {
    const o = this.options;
    const order = this.documentOrder(epoch);
    const starts = new Float64Array(order.length + 1);
    for (let k = 0; k < order.length; k++) starts[k + 1] = starts[k]! + this.store.documentLength(order[k]!);
    const rows = o.batchSize;
    const cursors: Cursor[] = [];
    const first = o.rank * rows; // this rank's first row of the stream
    for (let r = 0; r < rows; r++) cursors.push(locate(starts, (first + r) * this.rowLength));
    const lengths = new Random(o.seed, epoch, 0x5345);
    const row = new Int32Array(0x10000);
    let index = 0;
    for (let offset = 0; offset < this.rowLength; index++) {
      const seqLen = Math.min(this.nextLength(lengths), this.rowLength - offset);
      const input = new Int32Array(rows * seqLen);
      const target = new Int32Array(rows * seqLen);
      const buf = seqLen + 1 <= row.length ? row : new Int32Array(seqLen + 1);
      for (let r = 0; r < rows; r++) {
        const c = cursors[r]!;
        this.read(order, c, seqLen, buf, 0, true);
        this.read(order, { ...c }, 1, buf, seqLen, false);
        input.set(buf.subarray(0, seqLen), r * seqLen);
        target.set(buf.subarray(1, seqLen + 1), r * seqLen);
      }
      yield { input, target, batchSize: rows, seqLen, epoch, index, offset };
      offset += seqLen;
    }
  }

  private nextLength(random: Random): number {
    const v = this.options.variableBptt;
    if (!v) return this.options.seqLen;
    const bptt = random.next() < 1 - v.pHalf ? v.bptt : Math.floor(v.bptt / 2);
    return Math.max(v.min, Math.floor(random.normal(bptt, v.std)));
  }

  // Copies `count` tokens from the cursor into out; advances the cursor when `advance`.
  private read(order: Int32Array, c: Cursor, count: number, out: Int32Array, at: number, advance: boolean): void {
    let { k, pos } = c;
    const backward = this.options.direction === 'backward';
    while (count > 0) {
      const doc = order[k]!;
      const len = this.store.documentLength(doc);
      const take = Math.min(count, len - pos);
      if (take > 0) {
        const start = this.store.documentStart(doc);
        if (backward) this.store.copyReversed(start + len - pos - take, take, out, at);
        else this.store.copy(start + pos, take, out, at);
        at += take;
        count -= take;
        pos += take;
      }
      if (pos >= len && count > 0) {
        k++;
        pos = 0;
      }
    }
    if (pos >= this.store.documentLength(order[k]!) && k + 1 < order.length) {
      k++;
      pos = 0;
    }
    if (advance) {
      c.k = k;
      c.pos = pos;
    }
  }
}

// The cursor at stream position p (binary search over the order's prefix sums).
function locate(starts: Float64Array, p: number): Cursor {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (starts[mid]! <= p) lo = mid;
    else hi = mid - 1;
  }
  // Skip empty documents so that the cursor sits on a token.
  while (lo + 1 < starts.length - 1 && starts[lo + 1]! <= p) lo++;
  return { k: lo, pos: p - starts[lo]! };
}
