import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { LmBatches } from '../../src/data/lm-batches.js';
import { openTokenStore, saveTokenStore } from '../../src/data/token-store-file.js';
import { TokenStore, TokenStoreWriter } from '../../src/data/token-store.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-store-file-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

const docsOf = (store: TokenStore): number[][] => Array.from({ length: store.documentCount }, (_, i) => [...store.document(i)]);

describe('saved token stores', () => {
  it('round-trips a store (in memory or spilled) through a directory, memory-mapped on open, with its metadata', () => {
    const docs = Array.from({ length: 40 }, (_, d) => Array.from({ length: 1 + (d % 7) * 13 }, (_, i) => (d * 31 + i) % 97));
    for (const memoryTokens of [1 << 20, 50]) {
      const writer = new TokenStoreWriter({ memoryTokens });
      for (const d of docs) writer.append(d);
      const store = writer.finish();
      const dir = path.join(tempDir(), 'corpus');
      saveTokenStore(store, dir, { vocabularySha256: 'abc', rulesVersion: 'r1' });
      expect(fs.readdirSync(dir).sort()).toEqual(['offsets.f64', 'store.json', 'tokens.i32']);
      const opened = openTokenStore(dir);
      expect(opened.store.backing).toBe('mapped');
      expect(opened.meta).toEqual({ vocabularySha256: 'abc', rulesVersion: 'r1' });
      expect(docsOf(opened.store)).toEqual(docs);
      const batches = (s: TokenStore) => [...new LmBatches(s, { batchSize: 3, seqLen: 8, seed: 2 }).epoch(1)].map((b) => [...b.input]);
      expect(batches(opened.store)).toEqual(batches(store));
    }
  });

  it('replaces an existing store atomically and keeps an empty one readable', () => {
    const dir = path.join(tempDir(), 'corpus');
    saveTokenStore(TokenStore.fromDocuments([[1, 2, 3]]), dir);
    saveTokenStore(TokenStore.fromDocuments([[4], [5, 6]]), dir);
    expect(docsOf(openTokenStore(dir).store)).toEqual([[4], [5, 6]]);
    expect(fs.readdirSync(path.dirname(dir))).toEqual(['corpus']); // no staging or old copies left
    saveTokenStore(TokenStore.fromDocuments([]), dir);
    expect(openTokenStore(dir).store.tokenCount).toBe(0);
  });

  it('refuses a missing, truncated, corrupt or foreign store, naming the file', () => {
    const dir = path.join(tempDir(), 'corpus');
    expect(() => openTokenStore(dir)).toThrow(`${path.join(dir, 'store.json')}: is missing: is this a saved token store?`);
    saveTokenStore(
      TokenStore.fromDocuments([
        [1, 2, 3],
        [4, 5],
      ]),
      dir,
    );
    const tokens = path.join(dir, 'tokens.i32');
    const bytes = fs.readFileSync(tokens);
    bytes[4] = bytes[4]! ^ 0xff;
    fs.writeFileSync(tokens, bytes);
    expect(() => openTokenStore(dir)).toThrow(`${tokens}: does not match its checksum in store.json: the file is corrupt`);
    expect(openTokenStore(dir, { verify: false }).store.tokenCount).toBe(5); // sizes still checked
    fs.writeFileSync(tokens, bytes.subarray(0, 12));
    expect(() => openTokenStore(dir)).toThrow(
      `${tokens}: holds 12 bytes; store.json says 20 (20 for its counts): truncated or not this store's`,
    );
    const meta = path.join(dir, 'store.json');
    fs.writeFileSync(meta, JSON.stringify({ format: 'ulmfit-token-store', version: 2 }));
    expect(() => openTokenStore(dir)).toThrow(/store.json: not a ulmfit-token-store version 1 file \(version/);
    fs.writeFileSync(meta, '{');
    expect(() => openTokenStore(dir)).toThrow(/store.json: cannot be read/);
  });
});
