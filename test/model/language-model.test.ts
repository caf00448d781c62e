import { describe, expect, it } from 'vitest';

import { LanguageModel, setSeed, type LmBatch } from '../../src/index.js';
import { lastDropoutMasks, recordDropoutMasks, setDropoutMasks } from '../../src/testing.js';

const small = { vocabSize: 30, embSize: 6, hiddenSize: 8, numLayers: 3 };
const groupsOf = (lr: number) => Array.from({ length: 4 }, () => ({ lr, weightDecay: 0 }));

function lmBatch(batchSize: number, seqLen: number, offset = 0): LmBatch {
  const n = batchSize * seqLen;
  return {
    input: Int32Array.from({ length: n }, (_, i) => (i * 7 + offset) % small.vocabSize),
    target: Int32Array.from({ length: n }, (_, i) => (i * 7 + offset + 1) % small.vocabSize),
    batchSize,
    seqLen,
  };
}

describe('language model structure', () => {
  it("names parameters with fastai's keys and splits them into fastai's LM groups", () => {
    const model = new LanguageModel(small);
    const { parameters, aliases } = model.parameters();
    expect(parameters.map((p) => p.name)).toEqual([
      ...[0, 1, 2].flatMap((l) => [
        `0.rnns.${l}.weight_hh_l0_raw`,
        `0.rnns.${l}.module.weight_ih_l0`,
        `0.rnns.${l}.module.bias_ih_l0`,
        `0.rnns.${l}.module.bias_hh_l0`,
      ]),
      '0.encoder.weight',
      '1.decoder.bias',
    ]);
    expect(aliases).toEqual({ '0.encoder_dp.emb.weight': '0.encoder.weight', '1.decoder.weight': '0.encoder.weight' });
    expect(parameters.find((p) => p.name === '1.decoder.bias')!.decay).toBe(false);
    expect(parameters.filter((p) => !p.decay).length).toBe(1);
    // Layer sizes: 6 -> 8 -> 8 -> 6 (the last layer outputs the embedding size, for the tied decoder).
    expect(parameters.find((p) => p.name === '0.rnns.0.module.weight_ih_l0')!.shape).toEqual([32, 6]);
    expect(parameters.find((p) => p.name === '0.rnns.2.weight_hh_l0_raw')!.shape).toEqual([24, 6]);
    const groups = model.groups();
    expect(groups.map((g) => g.name)).toEqual(['rnn0', 'rnn1', 'rnn2', 'embedding+decoder']);
    expect(groups[0]!.numel).toBe(32 * 6 + 32 * 8 + 64);
    expect(groups[3]!.numel).toBe(30 * 6 + 30);
    model.dispose();
  });

  it('ties the decoder to the embedding: both names read and write one tensor', () => {
    const model = new LanguageModel(small);
    const values = Float32Array.from({ length: 30 * 6 }, (_, i) => i / 100);
    model.setTensor('1.decoder.weight', values);
    expect([...model.getTensor('0.encoder.weight').data]).toEqual([...values]);
    expect(() => model.setTensor('0.encoder.weight', new Float32Array(3))).toThrow(
      'setTensor("0.encoder.weight"): 3 values given, the tensor [30, 6] holds 180',
    );
    expect(() => model.getTensor('0.nope')).toThrow('no tensor named "0.nope"');
    model.dispose();
  });

  it('initialises as fastai does: embedding in U(-0.1, 0.1), LSTM in U(+-1/sqrt(hidden)), decoder bias 0', () => {
    const model = new LanguageModel({ ...small, hiddenSize: 16 });
    const maxAbs = (name: string) => Math.max(...model.getTensor(name).data.map(Math.abs));
    expect(maxAbs('0.encoder.weight')).toBeLessThanOrEqual(0.1);
    expect(maxAbs('0.encoder.weight')).toBeGreaterThan(0.05);
    expect(maxAbs('0.rnns.0.weight_hh_l0_raw')).toBeLessThanOrEqual(0.25);
    expect(maxAbs('0.rnns.0.weight_hh_l0_raw')).toBeGreaterThan(0.15);
    expect(maxAbs('1.decoder.bias')).toBe(0);
    model.dispose();
  });

  it('names the field of a bad config', () => {
    expect(() => new LanguageModel({ vocabSize: 1 })).toThrow(/^language model config: vocabSize: /);
    expect(() => new LanguageModel({ vocabSize: 10, padId: 10 })).toThrow('language model config: padId: padId must be below vocabSize');
    expect(() => new LanguageModel({ vocabSize: 10, embedP: 1 })).toThrow(/embedP: /);
    expect(() => new LanguageModel({ vocabSize: 10, hidenSize: 3 } as never)).toThrow(/Unrecognized key: "hidenSize"/);
    expect(() => new LanguageModel(small, { device: 'tpu' })).toThrow(/^engine options: device: /);
  });
});

