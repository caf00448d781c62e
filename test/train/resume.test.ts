import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import {
  Classifier,
  classifierBatches,
  LanguageModel,
  LmBatches,
  setSeed,
  TokenStore,
  TrainingStateError,
  type UnfreezeStageInput,
} from '../../src/index.js';
import { classifierSource, twoClassDocuments } from '../helpers/toy-data.js';
import { Learner } from '../../src/train/learner.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-resume-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function weightsOf(model: Classifier | LanguageModel): Map<string, Float32Array> {
  const { parameters, buffers } = model.parameters();
  return new Map([...parameters, ...buffers].map((p) => [p.name, model.getTensor(p.name).data]));
}

function expectBitIdentical(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [name, t] of a) {
    const u = b.get(name)!;
    const same =
      t.length === u.length &&
      Buffer.compare(Buffer.from(t.buffer, t.byteOffset, t.byteLength), Buffer.from(u.buffer, u.byteOffset, u.byteLength)) === 0;
    expect(same, `${name} differs`).toBe(true);
  }
}

const vocab = Array.from({ length: 40 }, (_, i) => `w${i}`);
const saveOptions = { vocab, classes: ['a', 'b'] };

function classifierSetup() {
  const valid = twoClassDocuments(16, 2);
  return {
    train: classifierSource(twoClassDocuments(48, 1), { batchSize: 8, seqLen: 4, order: 'sortish', seed: 3, dropLast: true }),
    valid: () => classifierBatches(valid.store, valid.labels, { batchSize: 16, seqLen: 4 }),
  };
}

const plan: UnfreezeStageInput[] = [
  { frozenBefore: 4, epochs: 1, lrs: 2e-2 },
  { frozenBefore: 2, epochs: 1, lrs: { low: 1e-2 / 2.6 ** 4, high: 1e-2 }, clearOptimizerState: false },
  { frozenBefore: 0, epochs: 2, lrs: { low: 5e-3 / 2.6 ** 4, high: 5e-3 }, schedule: 'oneCycle' },
];

