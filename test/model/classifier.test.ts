import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  Classifier,
  classifierBatches,
  info,
  LanguageModel,
  restoreOrder,
  setSeed,
  TokenStore,
  type ClassifierBatch,
  type ClassifierConfigInput,
} from '../../src/index.js';
import { expectClose } from '../helpers/close.js';

const small: ClassifierConfigInput = { vocabSize: 40, numClasses: 3, embSize: 8, hiddenSize: 10, numLayers: 3, seqLen: 4, maxLen: 10 };
// Every dropout off (headDropouts are not scaled by dropMult, as in fastai).
const noDropout = { dropMult: 0, headDropouts: [0] };
const groups = (lr: number) => Array.from({ length: 5 }, () => ({ lr, weightDecay: 0 }));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-clas-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Documents of the given lengths, token ids from a fixed pattern (never the pad id 1).
function documents(lengths: number[], seed = 0): number[][] {
  return lengths.map((n, d) => Array.from({ length: n }, (_, i) => 2 + ((d * 13 + i * 7 + seed * 5 + ((i * i) % 11)) % 38)));
}

function batchesOf(docs: number[][], labels: number[], batchSize: number, seqLen = 4): ClassifierBatch[] {
  const store = TokenStore.fromDocuments(docs);
  return [...classifierBatches(store, Int32Array.from(labels), { batchSize, seqLen, order: 'descending' })];
}

async function predictAll(model: Classifier, batches: ClassifierBatch[], count: number): Promise<Float32Array[]> {
  const perBatch: Float32Array[][] = [];
  for (const b of batches) {
    const p = await model.predict(b);
    perBatch.push(Array.from({ length: p.rows }, (_, r) => p.probabilities.slice(r * p.classes, (r + 1) * p.classes)));
  }
  return restoreOrder(batches, perBatch, count);
}

describe('classifier structure', () => {
  it("names tensors with fastai's classifier keys and splits them into [embedding, rnn0, rnn1, rnn2, head]", () => {
    const model = new Classifier(small);
    const { parameters, buffers, aliases } = model.parameters();
    expect(parameters.map((p) => p.name)).toEqual([
      '0.module.encoder.weight',
      ...[0, 1, 2].flatMap((l) => [
        `0.module.rnns.${l}.weight_hh_l0_raw`,
        `0.module.rnns.${l}.module.weight_ih_l0`,
        `0.module.rnns.${l}.module.bias_ih_l0`,
        `0.module.rnns.${l}.module.bias_hh_l0`,
      ]),
      ...[0, 1].flatMap((k) => [`1.layers.${k}.0.weight`, `1.layers.${k}.0.bias`, `1.layers.${k}.2.weight`]),
    ]);
    expect(buffers.map((b) => b.name)).toEqual(
      [0, 1].flatMap((k) => [`1.layers.${k}.0.running_mean`, `1.layers.${k}.0.running_var`, `1.layers.${k}.0.num_batches_tracked`]),
    );
    expect(aliases).toEqual({ '0.module.encoder_dp.emb.weight': '0.module.encoder.weight' });
    // BatchNorm weights and biases are exempt from weight decay; the Linear layers have no bias.
    expect(parameters.filter((p) => !p.decay).map((p) => p.name)).toEqual([
      '1.layers.0.0.weight',
      '1.layers.0.0.bias',
      '1.layers.1.0.weight',
      '1.layers.1.0.bias',
    ]);
    const byName = new Map(parameters.map((p) => [p.name, p]));
    expect(byName.get('1.layers.0.2.weight')!.shape).toEqual([50, 24]); // 3 x emb pooled features -> 50
    expect(byName.get('1.layers.1.2.weight')!.shape).toEqual([3, 50]);
    expect(model.groups().map((g) => g.name)).toEqual(['embedding', 'rnn0', 'rnn1', 'rnn2', 'head']);
    expect(model.getTensor('1.layers.0.0.running_var').data.every((v) => v === 1)).toBe(true);
    model.dispose();
  });

  it('validates its config: fastai classifier defaults, Infinity for whole documents, mismatched head lists refused', () => {
    const model = new Classifier({ vocabSize: 10, numClasses: 2, embSize: 4, hiddenSize: 4, numLayers: 1, maxLen: Infinity });
    expect(model.config).toMatchObject({
      dropMult: 0.5,
      embedP: 0.05,
      inputP: 0.4,
      weightP: 0.5,
      hiddenP: 0.3,
      outputP: 0.4,
      headHidden: [50],
      headDropouts: [0.1],
      seqLen: 72,
      maxLen: Infinity,
    });
    model.dispose();
    expect(() => new Classifier({ ...small, headHidden: [20, 10] })).toThrow(
      /headDropouts: headDropouts needs one probability per headHidden entry/,
    );
    expect(() => new Classifier({ ...small, numClasses: 1 })).toThrow(/numClasses/);
  });
});

