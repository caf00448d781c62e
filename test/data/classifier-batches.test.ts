import { describe, expect, it } from 'vitest';

import { batchIndices, classifierBatches, ClassifierBatchesOptionsSchema, restoreOrder } from '../../src/data/classifier-batches.js';
import { TokenStore } from '../../src/data/token-store.js';

const P = 1;

describe('classifier batches', () => {
  it('pads at the front in whole seqLen chunks and the remainder at the end (hand-computed)', () => {
    const store = TokenStore.fromDocuments([
      [2, 11, 12, 13, 14],
      [2, 21],
      [2, 31, 32, 33, 34, 35, 36, 37, 38],
    ]);
    const [batch, ...rest] = [...classifierBatches(store, Int32Array.of(0, 1, 0), { batchSize: 3, seqLen: 3 })];
    expect(rest).toEqual([]);
    expect(batch!.length).toBe(9);
    expect([...batch!.indices]).toEqual([2, 0, 1]);
    expect([...batch!.lengths]).toEqual([9, 5, 2]);
    expect([...batch!.labels!]).toEqual([0, 0, 1]);
    const row = (r: number): number[] => [...batch!.tokens.subarray(r * 9, (r + 1) * 9)];
    expect(row(0)).toEqual([2, 31, 32, 33, 34, 35, 36, 37, 38]);
    expect(row(1)).toEqual([P, P, P, 2, 11, 12, 13, 14, P]); // 4 pads: one chunk of 3 in front, 1 at the end
    expect(row(2)).toEqual([P, P, P, P, P, P, 2, 21, P]); // 7 pads: two chunks in front, 1 at the end
  });

  it('reverses documents for a backward model and truncates to maxTokens', () => {
    const store = TokenStore.fromDocuments([
      [2, 11, 12, 13, 14],
      [2, 21],
    ]);
    const [batch] = [...classifierBatches(store, null, { batchSize: 2, seqLen: 2, direction: 'backward', maxTokens: 4 })];
    expect(batch!.labels).toBeNull();
    expect([...batch!.tokens]).toEqual([13, 12, 11, 2, P, P, 21, 2]);
  });

  it('sorts by length for evaluation and restores the caller order', () => {
    const lengths = [3, 9, 1, 7, 5, 5, 2];
    const store = TokenStore.fromDocuments(lengths.map((n, d) => Array.from({ length: n }, () => d)));
    const batches = [...classifierBatches(store, null, { batchSize: 3 })];
    expect(batches.map((b) => [...b.indices])).toEqual([[1, 3, 4], [5, 0, 6], [2]]);
    const perRow = batches.map((b) => [...b.lengths]);
    expect(restoreOrder(batches, perRow, lengths.length)).toEqual(lengths);
    expect(() => restoreOrder(batches.slice(1), perRow.slice(1), lengths.length)).toThrow(/no result for document 1/);
  });

  it('samples sortish batches: seeded, longest first, each chunk sorted, every document once', () => {
    const n = 1000;
    const lengths = Int32Array.from({ length: n }, (_, i) => 1 + ((i * 7919) % 500));
    const options = ClassifierBatchesOptionsSchema.parse({ batchSize: 8, order: 'sortish', chunkBatches: 5, seed: 4 });
    const a = batchIndices(lengths, options, 0);
    expect(a.map((b) => [...b])).toEqual(batchIndices(lengths, options, 0).map((b) => [...b]));
    expect(a.map((b) => [...b])).not.toEqual(batchIndices(lengths, options, 1).map((b) => [...b]));
    expect(lengths[a[0]![0]!]).toBe(500);
    for (const b of a) for (let i = 1; i < b.length; i++) expect(lengths[b[i]!]!).toBeLessThanOrEqual(lengths[b[i - 1]!]!);
    const all = a.flatMap((b) => [...b]).sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: n }, (_, i) => i));
    // Not globally sorted: batches are shuffled.
    const firsts = a.map((b) => lengths[b[0]!]!);
    expect(firsts.some((v, i) => i > 0 && v > firsts[i - 1]!)).toBe(true);
    const dropped = batchIndices(lengths.subarray(0, 1001 - 4), { ...options, dropLast: true }, 0);
    expect(dropped.every((b) => b.length === 8)).toBe(true);
  });

  it('refuses labels that do not match the documents', () => {
    const store = TokenStore.fromDocuments([
      [2, 3],
      [2, 4],
    ]);
    expect(() => [...classifierBatches(store, Int32Array.of(0), {})]).toThrow(/1 labels for 2 documents/);
  });
});
