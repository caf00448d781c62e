// importCheckpoint on checkpoints the real torch.save wrote in fastai's layouts (fixtures.py): every tensor of
// the model directory it writes must be the checkpoint's, bit for bit, under our names; what cannot be
// imported (a missing or mis-shaped tensor, an unknown one, an itos of the wrong length) is refused by name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, importCheckpoint, readTorchCheckpoint } from '../../src/index.js';
import { Classifier } from '../../src/model/classifier.js';
import { readModelDirectory } from '../../src/model/directory.js';
import { LanguageModel } from '../../src/model/language-model.js';
import { torchFixtures, type Fixtures } from './fixtures.js';
import { stateDictPickle, zipCheckpoint } from './pickle-builder.js';

let fx: Fixtures | null = null;
let tmp = '';
beforeAll(() => {
  fx = torchFixtures();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-import-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const VOCAB = ['xxunk', 'xxpad', 'xxbos', 'xxfld', 'xxmaj', 'xxup', 'xxrep', 'xxwrep', 'the', '.', 'a'];
const out = (name: string) => path.join(tmp, name);

/** The fixture's tensor that our parameter `name` must equal (fastai's name in that fixture). */
function fixtureName(fixture: string, name: string): string {
  if (fixture === 'lm_v07_legacy.pth') return name.replace(/^0\.rnns\.(\d+)\.weight_hh_l0_raw$/, '0.rnns.$1.module.weight_hh_l0_raw');
  if (fixture === 'learner.pth') return `model.${name}`;
  if (fixture === 'encoder_v2.pth') return name.replace(/^0\./, '');
  return name;
}

/** The expected elements of a fixture's tensor as float32 (int64 counters as numbers). */
function expected(fixture: string, name: string): Float32Array {
  const entry = fx!.manifest.fixtures[fixture]!.tensors[name];
  if (!entry) throw new Error(`${fixture} has no tensor ${name}`);
  const bytes = new Uint8Array(fx!.bytes(entry.bytes)); // aligned copy
  if (entry.dtype === 'int64') return Float32Array.from(new BigInt64Array(bytes.buffer), (v) => Number(v));
  expect(entry.dtype).toBe('float32');
  return new Float32Array(bytes.buffer);
}

function expectSame(actual: Float32Array, want: Float32Array, what: string): void {
  expect(actual.length, what).toBe(want.length);
  expect(Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(Buffer.from(want.buffer)), what).toBe(true);
}

async function checkLanguageModel(fixture: string, dir: string, zeroBias = false): Promise<void> {
  const { model, vocab } = LanguageModel.load(dir);
  try {
    expect(vocab).toEqual(VOCAB);
    expect(model.config).toMatchObject({ vocabSize: 11, embSize: 6, hiddenSize: 5, numLayers: 2, padId: 1 });
    for (const p of model.parameters().parameters) {
      const got = model.getTensor(p.name).data;
      if (p.name === '1.decoder.bias' && zeroBias) expectSame(got, new Float32Array(11), p.name);
      else expectSame(got, expected(fixture, fixtureName(fixture, p.name)), `${fixture}: ${p.name}`);
    }
    const input = Int32Array.from([2, 8, 9, 10, 2, 10, 9, 8]);
    const target = Int32Array.from([8, 9, 10, 0, 10, 9, 8, 0]);
    const r = await model.evalStep({ input, target, batchSize: 2, seqLen: 4 });
    expect(r.tokens).toBe(8);
    expect(Number.isFinite(r.loss)).toBe(true);
  } finally {
    model.dispose();
  }
}

describe('importCheckpoint: fastai language models', () => {
  for (const [fixture, dialect] of [
    ['lm_v2.pth', 'fastai-v2'],
    ['lm_v1.pth', 'fastai-v1'],
    ['lm_v07_legacy.pth', 'fastai-0.7'],
    ['learner.pth', 'fastai-v2'],
  ] as const) {
    it(`${fixture}: every parameter is the checkpoint's, and the model runs`, async ({ skip }) => {
      if (!fx) return skip('no python3 with torch');
      const dir = out(fixture);
      const r = importCheckpoint({ weights: path.join(fx.dir, fixture), vocab: path.join(fx.dir, 'itos_lm.pkl'), out: dir });
      expect(r).toMatchObject({
        kind: 'language-model',
        dialect,
        config: { vocabSize: 11, embSize: 6, hiddenSize: 5, numLayers: 2, padId: 1 },
      });
      if (fixture === 'learner.pth') expect(r.warnings.join('\n')).toMatch(/'opt'/);
      await checkLanguageModel(fixture, dir, fixture === 'lm_v07_legacy.pth');
    });
  }

  it('v1: the weight-dropped copy of weight_hh is ignored in favour of the raw one', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    // The fixture's copy equals the raw weight (dropout off when saved): make it differ, as after training.
    const tensors = [...readTorchCheckpoint(fx.bytes('lm_v1.pth'), 'lm_v1.pth').tensors].map(
      ([n, t]): [string, { shape: number[]; data: Float32Array }] => [
        n,
        { shape: t.shape, data: /module\.weight_hh_l0$/.test(n) ? (t.data as Float32Array).map((v) => v * 2) : (t.data as Float32Array) },
      ],
    );
    expect(tensors.filter(([n]) => /module\.weight_hh_l0$/.test(n))).toHaveLength(2);
    const dir = out('v1-altered');
    expect(importCheckpoint({ weights: writeStateDict(path.join(tmp, 'v1-altered.pth'), tensors), vocab: VOCAB, out: dir }).dialect).toBe(
      'fastai-v1',
    );
    const { model } = LanguageModel.load(dir);
    try {
      for (const l of [0, 1])
        expectSame(
          model.getTensor(`0.rnns.${l}.weight_hh_l0_raw`).data,
          expected('lm_v1.pth', `0.rnns.${l}.weight_hh_l0_raw`),
          `layer ${l}`,
        );
    } finally {
      model.dispose();
    }
  });

  it('takes the tokens as an array, the pad id being where xxpad is, and the direction', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const vocab = ['xxunk', 'xxbos', 'xxmaj', 'xxpad', 'xxfld', ...VOCAB.slice(5)];
    const dir = out('array-vocab');
    const r = importCheckpoint({ weights: path.join(fx.dir, 'lm_v2.pth'), vocab, out: dir, direction: 'backward' });
    expect(r.config.padId).toBe(3);
    const { config, vocab: saved } = readModelDirectory(dir);
    expect(saved).toEqual(vocab);
    expect(config.model.padId).toBe(3);
    expect(config.vocabulary.direction).toBe('backward');
  });

  it('save_encoder: an encoder directory a classifier can take', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const dir = out('encoder');
    const r = importCheckpoint({ weights: path.join(fx.dir, 'encoder_v2.pth'), vocab: VOCAB, out: dir });
    expect(r.kind).toBe('encoder');
    const { model } = Classifier.fromLanguageModel(dir, { numClasses: 2, vocab: VOCAB });
    try {
      for (const p of model.parameters().parameters.filter((q) => q.name.startsWith('0.module.'))) {
        const name = `0.${p.name.slice('0.module.'.length)}`;
        expectSame(model.getTensor(p.name).data, expected('encoder_v2.pth', fixtureName('encoder_v2.pth', name)), p.name);
      }
    } finally {
      model.dispose();
    }
  });
});