describe("a head with Linear biases (fastai v1's)", () => {
  it('has a bias per Linear, exempt from weight decay, trained, and saved and loaded with the model', async () => {
    setSeed(4);
    const model = new Classifier({ ...small, ...noDropout, headBias: true });
    const { parameters } = model.parameters();
    expect(parameters.filter((p) => p.name.endsWith('.2.bias')).map((p) => [p.name, p.shape, p.decay])).toEqual([
      ['1.layers.0.2.bias', [50], false],
      ['1.layers.1.2.bias', [3], false],
    ]);
    const before = model.getTensor('1.layers.1.2.bias').data;
    const [batch] = batchesOf(documents([9, 7, 5]), [0, 1, 2], 3);
    expect((await model.trainStep(batch!, { groups: groups(1e-2) })).skipped).toBe(false);
    const after = model.getTensor('1.layers.1.2.bias').data;
    expect(after).not.toEqual(before);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-head-bias-'));
    try {
      model.save(dir, { vocab: Array.from({ length: 40 }, (_, i) => `t${i}`), classes: ['a', 'b', 'c'] });
      const loaded = Classifier.load(dir).model;
      expect(loaded.config.headBias).toBe(true);
      expect(loaded.getTensor('1.layers.1.2.bias').data).toEqual(after);
      expect((await loaded.predict(batch!)).probabilities).toEqual((await model.predict(batch!)).probabilities);
      loaded.dispose();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      model.dispose();
    }
  });
});

