import { describe, expect, it } from 'vitest';

import {
  Classifier,
  classifierBatches,
  LanguageModel,
  LmBatches,
  paperPlan,
  setSeed,
  TokenStore,
  type ClassifierBatch,
} from '../../src/index.js';
import { classifierSource, twoClassDocuments } from '../helpers/toy-data.js';
import { groupLrs } from '../../src/train/discriminative.js';
import { Learner } from '../../src/train/learner.js';
import { stlr } from '../../src/train/schedules.js';

const config = { vocabSize: 40, numClasses: 2, embSize: 8, hiddenSize: 10, seqLen: 4, maxLen: 20, dropMult: 0.1 };

function sources(batchSize = 8) {
  const valid = twoClassDocuments(16, 2);
  return {
    train: classifierSource(twoClassDocuments(96, 1), { batchSize, seqLen: 4, order: 'sortish', seed: 3, dropLast: true }),
    valid: () => classifierBatches(valid.store, valid.labels, { batchSize: 16, seqLen: 4 }),
  };
}

describe('Learner', () => {
  it('trains a classifier stage by stage: the loss falls, frozen groups stay bit-identical, each step gets its planned rates', async () => {
    setSeed(11);
    const model = new Classifier(config);
    const { train, valid } = sources();
    const learner = Learner.classifier(model, train, valid);
    const embedding = model.getTensor('0.module.encoder.weight').data;
    const rnn0 = model.getTensor('0.module.rnns.0.weight_hh_l0_raw').data;
    const steps: number[][] = [];
    const applied: number[][] = [];
    const [headOnly] = await learner.fit(
      [{ frozenBefore: 4, epochs: 1, lrs: { lrs: [0, 0, 0, 0, 2e-2] }, schedule: 'stlr' }],
      {},
      {
        onStep: (e) => {
          steps.push(e.groups.map((g) => g.lr));
          applied.push(e.applied.map((g) => (g.trained ? g.lr : -1)));
        },
      },
    );
    expect(model.getTensor('0.module.encoder.weight').data).toEqual(embedding);
    expect(model.getTensor('0.module.rnns.0.weight_hh_l0_raw').data).toEqual(rnn0);
    // The rate each step received: the stage's peak times STLR's factor at that step.
    expect(steps).toHaveLength(train.stepsPerEpoch);
    steps.forEach((lrs, t) => expect(lrs[4]).toBeCloseTo(2e-2 * stlr()(t, train.stepsPerEpoch).lrFactor, 15));
    // What the native step reports it gave the update kernels: the planned rate for the head, nothing for
    // the frozen groups.
    expect(applied).toEqual(steps.map((lrs) => [-1, -1, -1, -1, lrs[4]]));
    // Clipped at 0.1, as the thresholds below were set with (a random encoder at 2e-2 without clipping is noisier).
    const history = await learner.fit(
      [
        { frozenBefore: 3, epochs: 1, lrs: { low: 2e-2 / 2.6 ** 4, high: 2e-2 } },
        { frozenBefore: 0, epochs: 8, lrs: { low: 2e-2 / 2.6 ** 4, high: 2e-2 } },
      ],
      { clip: 0.1 },
    );
    expect(history.map((h) => [h.stage, h.epoch])).toEqual([[0, 1], ...[2, 3, 4, 5, 6, 7, 8, 9].map((e) => [1, e])]);
    // A random encoder on 96 short documents: training loss falls by more than half, and validation (16
    // held-out documents; BatchNorm over batches of 8 makes single epochs noisy) reaches well below its start.
    expect(history.at(-1)!.trainLoss).toBeLessThan(headOnly!.trainLoss * 0.5);
    expect(Math.min(...history.map((h) => h.valid!.loss))).toBeLessThan(headOnly!.valid!.loss * 0.5);
    expect(Math.max(...history.map((h) => h.valid!.accuracy))).toBeGreaterThanOrEqual(0.75);
    expect(history.every((h) => h.valid!.count === 16 && h.skippedSteps === 0)).toBe(true);
    expect(groupLrs({ low: 1e-2 / 2.6 ** 4, high: 1e-2 }, 5)[0]).toBeCloseTo(1e-2 / 2.6 ** 4, 15);
    model.dispose();
  });

  it("passes AR and TAR to a classifier's steps, and refuses an option that means nothing for a language model", async () => {
    const losses = async (fit: { alpha?: number; beta?: number }) => {
      setSeed(5);
      const model = new Classifier(config);
      const steps: number[] = [];
      await Learner.classifier(model, sources().train).fit([{ frozenBefore: 0, epochs: 1, lrs: { lrs: [0, 0, 0, 0, 0] } }], fit, {
        onStep: (e) => steps.push(e.loss),
      });
      model.dispose();
      return steps;
    };
    // Rates of 0: the same weights and masks each run, so the losses differ by the regularisers alone. A
    // classifier's default is off (ClassifierStepHyperSchema).
    const plain = await losses({ alpha: 0, beta: 0 });
    const regularised = await losses({ alpha: 2, beta: 1 });
    expect(regularised).toHaveLength(plain.length);
    regularised.forEach((loss, i) => expect(loss).toBeGreaterThan(plain[i]!));
    expect(await losses({})).toEqual(plain);

    const lm = new LanguageModel({ vocabSize: 40, embSize: 8, hiddenSize: 10, numLayers: 2 });
    const stream = new LmBatches(TokenStore.fromDocuments([Int32Array.from({ length: 400 }, (_, i) => 2 + (i % 30))]), {
      batchSize: 4,
      seqLen: 8,
    });
    const source = { stepsPerEpoch: stream.batchesPerEpoch, epoch: (e: number) => stream.epoch(e) };
    await expect(
      Learner.languageModel(lm, source).fit([{ frozenBefore: 0, epochs: 1, lrs: { lrs: [1e-3, 1e-3, 1e-3] } }], { classWeights: [1, 2] }),
    ).rejects.toThrow('classWeights applies to classifiers only');
    lm.dispose();
  });

  it('stops after the step in flight when its signal aborts, and names a source that breaks its promise', async () => {
    const model = new Classifier(config);
    const { train } = sources();
    const controller = new AbortController();
    let seen = 0;
    const history = await Learner.classifier(model, train).fit(
      [{ frozenBefore: 0, epochs: 2, lrs: 1e-3 }],
      {},
      {
        signal: controller.signal,
        onStep: () => {
          if (++seen === 2) controller.abort();
        },
      },
    );
    expect(seen).toBe(2);
    expect(history).toEqual([]);
    const short = { stepsPerEpoch: train.stepsPerEpoch + 1, epoch: train.epoch };
    await expect(Learner.classifier(model, short).fit([{ frozenBefore: 4, epochs: 1, lrs: 1e-3 }])).rejects.toThrow(
      /does not have the \d+ batches its source promised/,
    );
    const batches: ClassifierBatch[] = [...train.epoch(0)];
    expect(batches.length).toBe(train.stepsPerEpoch);
    model.dispose();
  });
});

