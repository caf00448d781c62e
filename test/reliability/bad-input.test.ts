// Bad input through the public API: malformed options, ids outside the vocabulary, empty batches, labels
// outside the class list, mismatched lengths, model directories of another version or with a file missing,
// paths that are not UTF-8. Each must be refused with an error that names the problem (the field, the file,
// the row), before LibTorch reads anything; none may crash the process or hang. (The CLI's side is in
// test/reliability/bad-input-cli.test.ts.)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  Classifier,
  dispose,
  evaluate,
  exportCheckpoint,
  fineTuneLanguageModel,
  generate,
  groupLrs,
  importCheckpoint,
  LanguageModel,
  LmBatches,
  load,
  loadCorpus,
  loadLabelled,
  ModelDirectoryError,
  OptionsError,
  predict,
  pretrainLanguageModel,
  setNumThreads,
  stlr,
  Tokenizer,
  trainClassifier,
  Vocabulary,
  type AnyClassifier,
  type AnyLanguageModel,
} from '../../src/index.js';

const VOCAB = ['xxunk', 'xxpad', 'xxbos', 'xxeos', 'xxfld', 'xxrep', 'xxwrep', 'xxup', 'xxmaj', 'the', 'film', 'was', 'good', 'bad', '.'];
const tiny = { vocabSize: VOCAB.length, embSize: 4, hiddenSize: 6, numLayers: 2, padId: 1 };
let tmp = '';
let lmDir = '';
let clasDir = '';
let lm: AnyLanguageModel;
let clas: AnyClassifier;

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-bad-input-'));
  lmDir = path.join(tmp, 'lm');
  clasDir = path.join(tmp, 'clas');
  const m = new LanguageModel(tiny);
  m.save(lmDir, { vocab: VOCAB });
  m.dispose();
  const c = new Classifier({ ...tiny, numClasses: 2, headHidden: [3] });
  c.save(clasDir, { vocab: VOCAB, classes: ['neg', 'pos'] });
  c.dispose();
  lm = load(lmDir) as AnyLanguageModel;
  clas = load(clasDir) as AnyClassifier;
});
afterAll(() => {
  dispose(lm);
  dispose(clas);
  fs.rmSync(tmp, { recursive: true, force: true });
});

const texts = ['the film was good .', 'the film was bad .', 'good film .', 'bad film .'];
const labelled = texts.map((text, i) => ({ text, label: i % 2 ? 'neg' : 'pos' }));

