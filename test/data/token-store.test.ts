import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { BLOCK_TOKENS, TokenStore, TokenStoreWriter } from '../../src/data/token-store.js';

describe('TokenStore', () => {
  it('keeps documents end to end with their offsets', () => {
    const store = TokenStore.fromDocuments([[2, 10, 11], [2], [2, 12, 13, 14]]);
    expect(store.documentCount).toBe(3);
    expect(store.tokenCount).toBe(8);
    expect([...store.lengths()]).toEqual([3, 1, 4]);
    expect([...store.document(2)]).toEqual([2, 12, 13, 14]);
    expect([...store.document(2, 'backward')]).toEqual([14, 13, 12, 2]);
    const out = new Int32Array(4);
    store.copy(2, 4, out);
    expect([...out]).toEqual([11, 2, 2, 12]);
    store.copyReversed(2, 4, out);
    expect([...out]).toEqual([12, 2, 2, 11]);
    expect(() => store.copy(6, 3, out)).toThrow(/outside the 8 stored tokens/);
    expect(() => store.document(3)).toThrow(/no document 3/);
  });

  it('remaps provisional ids in place, in memory and after spilling', () => {
    for (const memoryTokens of [1000, 3]) {
      const writer = new TokenStoreWriter({ memoryTokens });
      writer.appendMany(Int32Array.of(0, 1, 2, 1, 0), [2, 3]);
      writer.append([2, 2]);
      writer.remap(Int32Array.of(10, 20, 30));
      expect(writer.spilled).toBe(memoryTokens === 3);
      const store = writer.finish();
      expect(store.backing).toBe(memoryTokens === 3 ? 'mapped' : 'memory');
      expect([...store.document(0)]).toEqual([10, 20]);
      expect([...store.document(1)]).toEqual([30, 20, 10]);
      expect([...store.document(2)]).toEqual([30, 30]);
    }
  });

  it('spills past its memory limit to a mapped file it deletes, across block boundaries', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-store-'));
    try {
      const writer = new TokenStoreWriter({ memoryTokens: 1 << 20, spillDir: dir });
      const doc = Int32Array.from({ length: 300_001 }, (_, i) => i);
      for (let d = 0; d < 7; d++) writer.append(doc.map((x) => x + d));
      expect(writer.spilled).toBe(true);
      const store = writer.finish();
      expect(fs.readdirSync(dir)).toEqual([]); // mapped, then unlinked
      expect(store.backing).toBe('mapped');
      expect(store.tokenCount).toBe(7 * 300_001);
      for (let d = 0; d < 7; d++) {
        const got = store.document(d);
        expect(got[0]).toBe(d);
        expect(got[300_000]).toBe(300_000 + d);
      }
      const out = new Int32Array(10);
      store.copyReversed(300_001 - 5, 10, out);
      expect([...out]).toEqual([5, 4, 3, 2, 1, 300_000, 299_999, 299_998, 299_997, 299_996]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads across in-memory block boundaries', () => {
    const writer = new TokenStoreWriter();
    const a = new Int32Array(BLOCK_TOKENS - 2).fill(7);
    writer.append(a);
    writer.append([1, 2, 3, 4, 5]);
    const store = writer.finish();
    expect([...store.document(1)]).toEqual([1, 2, 3, 4, 5]);
    expect([...store.document(1, 'backward')]).toEqual([5, 4, 3, 2, 1]);
  });
});