describe('optimizer state between stages', () => {
  it('starts a stage with a fresh optimizer state when asked, and keeps it otherwise', async () => {
    const model = new Classifier(config);
    const { train } = sources();
    const learner = Learner.classifier(model, train);
    const stepCount = () => model.snapshot().optimizer.find((t) => t.name === '1.layers.1.2.weight.step')!.data[0];
    const n = train.stepsPerEpoch;
    await learner.fit([{ frozenBefore: 4, epochs: 1, lrs: 1e-3 }]);
    expect(stepCount()).toBe(n);
    await learner.fit([{ frozenBefore: 3, epochs: 1, lrs: 1e-3, clearOptimizerState: false }]);
    expect(stepCount()).toBe(2 * n);
    await learner.fit([{ frozenBefore: 3, epochs: 1, lrs: 1e-3, clearOptimizerState: true }]);
    expect(stepCount()).toBe(n);
    model.dispose();
  });
});

describe('Learner for a language model', () => {
  it('fine-tunes an LM: perplexity falls; the hidden state resets each epoch', async () => {
    setSeed(12);
    const model = new LanguageModel({ vocabSize: 30, embSize: 8, hiddenSize: 12, numLayers: 2, dropMult: 0.2 });
    // A repeating pattern with some variety: learnable within a few epochs.
    const docs = Array.from({ length: 40 }, (_, d) => Int32Array.from({ length: 20 }, (_, i) => 2 + ((d + i * 3) % 9)));
    const batches = new LmBatches(TokenStore.fromDocuments(docs), { batchSize: 4, seqLen: 10, seed: 1 });
    const valid = new LmBatches(TokenStore.fromDocuments(docs.slice(0, 8)), { batchSize: 2, seqLen: 10, shuffle: false });
    const train = { stepsPerEpoch: batches.batchesPerEpoch, epoch: (e: number) => batches.epoch(e) };
    const learner = Learner.languageModel(model, train, () => valid.epoch(0));
    const history = await learner.fit(paperPlan(3, { lrs: 1e-2, finalEpochs: 3 }));
    expect(history.map((h) => h.stage)).toEqual([0, 1, 2, 2, 2]);
    const first = history[0]!.valid!;
    const last = history.at(-1)!.valid!;
    expect(last.perplexity).toBeLessThan(first.perplexity * 0.7);
    expect(last.perplexity).toBeCloseTo(Math.exp(last.loss), 10);
    expect(last.tokens).toBe([...valid.epoch(0)].reduce((n, b) => n + b.input.length, 0));
    model.dispose();
  });
});