describe('malformed options: an OptionsError naming the field', () => {
  const cases: [string, () => unknown, RegExp][] = [
    ['LanguageModel config', () => new LanguageModel({ ...tiny, embSize: 0 }), /embSize/],
    ['LanguageModel config, a field that does not exist', () => new LanguageModel({ ...tiny, hidenSize: 5 } as never), /hidenSize/],
    ['Classifier config', () => new Classifier({ ...tiny, numClasses: 2, seqLen: -1 }), /seqLen/],
    ['LmBatches', () => new LmBatches(null as never, { batchSize: 0, seqLen: 4 }), /batchSize/],
    ['Tokenizer', () => new Tokenizer({ lang: 'fr' } as never), /lang|unrecognized/i],
    ['Vocabulary', () => Vocabulary.fromDocuments([['a']], { minFreq: -1 }), /minFreq/],
    ['groupLrs', () => groupLrs({ top: -1 } as never, 3), /top/],
    ['stlr', () => stlr({ cutFrac: 2 }), /cutFrac/],
    ['setNumThreads', () => setNumThreads(0), /thread/i],
    ['importCheckpoint', () => importCheckpoint({ weights: '', out: 'x' } as never), /weights/],
    ['exportCheckpoint', () => exportCheckpoint({ from: lmDir } as never), /out/],
  ];
  for (const [what, call, message] of cases) {
    it(what, () => {
      expect(call).toThrow(message);
    });
  }

  const asyncCases: [string, () => Promise<unknown>, RegExp][] = [
    ['pretrainLanguageModel', () => pretrainLanguageModel(texts, { batchSize: 0 }), /batchSize/],
    ['pretrainLanguageModel, an unknown option', () => pretrainLanguageModel(texts, { epoch: 3 } as never), /epoch/],
    ['fineTuneLanguageModel', () => fineTuneLanguageModel(lmDir, texts, { lr: -1 }), /lr/],
    ['trainClassifier', () => trainClassifier(lmDir, labelled, { epochs: 0 } as never), /epochs/],
    ['trainClassifier fit options', () => trainClassifier(lmDir, labelled, { fit: { clip: -1 } } as never), /clip/],
    ['predict', () => predict(clas, texts, { batchSize: 0 }), /batchSize/],
    ['generate', () => generate(lm, 'the', { words: -2 } as never), /words/],
    ['loadCorpus', () => loadCorpus({ path: 42 } as never), /path/],
    ['loadLabelled', () => loadLabelled({ path: tmp, format: 'xml' } as never), /format/],
  ];
  for (const [what, call, message] of asyncCases) {
    it(what, async () => {
      const err = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(Error);
      expect((err as Error).message).toMatch(message);
    });
  }

  it('the errors are OptionsError instances, with the field path in `issues`', async () => {
    const err = await pretrainLanguageModel(texts, { batchSize: 0 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OptionsError);
  });
});

describe('token ids, labels and lengths: refused before the engine reads them', () => {
  it('ids >= the vocabulary size or negative, in every engine entry point', async () => {
    const m = new LanguageModel(tiny);
    try {
      const groups = { groups: Array.from({ length: 3 }, () => ({ lr: 0.1 })) };
      const batch = (id: number) => ({
        input: Int32Array.from([2, 9, id, 10]),
        target: Int32Array.from([9, 10, 11, 12]),
        batchSize: 1,
        seqLen: 4,
      });
      await expect(m.trainStep(batch(-1), groups)).rejects.toThrow('input[2] = -1 is outside the vocabulary [0, 15)');
      await expect(m.trainStep(batch(15), groups)).rejects.toThrow('input[2] = 15 is outside the vocabulary [0, 15)');
      await expect(m.evalStep({ ...batch(9), target: Int32Array.from([9, 10, 99, 12]) })).rejects.toThrow(
        /target\[2\] = 99 is outside the vocabulary/,
      );
      await expect(m.nextTokenLogits(Int32Array.from([2, -7]))).rejects.toThrow(/-7 is outside the vocabulary/);
    } finally {
      m.dispose();
    }
    const c = new Classifier({ ...tiny, numClasses: 2 });
    try {
      const b = {
        tokens: Int32Array.from([2, 9, 10, 2, 9, -3]),
        rows: 2,
        length: 3,
        lengths: Int32Array.from([3, 3]),
        labels: Int32Array.from([0, 1]),
      };
      await expect(c.predict(b)).rejects.toThrow(/tokens\[5\] = -3 is outside the vocabulary/);
    } finally {
      c.dispose();
    }
  });

  it('empty input: an empty batch, no texts, an empty prompt', async () => {
    const m = new LanguageModel(tiny);
    try {
      await expect(m.evalStep({ input: new Int32Array(0), target: new Int32Array(0), batchSize: 0, seqLen: 4 })).rejects.toThrow(
        /batchSize/,
      );
      await expect(m.nextTokenLogits(new Int32Array(0))).rejects.toThrow(/holds 0 ids/);
    } finally {
      m.dispose();
    }
    expect(await predict(clas, [])).toEqual([]);
    await expect(pretrainLanguageModel([], { epochs: 1 })).rejects.toThrow(/no documents|empty/i);
    await expect(trainClassifier(lmDir, [], { epochs: 1 } as never)).rejects.toThrow(/no documents|empty|at least/i);
  });

  it('labels outside the class list, and mismatched lengths', async () => {
    await expect(trainClassifier(lmDir, labelled, { classes: ['pos', 'other'], epochs: 1 } as never)).rejects.toThrow(
      /label "neg".*not.*class/i,
    );
    await expect(evaluate(clas, [{ text: 'good', label: 'meh' }])).rejects.toThrow(/"meh"/);
    const c = new Classifier({ ...tiny, numClasses: 2 });
    try {
      const b = {
        tokens: Int32Array.from([2, 9, 10, 2, 9, 10]),
        rows: 2,
        length: 3,
        lengths: Int32Array.from([3]),
        labels: Int32Array.from([0, 1]),
      };
      await expect(c.predict(b)).rejects.toThrow(/lengths must hold one length per row/);
      await expect(c.predict({ ...b, lengths: Int32Array.from([3, 4]) })).rejects.toThrow(/lengths\[1\] = 4/);
      await expect(
        c.trainStep(
          { ...b, lengths: Int32Array.from([3, 3]), labels: Int32Array.from([0]) },
          { groups: Array.from({ length: 4 }, () => ({ lr: 0.1 })) },
        ),
      ).rejects.toThrow(/labels must hold one class id per row/);
    } finally {
      c.dispose();
    }
    const m = new LanguageModel(tiny);
    try {
      await expect(
        m.evalStep({ input: Int32Array.from([2, 9, 10, 11]), target: Int32Array.from([9, 10]), batchSize: 1, seqLen: 4 }),
      ).rejects.toThrow(/target/);
    } finally {
      m.dispose();
    }
  });
});

describe('model directories: another format version, a file missing, not ours', () => {
  const copy = (name: string) => {
    const dir = path.join(tmp, name);
    fs.cpSync(lmDir, dir, { recursive: true });
    return dir;
  };

  it('a directory from another format version', () => {
    const dir = copy('v2');
    const configFile = path.join(dir, 'config.json');
    fs.writeFileSync(configFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(configFile, 'utf8')), formatVersion: 2 }));
    expect(() => load(dir)).toThrow(ModelDirectoryError);
    expect(() => load(dir)).toThrow(`${configFile}: format version 2; this ulmfit reads version 1`);
    expect(() => exportCheckpoint({ from: dir, out: path.join(tmp, 'v2.safetensors') })).toThrow(/format version 2/);
  });

  it('a missing file, named', () => {
    for (const file of ['weights.safetensors', 'vocab.json', 'config.json']) {
      const dir = copy(`missing-${file}`);
      fs.rmSync(path.join(dir, file));
      expect(() => load(dir), file).toThrow(path.join(dir, file));
    }
  });

  it('a file instead of a directory, and a directory of something else', async () => {
    fs.writeFileSync(path.join(tmp, 'plain.txt'), 'hello');
    expect(() => load(path.join(tmp, 'plain.txt'))).toThrow(/plain\.txt/);
    await expect(fineTuneLanguageModel(clasDir, texts)).rejects.toThrow(
      `fineTuneLanguageModel: ${clasDir} is a classifier, not a language model`,
    );
  });
});