describe('importCheckpoint: fastai classifiers', () => {
  it('imports fastai v2 classifier with its head and BatchNorm statistics', async ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const dir = out('classifier');
    const r = importCheckpoint({ weights: path.join(fx.dir, 'classifier_v2.pth'), vocab: VOCAB, out: dir });
    expect(r).toMatchObject({ kind: 'classifier', config: { numClasses: 3, headHidden: [4], numLayers: 2 } });
    const { model, classes } = Classifier.load(dir);
    try {
      expect(classes).toEqual(['class0', 'class1', 'class2']);
      const { parameters, buffers } = model.parameters();
      for (const p of [...parameters, ...buffers]) expectSame(model.getTensor(p.name).data, expected('classifier_v2.pth', p.name), p.name);
      const p = await model.predict({
        tokens: Int32Array.from([2, 8, 9, 10, 2, 10, 9, 8]),
        rows: 2,
        length: 4,
        lengths: Int32Array.from([4, 4]),
      });
      expect(p.classes).toBe(3);
      expect(p.probabilities.every(Number.isFinite)).toBe(true);
    } finally {
      model.dispose();
    }
  });

  it("takes class names, and refuses a count that is not the head's", ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const weights = path.join(fx.dir, 'classifier_v2.pth');
    importCheckpoint({ weights, vocab: VOCAB, out: out('named'), classes: ['neg', 'neu', 'pos'] });
    expect(readModelDirectory(out('named')).classes).toEqual(['neg', 'neu', 'pos']);
    expect(() => importCheckpoint({ weights, vocab: VOCAB, out: out('named2'), classes: ['a', 'b'] })).toThrow(/3 classes, 2 class names/);
  });

  // fastai v1's flat head (1.layers.0 BatchNorm, .2 Linear, .4 BatchNorm, .6 Linear) under our block names.
  const v1Name = (name: string) => {
    const head = /^1\.layers\.(\d+)\.(\d)\.(.+)$/.exec(name);
    if (head) return `1.layers.${Number(head[1]) * 4 + Number(head[2])}.${head[3]}`;
    return name;
  };

  for (const [fixture, fixtureName] of [
    ['classifier.pth', (n: string) => n],
    ['classifier_v1_legacy.pth', v1Name],
  ] as const) {
    it(`${fixture}: a head whose Linear layers have biases (fastai v1), every tensor the checkpoint's`, async ({ skip }) => {
      if (!fx) return skip('no python3 with torch');
      const dir = out(`biased-${fixture}`);
      const r = importCheckpoint({ weights: path.join(fx.dir, fixture), vocab: VOCAB, out: dir });
      expect(r.config).toMatchObject({ headHidden: [4], headBias: true });
      const { model } = Classifier.load(dir);
      try {
        expect(model.config.headBias).toBe(true);
        const { parameters, buffers } = model.parameters();
        expect(parameters.map((p) => p.name)).toContain('1.layers.1.2.bias');
        for (const p of [...parameters, ...buffers])
          expectSame(model.getTensor(p.name).data, expected(fixture, fixtureName(p.name)), p.name);
        const p = await model.predict({
          tokens: Int32Array.from([2, 8, 9, 10, 2, 10, 9, 8]),
          rows: 2,
          length: 4,
          lengths: Int32Array.from([4, 4]),
        });
        expect(p.probabilities.every(Number.isFinite)).toBe(true);
      } finally {
        model.dispose();
      }
    });
  }

  it('refuses a head some of whose Linear layers have a bias and others not, and a flat head out of order', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const all = [...readTorchCheckpoint(fx.bytes('classifier_v1_legacy.pth'), 'classifier_v1_legacy.pth').tensors].map(
      ([n, t]): [string, { shape: number[]; data: Float32Array }] => [
        n,
        { shape: t.shape, data: Float32Array.from(t.data as ArrayLike<number>, Number) },
      ],
    );
    const refused = (tensors: typeof all, name: string) => {
      expect(() =>
        importCheckpoint({ weights: writeStateDict(path.join(tmp, `${name}.pth`), tensors), vocab: VOCAB, out: out(name) }),
      ).toThrow(CheckpointError);
      expect(fs.existsSync(out(name))).toBe(false);
      return () => importCheckpoint({ weights: path.join(tmp, `${name}.pth`), vocab: VOCAB, out: out(name) });
    };
    expect(
      refused(
        all.filter(([n]) => n !== '1.layers.6.bias'),
        'mixed-bias',
      ),
    ).toThrow(
      /"1\.layers\.2\.bias": some of the head's Linear layers have a bias and others not|unexpected tensor "1\.layers\.6\.bias"|missing tensor "1\.layers\.6\.bias"/,
    );
    expect(
      refused(
        all.filter(([n]) => !n.startsWith('1.layers.2.')),
        'two-bn',
      ),
    ).toThrow(/"1\.layers\.4\.running_mean": two BatchNorm layers in a row/);
  });
});

