// Golden parity with PyTorch (test/golden/clas_golden.py): the same classifier (BPT3C with a per-document
// window, masked concat pooling, BatchNorm/Dropout/Linear head), weights and batches; documents longer than
// maxLen and rows of very different lengths included.
import fs from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { Classifier, type ClassifierBatchInput } from '../../src/index.js';
import { expectClose } from '../helpers/close.js';
import { setDropoutMasks } from '../../src/testing.js';

type Tensor = { shape: number[]; data: number[] };
interface Golden {
  config: {
    vocabSize: number;
    embSize: number;
    hiddenSize: number;
    numLayers: number;
    padId: number;
    nClasses: number;
    headHidden: number[];
    seqLen: number;
    maxLen: number;
  };
  weights: Record<string, number[]>;
  batches: { tokens: number[]; rows: number; length: number; lengths: number[]; labels: number[] }[];
  plain: { loss: number; grads: Record<string, number[]>; buffers: Record<string, number[]> };
  masked: {
    masks: Record<'embed' | 'input', Tensor> & Record<'weight' | 'hidden' | 'head', Tensor[]>;
    loss: number;
    grads: Record<string, number[]>;
  };
  weighted: { classWeights: number[]; loss: number; grads: Record<string, number[]> };
  regularised: { alpha: number; beta: number; crossEntropy: number; loss: number; grads: Record<string, number[]> };
  eval: { batch: number; features: number[]; probabilities: number[]; lossSum: number; correct: number }[];
  infinite: { logits: number[] };
  optimizer: {
    groups: { lr: number; beta1: number; beta2: number; weightDecay: number }[];
    eps: number;
    clip: number;
    frozenBefore: number;
    batches: number[];
    steps: { loss: number; gradNorm: number }[];
    after: Record<string, number[]>;
  };
}

let golden: Golden;

beforeAll(() => {
  golden = JSON.parse(fs.readFileSync(new URL('../golden/clas.json', import.meta.url), 'utf8'));
});

function goldenModel(maxLen: number = golden.config.maxLen): Classifier {
  const c = golden.config;
  const model = new Classifier({
    vocabSize: c.vocabSize,
    numClasses: c.nClasses,
    embSize: c.embSize,
    hiddenSize: c.hiddenSize,
    numLayers: c.numLayers,
    padId: c.padId,
    headHidden: c.headHidden,
    headDropouts: c.headHidden.map(() => 0),
    dropMult: 0,
    seqLen: c.seqLen,
    maxLen,
  });
  for (const [name, values] of Object.entries(golden.weights)) model.setTensor(name, Float32Array.from(values));
  return model;
}

function batch(i: number): ClassifierBatchInput {
  const b = golden.batches[i]!;
  return {
    tokens: Int32Array.from(b.tokens),
    rows: b.rows,
    length: b.length,
    lengths: Int32Array.from(b.lengths),
    labels: Int32Array.from(b.labels),
  };
}

const noUpdate = () => Array.from({ length: 5 }, () => ({ lr: 0, weightDecay: 0 }));
const tensor = (t: Tensor) => ({ shape: t.shape, data: Float32Array.from(t.data) });

