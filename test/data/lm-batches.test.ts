import { describe, expect, it } from 'vitest';

import { LmBatches, type LmStreamBatch } from '../../src/data/lm-batches.js';
import { TokenStore } from '../../src/data/token-store.js';

const rows = (b: LmStreamBatch, which: 'input' | 'target'): number[][] =>
  Array.from({ length: b.batchSize }, (_, r) => [...b[which].subarray(r * b.seqLen, (r + 1) * b.seqLen)]);

describe('LmBatches', () => {
  const store = TokenStore.fromDocuments([
    [2, 10, 11],
    [2, 12],
    [2, 13, 14, 15],
  ]);

  it('cuts the stream into contiguous rows, each batch continuing the last (hand-computed)', () => {
    // Stream 2 10 11 2 12 2 13 14 15: 9 tokens, 2 rows of floor(8 / 2) = 4.
    const lm = new LmBatches(store, { batchSize: 2, seqLen: 3, shuffle: false });
    expect(lm.rowLength).toBe(4);
    expect(lm.batchesPerEpoch).toBe(2);
    const [b0, b1, ...rest] = [...lm.epoch(0)];
    expect(rest).toEqual([]);
    expect(rows(b0!, 'input')).toEqual([
      [2, 10, 11],
      [12, 2, 13],
    ]);
    expect(rows(b0!, 'target')).toEqual([
      [10, 11, 2],
      [2, 13, 14],
    ]);
    expect(b1!.seqLen).toBe(1);
    expect(b1!.offset).toBe(3);
    expect(rows(b1!, 'input')).toEqual([[2], [14]]);
    expect(rows(b1!, 'target')).toEqual([[12], [15]]);
  });

  it('reads every document last token first for a backward model', () => {
    // Stream 11 10 2 12 2 15 14 13 2.
    const lm = new LmBatches(store, { batchSize: 2, seqLen: 4, shuffle: false, direction: 'backward' });
    const [b0] = [...lm.epoch(0)];
    expect(rows(b0!, 'input')).toEqual([
      [11, 10, 2, 12],
      [2, 15, 14, 13],
    ]);
    expect(rows(b0!, 'target')).toEqual([
      [10, 2, 12, 2],
      [15, 14, 13, 2],
    ]);
  });

  it('shuffles documents per epoch, reproducibly from (seed, epoch)', () => {
    const docs = Array.from({ length: 50 }, (_, d) => [2, 100 + d, 200 + d]);
    const big = TokenStore.fromDocuments(docs);
    const a = new LmBatches(big, { batchSize: 4, seqLen: 5, seed: 9 });
    const b = new LmBatches(big, { batchSize: 4, seqLen: 5, seed: 9 });
    expect([...a.documentOrder(3)]).toEqual([...b.documentOrder(3)]);
    expect([...a.documentOrder(3)]).not.toEqual([...a.documentOrder(4)]);
    expect([...a.epoch(1)].map((x) => [...x.input])).toEqual([...b.epoch(1)].map((x) => [...x.input]));
    // Every token but the trimmed tail appears once per epoch, documents intact and in the shuffled order.
    const stream = new Array<number[]>(4).fill([]).map(() => [] as number[]);
    for (const batch of a.epoch(2)) rows(batch, 'input').forEach((r, i) => stream[i]!.push(...r));
    const flat = stream.flat();
    const expected = [...a.documentOrder(2)].flatMap((d) => docs[d]!).slice(0, flat.length);
    expect(flat).toEqual(expected);
    expect(flat.length).toBe(4 * Math.floor((150 - 1) / 4));
  });

  it('draws variable BPTT lengths around 70, sometimes 35, never under the minimum', () => {
    const long = TokenStore.fromDocuments([Array.from({ length: 200_000 }, (_, i) => i % 1000)]);
    const lm = new LmBatches(long, { batchSize: 2, variableBptt: {}, shuffle: false, seed: 1 });
    const lengths = [...lm.epoch(0)].map((b) => b.seqLen);
    const total = lengths.reduce((s, n) => s + n, 0);
    expect(total).toBe(lm.rowLength);
    const body = lengths.slice(0, -1);
    expect(Math.min(...body)).toBeGreaterThanOrEqual(5);
    const short = body.filter((n) => n < 52).length / body.length;
    expect(short).toBeGreaterThan(0.02);
    expect(short).toBeLessThan(0.09);
    expect(Math.abs(lm.batchesPerEpoch - lengths.length) / lengths.length).toBeLessThan(0.05);
  });

  it('refuses a corpus too small for its rows and bad options', () => {
    expect(() => new LmBatches(TokenStore.fromDocuments([[2, 3]]), { batchSize: 2 })).toThrow(/has 2 tokens, too few for 2 rows/);
    expect(() => new LmBatches(store, { batchSize: 0 })).toThrow(/batchSize/);
  });
});