describe('hidden state', () => {
  it('carries the state between batches (truncated BPTT) and resets it on request', async () => {
    const model = new LanguageModel({ ...small, dropMult: 0 });
    const fresh = await model.evalStep(lmBatch(2, 5));
    const carried = await model.evalStep(lmBatch(2, 5));
    expect(carried.loss).not.toBeCloseTo(fresh.loss, 6);
    model.resetState('eval');
    expect((await model.evalStep(lmBatch(2, 5))).loss).toBeCloseTo(fresh.loss, 6);
    model.dispose();
  });

  it('keeps training and validation state apart, and reads and writes them', async () => {
    const model = new LanguageModel({ ...small, dropMult: 0 });
    await model.trainStep(lmBatch(2, 5), { groups: groupsOf(0) });
    const train = model.getState('train');
    expect(train.map((l) => l.h.shape)).toEqual([
      [1, 2, 8],
      [1, 2, 8],
      [1, 2, 6],
    ]);
    expect(model.getState('eval')).toEqual([]);
    const copy = train.map((l) => ({ h: l.h.data, c: l.c.data }));
    model.resetState('train');
    expect(model.getState('train')).toEqual([]);
    model.setState('train', 2, copy);
    expect(model.getState('train').map((l) => [...l.c.data])).toEqual(train.map((l) => [...l.c.data]));
    expect(() => model.setState('train', 3, copy)).toThrow('state[0].h: 16 values given, the tensor [1, 3, 8] holds 24');
    model.dispose();
  });

  it('starts from zeros when the batch size changes', async () => {
    const model = new LanguageModel({ ...small, dropMult: 0 });
    await model.evalStep(lmBatch(2, 5));
    const other = await model.evalStep(lmBatch(3, 5, 1));
    const fresh = new LanguageModel({ ...small, dropMult: 0 });
    for (const p of model.parameters().parameters) fresh.setTensor(p.name, model.getTensor(p.name).data);
    expect(other.loss).toBeCloseTo((await fresh.evalStep(lmBatch(3, 5, 1))).loss, 5);
    expect(model.getState('eval')[0]!.h.shape).toEqual([1, 3, 8]);
    model.dispose();
    fresh.dispose();
  });
});

