// Golden parity with PyTorch (test/golden/lm_golden.py): the same model, weights and batches, dropout off.
import fs from 'node:fs';

import { beforeAll, describe, expect, it } from 'vitest';

import { LanguageModel, type LmBatch } from '../../src/index.js';
import { expectClose } from '../helpers/close.js';
import { setDropoutMasks } from '../../src/testing.js';

interface Golden {
  config: { vocabSize: number; embSize: number; hiddenSize: number; numLayers: number; padId: number };
  batchSize: number;
  seqLen: number;
  alpha: number;
  beta: number;
  weights: Record<string, number[]>;
  batches: { input: number[]; target: number[] }[];
  forward: { crossEntropy: number; loss: number };
  grads: Record<string, number[]>;
  masked: {
    masks: Record<'embed' | 'input' | 'output', { shape: number[]; data: number[] }> &
      Record<'weight' | 'hidden', { shape: number[]; data: number[] }[]>;
    crossEntropy: number;
    loss: number;
    grads: Record<string, number[]>;
  };
  optimizer: {
    groups: { lr: number; beta1: number; beta2: number; weightDecay: number }[];
    eps: number;
    clip: number;
    frozenBefore: number;
    steps: { crossEntropy: number; loss: number; gradNorm: number }[];
    after: Record<string, number[]>;
  };
}

let golden: Golden;

beforeAll(() => {
  golden = JSON.parse(fs.readFileSync(new URL('../golden/lm.json', import.meta.url), 'utf8'));
});

// Four rows of logits at a time: the 15 rows of a batch are decoded in four chunks.
function goldenModel(): LanguageModel {
  const model = new LanguageModel({ ...golden.config, dropMult: 0 }, { lossChunkRows: 4 });
  for (const [name, values] of Object.entries(golden.weights)) model.setTensor(name, Float32Array.from(values));
  return model;
}

function batch(i: number): LmBatch {
  const b = golden.batches[i]!;
  return { input: Int32Array.from(b.input), target: Int32Array.from(b.target), batchSize: golden.batchSize, seqLen: golden.seqLen };
}

describe('golden parity with PyTorch (fp32, CPU)', () => {
  it('matches the loss and every gradient of one forward and backward', async () => {
    const model = goldenModel();
    const noUpdate = golden.optimizer.groups.map(() => ({ lr: 0, weightDecay: 0 }));
    const result = await model.trainStep(batch(0), { groups: noUpdate, clip: 0, alpha: golden.alpha, beta: golden.beta });
    expectClose([result.crossEntropy, result.loss], [golden.forward.crossEntropy, golden.forward.loss], 'cross-entropy, loss');
    for (const [name, grad] of Object.entries(golden.grads)) {
      expectClose(model.getGrad(name)!.data, grad, `grad ${name}`);
    }
    // lr 0 changed nothing.
    for (const [name, values] of Object.entries(golden.weights)) expectClose(model.getTensor(name).data, values, name);
    model.dispose();
  });

  it('matches training-mode maths with fixed dropout masks (embedding, input, weight, hidden, output)', async () => {
    const model = goldenModel();
    const m = golden.masked.masks;
    const t = (x: { shape: number[]; data: number[] }) => ({ shape: x.shape, data: Float32Array.from(x.data) });
    setDropoutMasks(model, { embed: t(m.embed), input: t(m.input), weight: m.weight.map(t), hidden: m.hidden.map(t), output: t(m.output) });
    const noUpdate = golden.optimizer.groups.map(() => ({ lr: 0, weightDecay: 0 }));
    const r = await model.trainStep(batch(0), { groups: noUpdate, clip: 0, alpha: golden.alpha, beta: golden.beta });
    expectClose([r.crossEntropy, r.loss], [golden.masked.crossEntropy, golden.masked.loss], 'masked cross-entropy, loss');
    for (const [name, grad] of Object.entries(golden.masked.grads)) expectClose(model.getGrad(name)!.data, grad, `masked grad ${name}`);
    model.dispose();
  });

  it('gives the same result whatever the chunking of the decoder', async () => {
    const whole = new LanguageModel({ ...golden.config, dropMult: 0 }, { lossChunkRows: 1000 });
    for (const [name, values] of Object.entries(golden.weights)) whole.setTensor(name, Float32Array.from(values));
    const r = await whole.trainStep(batch(0), { groups: golden.optimizer.groups.map(() => ({ lr: 0 })), clip: 0 });
    expectClose([r.crossEntropy, r.loss], [golden.forward.crossEntropy, golden.forward.loss], 'unchunked');
    expectClose(whole.getGrad('0.encoder.weight')!.data, golden.grads['0.encoder.weight']!, 'unchunked tied-weight grad');
    whole.dispose();
  });

  it('matches eval-mode cross-entropy (summed) and needs no gradient', async () => {
    const model = goldenModel();
    const result = await model.evalStep(batch(0));
    expect(result.tokens).toBe(golden.batchSize * golden.seqLen);
    expectClose([result.loss / result.tokens], [golden.forward.crossEntropy], 'mean cross-entropy');
    expect(model.getGrad('0.encoder.weight')).toBeNull();
    model.dispose();
  });

  it('matches three AdamW steps with per-group hyperparameters, clipping, and the first group frozen', async () => {
    const model = goldenModel();
    const o = golden.optimizer;
    model.freezeTo(o.frozenBefore);
    for (let s = 0; s < o.steps.length; s++) {
      const r = await model.trainStep(batch(s + 1), { groups: o.groups, eps: o.eps, clip: o.clip, alpha: golden.alpha, beta: golden.beta });
      expect(r.skipped).toBe(false);
      const want = o.steps[s]!;
      expectClose([r.crossEntropy, r.loss, r.gradNorm], [want.crossEntropy, want.loss, want.gradNorm], `step ${s + 1}`);
    }
    for (const [name, values] of Object.entries(o.after)) expectClose(model.getTensor(name).data, values, `after 3 steps: ${name}`);
    expect(model.getGrad('0.rnns.0.module.weight_ih_l0')).toBeNull();
    model.dispose();
  });
});