/** Writes `tensors` as a zip-format state dict (one float32 storage each), as torch.save would. */
function writeStateDict(file: string, tensors: [string, { shape: number[]; data: Float32Array }][]): string {
  const storages: Record<string, Uint8Array> = {};
  const pickle = stateDictPickle(
    tensors.map(([name, t], i) => {
      storages[String(i)] = new Uint8Array(Float32Array.from(t.data).buffer);
      const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
      return [name, (p) => p.tensor('FloatStorage', String(i), t.data.length, 0, t.shape, stride)];
    }),
  );
  fs.writeFileSync(file, zipCheckpoint(pickle, storages));
  return file;
}

describe('importCheckpoint refuses what it cannot import, naming it', () => {
  const v2 = () =>
    [...readTorchCheckpoint(fx!.bytes('lm_v2.pth'), 'lm_v2.pth').tensors].map(
      ([name, t]): [string, { shape: number[]; data: Float32Array }] => [name, { shape: t.shape, data: t.data as Float32Array }],
    );
  const refusal = (tensors: [string, { shape: number[]; data: Float32Array }][], vocab: string[] | string = VOCAB): Error => {
    const weights = writeStateDict(path.join(tmp, 'bad.pth'), tensors);
    try {
      importCheckpoint({ weights, vocab, out: out('bad') });
    } catch (err) {
      expect(fs.existsSync(out('bad'))).toBe(false);
      return err as Error;
    }
    throw new Error('imported');
  };

  it('reads the rebuilt checkpoint when nothing is wrong with it', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const weights = writeStateDict(path.join(tmp, 'good.pth'), v2());
    expect(importCheckpoint({ weights, vocab: VOCAB, out: out('good') }).kind).toBe('language-model');
  });

  it('a missing tensor', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const err = refusal(v2().filter(([n]) => n !== '0.rnns.1.module.bias_hh_l0'));
    expect(err).toBeInstanceOf(CheckpointError);
    expect(err.message).toMatch(/missing tensor "0\.rnns\.1\.module\.bias_hh_l0"/);
    expect(refusal(v2().filter(([n]) => n !== '1.decoder.bias')).message).toMatch(/missing tensor "1\.decoder\.bias"/);
  });

  it('a tensor of the wrong shape', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const tensors = v2().map(([n, t]): [string, { shape: number[]; data: Float32Array }] =>
      n === '0.rnns.0.module.weight_ih_l0' ? [n, { shape: [20, 5], data: t.data.subarray(0, 100) }] : [n, t],
    );
    expect(refusal(tensors).message).toMatch(/"0\.rnns\.0\.module\.weight_ih_l0" has shape \[20, 5\], .* needs \[20, 6\]/);
  });

  it('an unknown tensor', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const err = refusal([...v2(), ['0.rnns.1.layers.0.linear.weight', { shape: [2], data: new Float32Array(2) }]]);
    expect(err.message).toMatch(/unexpected tensor "0\.rnns\.1\.layers\.0\.linear\.weight"/);
  });

  it('a decoder not tied to the embedding', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const tensors = v2().map(([n, t]): [string, { shape: number[]; data: Float32Array }] =>
      n === '1.decoder.weight' ? [n, { shape: t.shape, data: t.data.map((v) => v + 1) }] : [n, t],
    );
    expect(refusal(tensors).message).toMatch(/"1\.decoder\.weight" differs from "0\.encoder\.weight"/);
  });

  it("an itos whose length is not the embedding's rows", ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const itos = path.join(fx.dir, 'itos.pkl');
    const err = refusal(v2(), itos);
    expect(err.message).toBe(`${itos}: holds 10 tokens, but the embedding of ${path.join(tmp, 'bad.pth')} has 11 rows`);
    expect(refusal(v2(), VOCAB.slice(1)).message).toMatch(/holds 10 tokens/);
  });

  it('options, checked by zod', () => {
    expect(() => importCheckpoint({ weights: '', out: 'x' })).toThrow(/weights/);
    expect(() => importCheckpoint({ weights: 'a.pth', out: 'x', direction: 'sideways' as 'forward' })).toThrow(/direction/);
  });
});