describe('training steps', () => {
  it('SGD without momentum moves each parameter by -lr x gradient', async () => {
    const model = new LanguageModel({ ...small, dropMult: 0 });
    const before = model.getTensor('0.rnns.1.module.weight_ih_l0').data;
    await model.trainStep(lmBatch(2, 5), { optimizer: 'sgd', groups: groupsOf(0.5).map((g) => ({ ...g, momentum: 0 })) });
    const grad = model.getGrad('0.rnns.1.module.weight_ih_l0')!.data;
    const after = model.getTensor('0.rnns.1.module.weight_ih_l0').data;
    for (let i = 0; i < before.length; i++) expect(after[i]).toBeCloseTo(before[i]! - 0.5 * grad[i]!, 6);
    model.dispose();
  });

  it("SGD with momentum keeps a buffer (buf = m x buf + g) and takes m from `momentum`, not Adam's beta1", async () => {
    const name = '0.rnns.1.module.weight_ih_l0';
    const model = new LanguageModel({ ...small, dropMult: 0 });
    const hyper = { optimizer: 'sgd' as const, groups: groupsOf(0.5).map((g) => ({ ...g, momentum: 0.6, beta1: 0.1 })) };
    await model.trainStep(lmBatch(2, 5), hyper);
    const g1 = model.getGrad(name)!.data;
    const w1 = model.getTensor(name).data;
    const r = await model.trainStep(lmBatch(2, 5, 3), hyper);
    expect(r.applied.every((a) => a.momentum === 0.6 && a.beta1 === 0.1)).toBe(true);
    const g2 = model.getGrad(name)!.data;
    const w2 = model.getTensor(name).data;
    for (let i = 0; i < w1.length; i++) expect(w2[i]).toBeCloseTo(w1[i]! - 0.5 * (0.6 * g1[i]! + g2[i]!), 6);
    model.dispose();
  });

  it('leaves frozen groups alone: no gradient, no update, no decay', async () => {
    const model = new LanguageModel(small);
    model.freezeTo(2);
    expect(model.groups().map((g) => g.trainable)).toEqual([false, false, true, true]);
    const before = model.getTensor('0.rnns.0.weight_hh_l0_raw').data;
    await model.trainStep(lmBatch(2, 5), { groups: Array.from({ length: 4 }, () => ({ lr: 0.1, weightDecay: 0.5 })) });
    expect([...model.getTensor('0.rnns.0.weight_hh_l0_raw').data]).toEqual([...before]);
    expect(model.getGrad('0.rnns.1.module.bias_ih_l0')).toBeNull();
    expect(model.getGrad('0.rnns.2.module.bias_ih_l0')).not.toBeNull();
    expect(() => model.freezeTo(4)).toThrow(/^n must be an integer from 0 to 3/);
    model.dispose();
  });

  it('skips the update when the loss is not finite, and says so', async () => {
    const model = new LanguageModel(small);
    const poisoned = model.getTensor('1.decoder.bias').data;
    poisoned[3] = Number.NaN;
    model.setTensor('1.decoder.bias', poisoned);
    const before = model.getTensor('0.rnns.1.weight_hh_l0_raw').data;
    const r = await model.trainStep(lmBatch(2, 5), { groups: groupsOf(0.1) });
    expect(r.skipped).toBe(true);
    expect(Number.isFinite(r.loss)).toBe(false);
    expect([...model.getTensor('0.rnns.1.weight_hh_l0_raw').data]).toEqual([...before]);
    model.dispose();
  });

  it('repeats a dropout-on step exactly after setSeed, and eval is deterministic', async () => {
    const run = async () => {
      setSeed(7);
      const model = new LanguageModel(small);
      const r = await model.trainStep(lmBatch(2, 5), { groups: groupsOf(0.01) });
      const e1 = await model.evalStep(lmBatch(2, 5));
      model.resetState('eval');
      const e2 = await model.evalStep(lmBatch(2, 5));
      model.dispose();
      return { r, e1, e2 };
    };
    const a = await run();
    const b = await run();
    expect(a.r.loss).toBe(b.r.loss);
    expect(a.e1.loss).toBe(a.e2.loss);
    setSeed(8);
    const other = new LanguageModel(small);
    expect((await other.trainStep(lmBatch(2, 5), { groups: groupsOf(0.01) })).loss).not.toBe(a.r.loss);
    other.dispose();
  });

  it('refuses ids outside the vocabulary, a wrong number of groups, overlapping steps and use after dispose', async () => {
    const model = new LanguageModel(small);
    const bad = lmBatch(2, 5);
    bad.input[4] = 30;
    await expect(model.trainStep(bad, { groups: groupsOf(0.1) })).rejects.toThrow('input[4] = 30 is outside the vocabulary [0, 30)');
    await expect(model.trainStep(lmBatch(2, 5), { groups: groupsOf(0.1).slice(1) })).rejects.toThrow(
      'hyper.groups must be an array with one entry per layer group (4)',
    );
    await expect(model.trainStep({ ...lmBatch(2, 5), seqLen: 4 }, { groups: groupsOf(0.1) })).rejects.toThrow(
      'trainStep batch: input: input must hold batchSize x seqLen ids',
    );
    const first = model.trainStep(lmBatch(2, 5), { groups: groupsOf(0.1) });
    await expect(model.evalStep(lmBatch(2, 5))).rejects.toThrow('a step is in flight on this model; wait for its promise first');
    await first;
    model.dispose();
    expect(() => model.groups()).toThrow('this model was disposed');
  });

  it('lets a step in flight finish after dispose', async () => {
    const model = new LanguageModel(small);
    const step = model.trainStep(lmBatch(2, 5), { groups: groupsOf(0.1) });
    model.dispose();
    expect(Number.isFinite((await step).loss)).toBe(true);
  });

  it('learns: the loss on a repeated batch falls', async () => {
    setSeed(1);
    const model = new LanguageModel({ ...small, dropMult: 0 });
    const first = await model.trainStep(lmBatch(4, 8), { groups: groupsOf(5e-2) });
    let last = first;
    for (let i = 0; i < 60; i++) {
      model.resetState('train');
      last = await model.trainStep(lmBatch(4, 8), { groups: groupsOf(5e-2) });
    }
    expect(last.crossEntropy).toBeLessThan(first.crossEntropy * 0.8);
    model.dispose();
  });
});

