import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { detokenize } from '../../src/text/detokenize.js';
import { SPECIAL_TOKENS } from '../../src/text/special-tokens.js';
import { Vocabulary } from '../../src/text/vocabulary.js';

describe('Vocabulary', () => {
  it('builds as fastai v2: specials first, by count, ties in first-seen order, minFreq, xxfake to a multiple of 8', () => {
    const docs = [
      ['xxbos', 'b', 'a', 'c', 'a', 'b', 'd', 'xxmaj'],
      ['xxbos', 'c', 'a', 'b', 'd', 'e', 'd', 'f'],
      ['xxbos', 'c', 'a', 'b', 'e', 'd', 'e', 'f'],
    ];
    // Counts: a 4, b 4, c 3, d 4, e 3, f 2; first seen b, a, c, d, e, f.
    const v = Vocabulary.fromDocuments(docs, { minFreq: 3 });
    expect(v.tokens.slice(0, 9)).toEqual(SPECIAL_TOKENS);
    expect(v.tokens.slice(9, 14)).toEqual(['b', 'a', 'd', 'c', 'e']);
    expect(v.size).toBe(16); // 14 -> padded to 16
    expect(v.tokens.slice(14)).toEqual(['xxfake', 'xxfake']);
    expect(v.id('f')).toBe(0);
    expect(v.id('xxfake')).toBe(0); // padding never matches text
    expect([...v.encode(['xxbos', 'a', 'zzz'])]).toEqual([2, 10, 0]);
    expect(v.decode([2, 10, 9])).toEqual(['xxbos', 'a', 'b']);
    expect(() => v.decode([16])).toThrow(/id 16 at position 0 is outside the vocabulary of 16/);
  });

  it('adds a whole 8 when the size already is a multiple of 8, caps at maxVocab, and can skip padding', () => {
    const tokens = ['t1', 't2', 't3', 't4', 't5', 't6', 't7'];
    const counts = [9, 8, 7, 6, 5, 4, 3];
    expect(Vocabulary.fromCounts(tokens, counts).size).toBe(24); // 9 specials + 7 = 16 -> 24
    const capped = Vocabulary.fromCounts(tokens, counts, { maxVocab: 12, padToMultipleOf8: false });
    expect(capped.tokens).toEqual([...SPECIAL_TOKENS, 't1', 't2', 't3']);
    expect(() => Vocabulary.fromCounts(tokens, counts, { minFreq: 0 })).toThrow(/minFreq/);
  });

  it('reads vocab.json (object or array) and names a file that does not parse', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-vocab-'));
    try {
      const good = path.join(dir, 'vocab.json');
      fs.writeFileSync(good, JSON.stringify({ tokens: [...SPECIAL_TOKENS, 'x'], classes: ['ham', 'spam'] }));
      const { vocabulary, classes } = Vocabulary.load(good);
      expect(vocabulary.size).toBe(10);
      expect(classes).toEqual(['ham', 'spam']);
      fs.writeFileSync(good, JSON.stringify(['xxunk', 'a']));
      expect(Vocabulary.load(good).classes).toBeNull();
      const bad = path.join(dir, 'bad.json');
      fs.writeFileSync(bad, '{"tokens": ["a",');
      expect(() => Vocabulary.load(bad)).toThrow(new RegExp(`${bad} is not valid JSON`));
      fs.writeFileSync(bad, '{"tokens": ["a", 3]}');
      expect(() => Vocabulary.load(bad)).toThrow(/bad.json must hold/);
      fs.writeFileSync(bad, '{"tokens": ["a"], "classes": ["only"]}');
      expect(() => Vocabulary.load(bad)).toThrow(/classes/);
      fs.writeFileSync(bad, '["a", "b", "a"]');
      expect(() => Vocabulary.load(bad)).toThrow(/lists "a" twice/);
      expect(() => Vocabulary.load(path.join(dir, 'missing.json'))).toThrow(/cannot read the vocabulary .*missing.json/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('detokenize', () => {
  it('undoes capitals, repetitions and ▁, and drops markers', () => {
    expect(detokenize(['xxbos', 'xxmaj', 'hello', 'xxup', 'big', 'world', 'xxrep', '3', '!', 'xxwrep', '2', 'no', 'a▁b', 'xxpad'])).toBe(
      'Hello BIG world !!! no no a b',
    );
  });
});
