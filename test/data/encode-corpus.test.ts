// The pipeline's middle: documents -> TokenStore (+ labels). Worker threads run the built JavaScript, so
// the tests that start workers use dist/ (npm test builds it first).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { encodeCorpus } from '../../src/data/encode-corpus.js';
import { loadCorpus, loadLabelled } from '../../src/data/load.js';
import { Tokenizer } from '../../src/text/tokenizer.js';
import { Vocabulary } from '../../src/text/vocabulary.js';
import { DIST_INDEX } from '../helpers/child.js';

const built = (await import(DIST_INDEX)) as typeof import('../../src/index.js');

const texts = [
  'The cat sat on the mat. The cat did not move!',
  "It's a dog's life, isn't it? The dog barked.",
  'Cats and dogs: the eternal question. The END.',
  'the cat, the dog, the mat.',
];

function documentsOf(store: { documentCount: number; document(i: number): Int32Array }): number[][] {
  return Array.from({ length: store.documentCount }, (_, i) => [...store.document(i)]);
}

describe('encodeCorpus', () => {
  it('tokenizes, builds the vocabulary from the counts, and stores vocabulary ids', async () => {
    const { store, vocabulary, summary, labels, rulesVersion } = await encodeCorpus(
      texts.map((text) => ({ text })),
      {
        threads: 1,
        vocabularyOptions: { minFreq: 2 },
      },
    );
    const tokenizer = new Tokenizer();
    const tokenized = texts.map((t) => tokenizer.tokenize(t));
    expect(vocabulary.tokens).toEqual(Vocabulary.fromDocuments(tokenized, { minFreq: 2 }).tokens);
    expect(documentsOf(store)).toEqual(tokenized.map((t) => [...vocabulary.encode(t)]));
    expect(labels).toBeNull();
    expect(rulesVersion).toBe(tokenizer.rulesVersion);
    expect(summary).toMatchObject({ documents: 4, tokens: tokenized.flat().length, threads: 1, spilled: false });
    expect(summary.distinctTokens).toBe(new Set(tokenized.flat()).size);
    expect(summary.unknownTokens).toBe(tokenized.flat().filter((t) => !vocabulary.has(t)).length);
  });

  it('gives the same store and vocabulary with worker threads (and this thread), in document order', async () => {
    const many = Array.from({ length: 400 }, (_, i) => ({ text: `${texts[i % 4]} Number ${i} and word${i % 37}.` }));
    const inline = await encodeCorpus(many, { threads: 1 });
    const progress: number[] = [];
    const threaded = await built.encodeCorpus(many, { threads: 3, jobCharacters: 500, onProgress: (p) => progress.push(p.documents) });
    expect(threaded.summary.threads).toBe(3);
    expect(threaded.vocabulary.tokens).toEqual(inline.vocabulary.tokens);
    expect(documentsOf(threaded.store)).toEqual(documentsOf(inline.store));
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.at(-1)).toBe(400);
  });

  it('numericalizes with a fixed vocabulary and counts unknown tokens', async () => {
    const vocabulary = Vocabulary.fromDocuments([new Tokenizer().tokenize(texts[0]!)], { minFreq: 1 });
    const { store, summary } = await encodeCorpus([{ text: 'the cat sat on a sofa' }], { vocabulary, threads: 1 });
    expect(vocabulary.decode(store.document(0))).toEqual(['xxbos', 'the', 'cat', 'sat', 'on', 'xxunk', 'xxunk']);
    expect(summary.unknownTokens).toBe(2);
    expect(summary.distinctTokens).toBeNull();
  });

  it('spills a large store to a mapped file with the same contents', async () => {
    const docs = texts.map((text) => ({ text }));
    const memory = await encodeCorpus(docs, { threads: 1, vocabularyOptions: { minFreq: 1 } });
    const spilled = await encodeCorpus(docs, { threads: 1, vocabularyOptions: { minFreq: 1 }, memoryTokens: 10 });
    expect(spilled.summary.spilled).toBe(true);
    expect(spilled.store.backing).toBe('mapped');
    expect(documentsOf(spilled.store)).toEqual(documentsOf(memory.store));
  });

  it('labels documents: classes sorted or as given; refuses unknown labels, one class, mixed input', async () => {
    const docs = [
      { text: 'good film', label: 'pos' },
      { text: 'bad film', label: 'neg' },
      { text: 'great', label: 'pos' },
    ];
    const sorted = await encodeCorpus(docs, { threads: 1 });
    expect(sorted.classes).toEqual(['neg', 'pos']);
    expect([...sorted.labels!]).toEqual([1, 0, 1]);
    const given = await encodeCorpus(docs, { threads: 1, classes: ['pos', 'neg'] });
    expect([...given.labels!]).toEqual([0, 1, 0]);
    await expect(encodeCorpus(docs, { threads: 1, classes: ['pos', 'mixed'] })).rejects.toThrow(/label "neg" is not one of the classes/);
    await expect(
      encodeCorpus(
        [
          { text: 'a', label: 'x' },
          { text: 'b', label: 'x' },
        ],
        { threads: 1 },
      ),
    ).rejects.toThrow(/at least two classes; found 1: \["x"\]/);
    await expect(
      encodeCorpus(
        [
          { text: 'a', label: 'x', source: 'f.csv', line: 3 },
          { text: 'b', source: 'f.csv', line: 4 },
        ],
        { threads: 1 },
      ),
    ).rejects.toThrow(/f.csv:4: some documents have a label and some do not/);
  });

  it('refuses a corpus with no tokens and a document without text', async () => {
    await expect(encodeCorpus([], { threads: 1 })).rejects.toThrow(/the corpus has no tokens \(0 documents/);
    await expect(encodeCorpus([{ text: 3 } as never], { threads: 1 })).rejects.toThrow(/must have a string "text", got number/);
    await expect(encodeCorpus([], { threads: 0 })).rejects.toThrow(/threads/);
  });

  it('runs function rules on this thread, and module rules on workers', async () => {
    const shout = (t: string): string => t.replace(/cat/g, 'feline');
    const inline = await encodeCorpus([{ text: texts[0]! }], {
      threads: 2,
      tokenizer: { preRules: [shout] },
      vocabularyOptions: { minFreq: 1 },
    });
    expect(inline.summary.threads).toBe(1);
    expect(inline.summary.inlineReason).toMatch(/cannot cross to worker threads/);
    expect(inline.vocabulary.has('feline')).toBe(true);
    expect(inline.rulesVersion).toMatch(/\+custom$/);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-rules-'));
    try {
      const module = path.join(dir, 'rules.mjs');
      fs.writeFileSync(module, "export const preRules = [(t) => t.replace(/cat/g, 'feline')];\n");
      const viaModule = await built.encodeCorpus([{ text: texts[0]! }, { text: texts[1]! }], {
        threads: 2,
        jobCharacters: 1,
        rulesModule: module,
        tokenizer: { rulesName: 'feline' },
        vocabularyOptions: { minFreq: 1 },
      });
      expect(viaModule.summary.threads).toBe(2);
      // The second document went to the worker: the module's rule ran there too.
      expect(viaModule.vocabulary.decode(viaModule.store.document(1))).not.toContain('cat');
      expect(viaModule.vocabulary.has('feline')).toBe(true);
      expect(viaModule.rulesVersion).toMatch(/\+feline$/);
      const bad = path.join(dir, 'bad-rules.mjs'); // another file: a module is imported once per process
      fs.writeFileSync(bad, 'export const preRules = 3;\n');
      await expect(built.encodeCorpus([{ text: 'x' }], { threads: 2, rulesModule: bad })).rejects.toThrow(
        /"preRules" must be an array of functions/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads a corpus end to end: what the reader skipped or repaired is in `read`', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-load-'));
    try {
      const file = path.join(dir, 'corpus.txt');
      fs.writeFileSync(
        file,
        Buffer.concat([Buffer.from('The cat sat.\n\n  \nA bad byte: '), Buffer.from([0xff]), Buffer.from(' here.\nThe cat ran.\n')]),
      );
      const loaded = await loadCorpus({ path: file, format: 'lines' }, { threads: 1, vocabularyOptions: { minFreq: 2 } });
      expect(loaded.read).toMatchObject({ files: 1, documents: 3, emptySkipped: 2, invalidUtf8Documents: 1, invalidUtf8Sequences: 1 });
      expect(loaded.summary.documents).toBe(3);
      expect(loaded.vocabulary.decode(loaded.store.document(2))).toEqual(['xxbos', 'xxmaj', 'the', 'cat', 'xxunk', '.']);
      expect(loaded.vocabulary.tokens.slice(9)).toEqual(['.', 'the', 'cat', 'xxfake', 'xxfake', 'xxfake', 'xxfake']); // xxmaj is a special (id 8)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads a labelled folder set end to end, keeping an empty class folder', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-load-'));
    try {
      for (const [label, files] of Object.entries({ neg: ['awful film', 'dull'], pos: ['lovely', 'superb film'], zzz: [] as string[] })) {
        fs.mkdirSync(path.join(dir, label));
        files.forEach((t, i) => fs.writeFileSync(path.join(dir, label, `${i}.txt`), t));
      }
      const loaded = await loadLabelled({ path: dir, format: 'folders' }, { threads: 1 });
      expect(loaded.classes).toEqual(['neg', 'pos', 'zzz']);
      expect([...loaded.labels!]).toEqual([0, 0, 1, 1]);
      expect(loaded.read.documents).toBe(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