describe('dropout', () => {
  it('draws masks of AWD-LSTM shapes: whole embedding rows, one variational mask per sequence, weight_hh only', async () => {
    const model = new LanguageModel({ ...small, dropMult: 2 });
    recordDropoutMasks(model, true);
    await model.trainStep(lmBatch(2, 5), { groups: groupsOf(0) });
    const m = lastDropoutMasks(model);
    expect(m.embed!.shape).toEqual([30, 1]); // a whole row of the embedding matrix per word
    expect(m.input!.shape).toEqual([2, 1, 6]); // time dimension 1: the same mask at every step
    expect(m.hidden.map((h) => h!.shape)).toEqual([
      [2, 1, 8],
      [2, 1, 8],
    ]);
    expect(m.output!.shape).toEqual([2, 1, 6]);
    expect(m.weight.map((w) => w!.shape)).toEqual([
      [32, 8],
      [32, 8],
      [24, 6],
    ]); // weight_hh shapes only
    const values = (p: number) => new Set([0, Number((1 / (1 - p)).toFixed(5))]);
    const rounded = (t: { data: Float32Array }) => new Set([...t.data].map((v) => Number(v.toFixed(5))));
    expect(values(0.02 * 2)).toEqual(new Set([...rounded(m.embed!), 0])); // scaled by 1/(1-p), p = embedP x dropMult
    expect([...rounded(m.weight[0]!)].every((v) => values(0.2 * 2).has(v))).toBe(true);
    model.dispose();
  });

  it('DropConnect reaches the raw weight: a zero mask on weight_hh zeroes its gradient, not weight_ih', async () => {
    const model = new LanguageModel({ ...small, dropMult: 0 });
    setDropoutMasks(model, {
      weight: [
        { data: new Float32Array(32 * 8), shape: [32, 8] },
        { data: new Float32Array(32 * 8).fill(1), shape: [32, 8] },
        { data: new Float32Array(24 * 6).fill(1), shape: [24, 6] },
      ],
    });
    await model.trainStep(lmBatch(2, 5), { groups: groupsOf(0) });
    expect(model.getGrad('0.rnns.0.weight_hh_l0_raw')!.data.every((v) => v === 0)).toBe(true);
    expect(model.getGrad('0.rnns.0.module.weight_ih_l0')!.data.some((v) => v !== 0)).toBe(true);
    expect(model.getGrad('0.rnns.1.weight_hh_l0_raw')!.data.some((v) => v !== 0)).toBe(true);
    setDropoutMasks(model, { input: { data: new Float32Array(4), shape: [1, 4] } });
    await expect(model.trainStep(lmBatch(2, 5), { groups: groupsOf(0) })).rejects.toThrow(
      'dropout mask input has shape [1, 4], the batch needs [2, 1, 6]',
    );
    model.dispose();
  });
});

describe('bf16 mixed precision', () => {
  it('stays close to fp32 on the same weights and batch', async () => {
    const fp32 = new LanguageModel({ ...small, dropMult: 0 });
    const bf16 = new LanguageModel({ ...small, dropMult: 0 }, { precision: 'bf16' });
    for (const p of fp32.parameters().parameters) bf16.setTensor(p.name, fp32.getTensor(p.name).data);
    const a = await fp32.trainStep(lmBatch(4, 8), { groups: groupsOf(0) });
    const b = await bf16.trainStep(lmBatch(4, 8), { groups: groupsOf(0) });
    expect(Math.abs(b.crossEntropy - a.crossEntropy) / a.crossEntropy).toBeLessThan(0.02);
    expect(bf16.getTensor('0.encoder.weight').data).toBeInstanceOf(Float32Array); // fp32 master weights
    fp32.dispose();
    bf16.dispose();
  });

  it('sees the weights the previous step wrote (the autocast weight cache is cleared every step)', async () => {
    const a = new LanguageModel({ ...small, dropMult: 0 }, { precision: 'bf16' });
    await a.trainStep(lmBatch(4, 8), { groups: groupsOf(0.05) });
    // b starts where a is now: same weights and hidden state.
    const b = new LanguageModel({ ...small, dropMult: 0 }, { precision: 'bf16' });
    for (const p of a.parameters().parameters) b.setTensor(p.name, a.getTensor(p.name).data);
    b.setState(
      'train',
      4,
      a.getState('train').map((l) => ({ h: l.h.data, c: l.c.data })),
    );
    const second = await a.trainStep(lmBatch(4, 8, 3), { groups: groupsOf(0) });
    const fresh = await b.trainStep(lmBatch(4, 8, 3), { groups: groupsOf(0) });
    expect(second.loss).toBe(fresh.loss);
    a.dispose();
    b.dispose();
  });
});