describe('training state and resume', () => {
  it('a classifier run stopped mid-epoch and resumed from its checkpoint ends bit-identical to an uninterrupted one', async () => {
    setSeed(21);
    const init = path.join(tmp, 'clas-init');
    const first = new Classifier({ vocabSize: 40, numClasses: 2, embSize: 8, hiddenSize: 10, seqLen: 4, maxLen: 12, dropMult: 0.5 });
    first.save(init, saveOptions);
    first.dispose();
    const { train, valid } = classifierSetup();
    expect(train.stepsPerEpoch).toBe(6);

    // Uninterrupted.
    const whole = Classifier.load(init).model;
    setSeed(99);
    const wholeHistory = await Learner.classifier(whole, train, valid).fit(plan);
    const expected = weightsOf(whole);
    whole.dispose();

    // Interrupted at step 15 (mid-epoch 2, stage 2), with checkpoints every 4 steps.
    const dir = path.join(tmp, 'clas-run');
    const part = Classifier.load(init).model;
    setSeed(99);
    const controller = new AbortController();
    let steps = 0;
    const partial = await Learner.classifier(part, train, valid, saveOptions).fit(
      plan,
      {},
      {
        signal: controller.signal,
        checkpoint: { dir, everySteps: 4 },
        onStep: () => {
          if (++steps === 15) controller.abort();
        },
      },
    );
    expect(partial).toHaveLength(2);
    part.dispose();
    setSeed(1234); // whatever happens in between: the state brings the generator back

    const loaded = Classifier.load(dir, { optimizer: true });
    expect(loaded.trainingState).not.toBeNull();
    const state = loaded.trainingState!.json as { position: { stage: number; batch: number; stepsDone: number }; finished: boolean };
    expect(state.position).toMatchObject({ stage: 2, batch: 3, stepsDone: 15 });
    expect(state.finished).toBe(false);
    let resumedSteps = 0;
    const history = await Learner.classifier(loaded.model, train, valid, saveOptions).fit(
      plan,
      {},
      {
        resume: loaded.trainingState,
        checkpoint: { dir },
        onStep: () => resumedSteps++,
      },
    );
    expect(resumedSteps).toBe(24 - 15);
    expectBitIdentical(weightsOf(loaded.model), expected);
    expect(history).toEqual(wholeHistory);
    loaded.model.dispose();

    // The finished run's state says so: resuming it again trains nothing and returns the history.
    const done = Classifier.load(dir, { optimizer: true });
    expect((done.trainingState!.json as { finished: boolean }).finished).toBe(true);
    let more = 0;
    expect(
      await Learner.classifier(done.model, train, valid, saveOptions).fit(plan, {}, { resume: done.trainingState, onStep: () => more++ }),
    ).toEqual(wholeHistory);
    expect(more).toBe(0);
    // Another plan or other options are refused, naming the file.
    await expect(Learner.classifier(done.model, train).fit(plan.slice(1), {}, { resume: done.trainingState })).rejects.toThrow(
      TrainingStateError,
    );
    await expect(Learner.classifier(done.model, train).fit(plan, { clip: 0.5 }, { resume: done.trainingState })).rejects.toThrow(
      /training-state\.json: the run was started with other fit options/,
    );
    // A state written before AR/TAR were fit options lacks them (keys in another order too): it resumes with
    // the model kind's defaults, which is what its step applied, and is refused with others.
    const { alpha: _alpha, beta: _beta, ...rest } = (done.trainingState!.json as { options: Record<string, unknown> }).options;
    const older = {
      ...done.trainingState!,
      json: { ...(done.trainingState!.json as object), options: Object.fromEntries(Object.entries(rest).reverse()) },
    };
    expect(await Learner.classifier(done.model, train, valid, saveOptions).fit(plan, {}, { resume: older })).toEqual(wholeHistory);
    await expect(Learner.classifier(done.model, train).fit(plan, { alpha: 2 }, { resume: older })).rejects.toThrow(/other fit options/);
    done.model.dispose();
  });

  it('a language-model run resumed mid-epoch (hidden state, generator, optimizer) ends bit-identical', async () => {
    setSeed(5);
    const lmVocab = Array.from({ length: 30 }, (_, i) => `t${i}`);
    const init = path.join(tmp, 'lm-init');
    const m = new LanguageModel({ vocabSize: 30, embSize: 8, hiddenSize: 12, numLayers: 2, dropMult: 0.5 });
    m.save(init, { vocab: lmVocab });
    m.dispose();
    const docs = Array.from({ length: 30 }, (_, d) => Int32Array.from({ length: 9 + (d % 7) }, (_, i) => 2 + ((d + i * 3) % 11)));
    // Variable BPTT: the epochs' batch counts vary, which the source's stepsIn gives exactly.
    const batches = new LmBatches(TokenStore.fromDocuments(docs), { batchSize: 4, variableBptt: { bptt: 8, std: 2, min: 3 }, seed: 2 });
    const train = {
      stepsPerEpoch: batches.batchesPerEpoch,
      stepsIn: (e: number) => batches.batchesIn(e),
      epoch: (e: number) => batches.epoch(e),
    };
    const valid = new LmBatches(TokenStore.fromDocuments(docs.slice(0, 6)), { batchSize: 2, seqLen: 8, shuffle: false });
    const lmPlan: UnfreezeStageInput[] = [
      { frozenBefore: 2, epochs: 1, lrs: 1e-2 },
      { frozenBefore: 0, epochs: 2, lrs: 1e-2 },
    ];
    const total = [0, 1, 2].reduce((n, e) => n + batches.batchesIn(e), 0);

    const whole = LanguageModel.load(init).model;
    setSeed(8);
    const wholeHistory = await Learner.languageModel(whole, train, () => valid.epoch(0)).fit(lmPlan);
    const expected = weightsOf(whole);
    whole.dispose();

    const dir = path.join(tmp, 'lm-run');
    const part = LanguageModel.load(init).model;
    setSeed(8);
    const controller = new AbortController();
    let steps = 0;
    const stopAt = batches.batchesIn(0) + 3;
    await Learner.languageModel(part, train, () => valid.epoch(0), { vocab: lmVocab }).fit(
      lmPlan,
      {},
      {
        signal: controller.signal,
        checkpoint: { dir },
        onStep: () => {
          if (++steps === stopAt) controller.abort();
        },
      },
    );
    part.dispose();
    setSeed(77);
    const loaded = LanguageModel.load(dir, { optimizer: true });
    expect(loaded.trainingState!.tensors.has('train.1.c')).toBe(true);
    let resumed = 0;
    const history = await Learner.languageModel(loaded.model, train, () => valid.epoch(0), { vocab: lmVocab }).fit(
      lmPlan,
      {},
      {
        resume: loaded.trainingState,
        onStep: () => resumed++,
      },
    );
    expect(resumed).toBe(total - stopAt);
    expectBitIdentical(weightsOf(loaded.model), expected);
    expect(history).toEqual(wholeHistory);
    loaded.model.dispose();
  });

  it('saves the best model by a validation metric and stops early when onEpoch says so', async () => {
    setSeed(3);
    const model = new Classifier({ vocabSize: 40, numClasses: 2, embSize: 8, hiddenSize: 10, seqLen: 4, maxLen: 12, dropMult: 0.2 });
    const { train, valid } = classifierSetup();
    const dir = path.join(tmp, 'best');
    const seen: number[] = [];
    const history = await Learner.classifier(model, train, valid, saveOptions).fit(
      [{ frozenBefore: 0, epochs: 6, lrs: 1e-2 }],
      {},
      {
        best: { dir, metric: 'loss' },
        onEpoch: (e) => {
          seen.push(e.valid!.loss);
          return seen.length === 3 ? 'stop' : undefined;
        },
      },
    );
    expect(history).toHaveLength(3);
    const best = Classifier.load(dir);
    expect(best.trainingState).toBeNull();
    const bestLoss = Math.min(...seen);
    // The saved model is the epoch with the lowest validation loss: evaluating it gives that loss again.
    let loss = 0;
    let count = 0;
    for (const b of valid()) {
      const r = await best.model.evalStep(b);
      loss += r.loss;
      count += r.count;
    }
    expect(loss / count).toBeCloseTo(bestLoss, 5);
    await expect(
      Learner.classifier(model, train).fit([{ frozenBefore: 0, epochs: 1, lrs: 1e-3 }], {}, { best: { dir, metric: 'loss' } }),
    ).rejects.toThrow(/need the save options/);
    best.model.dispose();
    model.dispose();
  });
});