describe('classifier steps', () => {
  it('learns: the loss on a repeated batch falls, and so does the evaluation loss', async () => {
    setSeed(3);
    const model = new Classifier({ ...small, ...noDropout });
    const docs = documents([23, 17, 12, 9, 5, 3]);
    const labels = [0, 1, 2, 0, 1, 2];
    const [batch] = batchesOf(docs, labels, 6);
    const before = await model.evalStep(batch!);
    const first = await model.trainStep(batch!, { groups: groups(1e-2) });
    let last = first;
    for (let i = 0; i < 40; i++) last = await model.trainStep(batch!, { groups: groups(1e-2) });
    expect(last.skipped).toBe(false);
    expect(last.loss).toBeLessThan(first.loss * 0.5);
    expect(last.correct).toBe(6);
    // Steps at lr 0 let the running BatchNorm statistics (momentum 0.1) catch up with the trained weights.
    for (let i = 0; i < 40; i++) await model.trainStep(batch!, { groups: groups(0) });
    const after = await model.evalStep(batch!);
    expect(after.count).toBe(6);
    expect(after.loss).toBeLessThan(before.loss * 0.5);
    expect(after.correct).toBeGreaterThanOrEqual(5);
    // confusion[label][predicted]: rows sum to each label's count, the diagonal to the correct ones.
    expect(after.confusion.map((row) => row.reduce((a, b) => a + b, 0))).toEqual([2, 2, 2]);
    expect(after.confusion.reduce((sum, row, i) => sum + row[i]!, 0)).toBe(after.correct);
    const p = await model.predict(batch!);
    expect(p.rows).toBe(6);
    expect(p.classes).toBe(3);
    for (let r = 0; r < 6; r++)
      expectClose([p.probabilities.slice(r * 3, r * 3 + 3).reduce((a, b) => a + b, 0)], [1], `row ${r} sums to 1`);
    model.dispose();
  });

  it('trains only the unfrozen groups: freezeTo(4) leaves the encoder without gradients', async () => {
    const model = new Classifier(small);
    const [batch] = batchesOf(documents([9, 7, 6]), [0, 1, 2], 3);
    model.freezeTo(4);
    const before = model.getTensor('0.module.rnns.2.weight_hh_l0_raw').data;
    await model.trainStep(batch!, { groups: groups(1e-2) });
    expect(model.getGrad('0.module.encoder.weight')).toBeNull();
    expect(model.getGrad('0.module.rnns.2.module.weight_ih_l0')).toBeNull();
    expect(model.getGrad('1.layers.1.2.weight')).not.toBeNull();
    expect(model.getTensor('0.module.rnns.2.weight_hh_l0_raw').data).toEqual(before);
    expect(model.groups().map((g) => g.trainable)).toEqual([false, false, false, false, true]);
    model.freezeTo(0);
    await model.trainStep(batch!, { groups: groups(1e-2) });
    expect(model.getGrad('0.module.encoder.weight')).not.toBeNull();
    model.dispose();
  });

  it('predicts a document the same whatever its batch mates, documents longer than maxLen included', async () => {
    setSeed(5);
    const model = new Classifier({ ...small, ...noDropout });
    // A few training steps give the BatchNorm statistics something to hold.
    const docs = documents([31, 3, 12, 25, 8, 11, 10, 4, 17, 2], 1);
    const labels = docs.map((_, i) => i % 3);
    for (const b of batchesOf(docs, labels, 5)) await model.trainStep(b, { groups: groups(1e-2) });
    const together = await predictAll(model, batchesOf(docs, labels, docs.length), docs.length);
    const alone = await predictAll(model, batchesOf(docs, labels, 1), docs.length);
    const inThrees = await predictAll(model, batchesOf(docs, labels, 3), docs.length);
    for (let d = 0; d < docs.length; d++) {
      expect(Math.max(...together[d]!.map((v, c) => Math.abs(v - alone[d]![c]!)))).toBeLessThan(1e-5);
      expect(Math.max(...inThrees[d]!.map((v, c) => Math.abs(v - alone[d]![c]!)))).toBeLessThan(1e-5);
    }
    model.dispose();
  });

  it('takes rows in any order (they need not be sorted by length)', async () => {
    const model = new Classifier({ ...small, ...noDropout });
    const [b] = batchesOf(documents([14, 3, 9, 6]), [0, 1, 2, 0], 4);
    const sorted = await model.predict(b!);
    const order = [2, 0, 3, 1];
    const L = b!.length;
    const shuffled = {
      tokens: Int32Array.from(order.flatMap((r) => [...b!.tokens.subarray(r * L, (r + 1) * L)])),
      rows: 4,
      length: L,
      lengths: Int32Array.from(order, (r) => b!.lengths[r]!),
    };
    const p = await model.predict(shuffled);
    order.forEach((r, i) => expectClose(p.probabilities.slice(i * 3, i * 3 + 3), sorted.probabilities.slice(r * 3, r * 3 + 3), `row ${r}`));
    model.dispose();
  });

  it('pools the last maxLen tokens of each document; maxLen Infinity pools all of them', async () => {
    setSeed(6);
    const windowed = new Classifier({ ...small, ...noDropout, maxLen: 10 });
    const whole = new Classifier({ ...small, ...noDropout, maxLen: Infinity });
    for (const p of windowed.parameters().parameters) whole.setTensor(p.name, windowed.getTensor(p.name).data);
    const [short] = batchesOf(documents([10, 7]), [0, 1], 2);
    const [long] = batchesOf(documents([30, 21]), [0, 1], 2);
    expectClose((await whole.predict(short!)).probabilities, (await windowed.predict(short!)).probabilities, 'documents within maxLen');
    const a = (await whole.predict(long!)).probabilities;
    const b = (await windowed.predict(long!)).probabilities;
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-4);
    windowed.dispose();
    whole.dispose();
  });

  it('skips a non-finite update: parameters and BatchNorm statistics stay as they were', async () => {
    const model = new Classifier(small);
    const [batch] = batchesOf(documents([9, 7, 6]), [0, 1, 2], 3);
    await model.trainStep(batch!, { groups: groups(1e-2) });
    const w = model.getTensor('1.layers.1.2.weight');
    const poisoned = Float32Array.from(w.data);
    poisoned[0] = NaN;
    model.setTensor('1.layers.1.2.weight', poisoned);
    const names = [
      '1.layers.0.0.running_mean',
      '1.layers.0.0.running_var',
      '1.layers.0.0.num_batches_tracked',
      '0.module.rnns.1.module.weight_ih_l0',
    ];
    const before = names.map((n) => model.getTensor(n).data);
    const r = await model.trainStep(batch!, { groups: groups(1e-2) });
    expect(r.skipped).toBe(true);
    names.forEach((n, i) => expect(model.getTensor(n).data, n).toEqual(before[i]));
    expect(model.getTensor('1.layers.0.0.num_batches_tracked').data[0]).toBe(1);
    model.dispose();
  });

  it('refuses bad batches with errors that name the problem', async () => {
    const model = new Classifier(small);
    const [b] = batchesOf(documents([9, 5]), [0, 1], 2);
    const g = { groups: groups(1e-3) };
    const broken = { ...b!, tokens: Int32Array.from(b!.tokens) };
    broken.tokens[b!.length + 1] = 7; // row 1 (5 tokens in a batch of 9, chunks of 4) starts at 4: position 1 is padding
    await expect(model.predict(broken)).rejects.toThrow(
      /tokens row 1, position 1 holds id 7 where the layout puts padding.*text is at \[4, 9\)/,
    );
    await expect(model.trainStep({ ...b!, labels: Int32Array.from([0, 3]) }, g)).rejects.toThrow(
      /labels\[1\] = 3 is not a class id \[0, 3\)/,
    );
    const [one] = batchesOf(documents([9]), [0], 1);
    await expect(model.trainStep(one!, g)).rejects.toThrow(/at least 2 documents/);
    await expect(model.trainStep(b!, { ...g, classWeights: [1, 1] })).rejects.toThrow(/classWeights has 2 weights for 3 classes/);
    await expect(model.trainStep({ ...b!, labels: null }, g)).rejects.toThrow(/no labels/);
    await expect(model.predict({ ...b!, lengths: Int32Array.from([9, 0]) })).rejects.toThrow(/lengths\[1\] = 0/);
    const outside = { ...b!, tokens: Int32Array.from(b!.tokens) };
    outside.tokens[0] = 40;
    await expect(model.predict(outside)).rejects.toThrow(/tokens\[0\] = 40 is outside the vocabulary \[0, 40\)/);
    // One call in flight per model.
    const running = model.predict(b!);
    await expect(model.predict(b!)).rejects.toThrow(/a step is in flight/);
    await running;
    model.dispose();
  });

  it('weights the cross-entropy per class', async () => {
    const model = new Classifier({ ...small, ...noDropout });
    const [b] = batchesOf(documents([9, 7, 6]), [0, 1, 2], 3);
    const plain = await model.trainStep(b!, { groups: groups(0) });
    const same = await model.trainStep(b!, { groups: groups(0), classWeights: [2, 2, 2] });
    const skewed = await model.trainStep(b!, { groups: groups(0), classWeights: [1, 0, 0] });
    expectClose([same.loss], [plain.loss], 'equal weights give the plain mean');
    expect(Math.abs(skewed.loss - plain.loss)).toBeGreaterThan(1e-4);
    model.dispose();
  });

  it('stays close to fp32 in bf16', async () => {
    const fp32 = new Classifier({ ...small, ...noDropout });
    const bf16 = new Classifier({ ...small, ...noDropout }, { precision: 'bf16' });
    for (const p of fp32.parameters().parameters) bf16.setTensor(p.name, fp32.getTensor(p.name).data);
    const [b] = batchesOf(documents([23, 17, 9]), [0, 1, 2], 3);
    const a = (await fp32.predict(b!)).probabilities;
    const c = (await bf16.predict(b!)).probabilities;
    expect(Math.max(...a.map((v, i) => Math.abs(v - c[i]!)))).toBeLessThan(0.02);
    const r = await bf16.trainStep(b!, { groups: groups(1e-3) });
    expect(Number.isFinite(r.loss)).toBe(true);
    fp32.dispose();
    bf16.dispose();
  });
});