function softmax(logits: number[], classes: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < logits.length; r += classes) {
    const row = logits.slice(r, r + classes);
    const m = Math.max(...row);
    const e = row.map((v) => Math.exp(v - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
}

describe('classifier golden parity with PyTorch (fp32, CPU)', () => {
  it('matches the loss, every gradient and the BatchNorm statistics of a training-mode step, dropout off', async () => {
    const model = goldenModel();
    const r = await model.trainStep(batch(0), { groups: noUpdate(), clip: 0 });
    expectClose([r.loss], [golden.plain.loss], 'loss');
    for (const [name, grad] of Object.entries(golden.plain.grads)) expectClose(model.getGrad(name)!.data, grad, `grad ${name}`);
    for (const [name, values] of Object.entries(golden.plain.buffers)) expectClose(model.getTensor(name).data, values, `buffer ${name}`);
    model.dispose();
  });

  it('matches training-mode maths with fixed dropout masks (embedding, input, weight, hidden, head)', async () => {
    const model = goldenModel();
    const m = golden.masked.masks;
    setDropoutMasks(model, {
      embed: tensor(m.embed),
      input: tensor(m.input),
      weight: m.weight.map(tensor),
      hidden: m.hidden.map(tensor),
      head: m.head.map(tensor),
    });
    const r = await model.trainStep(batch(0), { groups: noUpdate(), clip: 0 });
    expectClose([r.loss], [golden.masked.loss], 'masked loss');
    for (const [name, grad] of Object.entries(golden.masked.grads)) expectClose(model.getGrad(name)!.data, grad, `masked grad ${name}`);
    model.dispose();
  });

  it('matches the class-weighted cross-entropy and its gradients', async () => {
    const model = goldenModel();
    const r = await model.trainStep(batch(0), { groups: noUpdate(), clip: 0, classWeights: golden.weighted.classWeights });
    expectClose([r.loss], [golden.weighted.loss], 'weighted loss');
    for (const [name, grad] of Object.entries(golden.weighted.grads)) expectClose(model.getGrad(name)!.data, grad, `weighted grad ${name}`);
    model.dispose();
  });

  it('matches AR and TAR on the encoder outputs over each window (chunk boundaries included) and their gradients', async () => {
    const model = goldenModel();
    const g = golden.regularised;
    const r = await model.trainStep(batch(0), { groups: noUpdate(), clip: 0, alpha: g.alpha, beta: g.beta });
    expectClose([r.crossEntropy, r.loss], [g.crossEntropy, g.loss], 'cross-entropy, loss');
    expect(r.loss).toBeGreaterThan(r.crossEntropy);
    for (const [name, grad] of Object.entries(g.grads)) expectClose(model.getGrad(name)!.data, grad, `regularised grad ${name}`);
    // The regularisers reach the encoder: its gradients are not the plain step's.
    expect(model.getGrad('0.module.rnns.2.weight_hh_l0_raw')!.data).not.toEqual(
      Float32Array.from(golden.plain.grads['0.module.rnns.2.weight_hh_l0_raw']!),
    );
    model.dispose();
  });

  it('matches evaluation: pooled features, probabilities, summed loss and correct count with the running statistics', async () => {
    const model = goldenModel();
    for (const e of golden.eval) {
      const f = await model.features({ ...batch(e.batch), labels: null });
      expect([f.rows, f.width]).toEqual([golden.batches[e.batch]!.rows, 3 * golden.config.embSize]);
      expectClose(f.features, e.features, `batch ${e.batch} pooled features`);
      const p = await model.predict({ ...batch(e.batch), labels: null });
      expectClose(p.probabilities, e.probabilities, `batch ${e.batch} probabilities`);
      const r = await model.evalStep(batch(e.batch));
      expectClose([r.loss], [e.lossSum], `batch ${e.batch} loss`);
      expect(r.correct).toBe(e.correct);
    }
    // Evaluation changes no statistic.
    for (const name of Object.keys(golden.plain.buffers)) expectClose(model.getTensor(name).data, golden.weights[name]!, name);
    model.dispose();
  });

  it('matches whole-document pooling (maxLen Infinity)', async () => {
    const model = goldenModel(Infinity);
    const p = await model.predict(batch(0));
    expectClose(p.probabilities, softmax(golden.infinite.logits, golden.config.nClasses), 'probabilities');
    model.dispose();
  });

  it('matches two AdamW steps with per-group hyperparameters, clipping, and the first two groups frozen', async () => {
    const model = goldenModel();
    const o = golden.optimizer;
    model.freezeTo(o.frozenBefore);
    for (let s = 0; s < o.steps.length; s++) {
      const r = await model.trainStep(batch(o.batches[s]!), { groups: o.groups, eps: o.eps, clip: o.clip });
      expect(r.skipped).toBe(false);
      expectClose([r.loss, r.gradNorm], [o.steps[s]!.loss, o.steps[s]!.gradNorm], `step ${s + 1}`);
    }
    for (const [name, values] of Object.entries(o.after)) expectClose(model.getTensor(name).data, values, `after: ${name}`);
    expect(model.getGrad('0.module.rnns.0.module.weight_ih_l0')).toBeNull();
    model.dispose();
  });
});