describe('paths that are not UTF-8', () => {
  it('a corpus directory holding a file whose name is not UTF-8 is refused, naming the directory and the bytes', async () => {
    const dir = path.join(tmp, 'latin1');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'plain.txt'), 'the film was good .');
    // "caf\xe9.txt" in Latin-1: not valid UTF-8, so Node cannot give the name back as it is on disk.
    const name = Buffer.concat([Buffer.from(dir + path.sep), Buffer.from([0x63, 0x61, 0x66, 0xe9]), Buffer.from('.txt')]);
    fs.writeFileSync(name, 'the film was bad .');
    await expect(loadCorpus({ path: dir })).rejects.toThrow(`${dir}: holds a file name that is not valid UTF-8 ("caf\\xe9.txt")`);
    const labels = path.join(tmp, 'labels');
    fs.mkdirSync(path.join(labels, 'pos'), { recursive: true });
    fs.writeFileSync(path.join(labels, 'pos', 'a.txt'), 'good film');
    fs.mkdirSync(path.join(labels, 'neg'));
    fs.writeFileSync(
      Buffer.concat([Buffer.from(path.join(labels, 'neg') + path.sep), Buffer.from([0xe9]), Buffer.from('.txt')]),
      'bad film',
    );
    await expect(loadLabelled({ path: labels, format: 'folders' })).rejects.toThrow(
      `${path.join(labels, 'neg')}: holds a file name that is not valid UTF-8`,
    );
  });

  it('a model directory path that does not exist, with bytes that are not UTF-8, is named in the error', () => {
    const odd = path.join(tmp, 'mod\ufffdel');
    expect(() => load(odd)).toThrow(odd);
  });
});

describe('readers: malformed files name the file and line', () => {
  it('a CSV row without the label column, a JSONL line that is not JSON', async () => {
    const csv = path.join(tmp, 'bad.csv');
    fs.writeFileSync(csv, 'label,text\npos,good film\nneg\n');
    await expect(loadLabelled({ path: csv })).rejects.toThrow(`${csv}:3: ragged row: 1 fields where the header has 2`);
    const jsonl = path.join(tmp, 'bad.jsonl');
    fs.writeFileSync(jsonl, '{"text": "good"}\n{"text": \n');
    await expect(loadCorpus({ path: jsonl })).rejects.toThrow(`${jsonl}:2: malformed JSON`);
  });
});