describe('classifier devices', () => {
  it('names a CUDA device this LibTorch cannot use, and on a GPU predicts as the CPU does', async () => {
    if (!info().cuda.built || info().cuda.deviceCount === 0) {
      expect(() => new Classifier(small, { device: 'cuda' })).toThrow(/device "cuda": /);
      return;
    }
    const cpu = new Classifier({ ...small, ...noDropout });
    const gpu = new Classifier({ ...small, ...noDropout }, { device: 'cuda:0' });
    for (const p of cpu.parameters().parameters) gpu.setTensor(p.name, cpu.getTensor(p.name).data);
    const [b] = batchesOf(documents([23, 17, 9]), [0, 1, 2], 3);
    const a = (await cpu.predict(b!)).probabilities;
    const g = (await gpu.predict(b!)).probabilities;
    expect(Math.max(...a.map((v, i) => Math.abs(v - g[i]!)))).toBeLessThan(1e-4);
    expect(Number.isFinite((await gpu.trainStep(b!, { groups: groups(1e-3) })).loss)).toBe(true);
    cpu.dispose();
    gpu.dispose();
  });
});

describe('classifier model directory', () => {
  it('saves and loads weights, BatchNorm statistics, classes and a whole-document maxLen', async () => {
    const model = new Classifier({ ...small, maxLen: Infinity });
    const [b] = batchesOf(documents([9, 7, 6]), [0, 1, 2], 3);
    await model.trainStep(b!, { groups: groups(1e-2) });
    const vocab = Array.from({ length: 40 }, (_, i) => `t${i}`);
    const dir = path.join(tmp, 'clas');
    model.save(dir, { vocab, classes: ['neg', 'neu', 'pos'], optimizer: true });
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config.kind).toBe('awd-lstm-classifier');
    expect(config.model.maxLen).toBeNull();
    const loaded = Classifier.load(dir);
    expect(loaded.classes).toEqual(['neg', 'neu', 'pos']);
    expect(loaded.model.config.maxLen).toBe(Infinity);
    for (const p of [...model.parameters().parameters, ...model.parameters().buffers]) {
      expect(loaded.model.getTensor(p.name).data, p.name).toEqual(model.getTensor(p.name).data);
    }
    expect((await loaded.model.predict(b!)).probabilities).toEqual((await model.predict(b!)).probabilities);
    expect(() => LanguageModel.load(dir)).toThrow(/kind is "awd-lstm-classifier", not a language model/);
    expect(() => model.save(path.join(tmp, 'bad'), { vocab, classes: ['a', 'b'] })).toThrow(/2 class names for 3 classes/);
    model.dispose();
    loaded.model.dispose();
  });

  it("starts from a language model's encoder, and names a mismatch in sizes or vocabulary", () => {
    const lm = new LanguageModel({ vocabSize: 40, embSize: 8, hiddenSize: 10, numLayers: 3 });
    const vocab = Array.from({ length: 40 }, (_, i) => `w${i}`);
    const lmDir = path.join(tmp, 'lm');
    lm.save(lmDir, { vocab });
    const { model, vocab: got } = Classifier.fromLanguageModel(lmDir, { numClasses: 2, config: { seqLen: 8 }, vocab });
    expect(got).toEqual(vocab);
    expect(model.config).toMatchObject({ vocabSize: 40, embSize: 8, hiddenSize: 10, numLayers: 3, numClasses: 2, seqLen: 8 });
    expect(model.getTensor('0.module.encoder.weight').data).toEqual(lm.getTensor('0.encoder.weight').data);
    for (let l = 0; l < 3; l++) {
      for (const part of ['weight_hh_l0_raw', 'module.weight_ih_l0', 'module.bias_ih_l0', 'module.bias_hh_l0']) {
        expect(model.getTensor(`0.module.rnns.${l}.${part}`).data).toEqual(lm.getTensor(`0.rnns.${l}.${part}`).data);
      }
    }
    model.dispose();
    expect(() => Classifier.fromLanguageModel(lmDir, { numClasses: 2, config: { embSize: 16 } })).toThrow(
      /the language model has embSize 8, the classifier config asks for 16/,
    );
    const other = [...vocab];
    other[7] = 'seven';
    expect(() => Classifier.fromLanguageModel(lmDir, { numClasses: 2, vocab: other })).toThrow(
      /token 7 is "seven", the language model's "w7"/,
    );
    const wrong = new Classifier({ ...small, hiddenSize: 12 });
    expect(() => wrong.loadEncoder(lmDir)).toThrow(/the language model has hiddenSize 10, the classifier 12/);
    wrong.dispose();
    lm.dispose();
  });
});

describe('dropout masks across BPT3C chunks', () => {
  // One training step with rates 0 from the same seed and weights: the loss differs by the masks alone.
  async function lossWith(dropoutMasks: 'document' | 'chunk', lengths: number[]): Promise<number> {
    setSeed(3);
    const model = new Classifier({ ...small, dropoutMasks });
    const [batch] = batchesOf(
      documents(lengths),
      lengths.map((_, i) => i % 3),
      lengths.length,
    );
    setSeed(4);
    const r = await model.trainStep(batch!, { groups: groups(0) });
    model.dispose();
    return r.loss;
  }

  it("keeps one set per document (the default), or draws new ones for every chunk after the first (fastai's)", async () => {
    // Documents of one chunk (seqLen 4): the first chunk's masks are the same either way.
    expect(await lossWith('chunk', [4, 3, 4])).toBe(await lossWith('document', [4, 3, 4]));
    // Documents of several chunks: later chunks get other masks.
    expect(await lossWith('chunk', [12, 9, 10])).not.toBe(await lossWith('document', [12, 9, 10]));
    expect(() => new Classifier({ ...small, dropoutMasks: 'batch' as 'chunk' })).toThrow(/dropoutMasks/);
  });
});
