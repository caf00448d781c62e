// Non-finite values, inflicted: injectFault puts a NaN into the next step's loss, one gradient element, or
// the embeddings of the batch's first token. The step must come back skipped with every weight, BatchNorm
// statistic and optimizer moment as it was; a fit counts the skipped steps and goes on up to maxSkippedSteps,
// then ends with a NonFiniteError, the last finite step's weights kept in the model and in its checkpoint.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { Classifier, LanguageModel, LmBatches, NonFiniteError, setSeed, TokenStore } from '../../src/index.js';
import { Learner } from '../../src/train/learner.js';
import { classifierSource, twoClassDocuments } from '../helpers/toy-data.js';
import { injectFault, type Fault } from '../../src/testing.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-non-finite-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const FAULTS: Fault[] = ['loss', 'gradients', 'embeddings'];
const vocab = Array.from({ length: 40 }, (_, i) => `w${i}`);

/** Every parameter, buffer and optimizer moment, as bytes. */
function stateOf(model: LanguageModel | Classifier): Map<string, Buffer> {
  const { parameters, buffers } = model.parameters();
  const out = new Map<string, Buffer>();
  for (const p of [...parameters, ...buffers]) out.set(p.name, Buffer.from(model.getTensor(p.name).data.buffer.slice(0)));
  for (const t of model.snapshot().optimizer) out.set(`optimizer:${t.name}`, Buffer.from(t.data.buffer.slice(0)));
  return out;
}

function expectSameState(a: Map<string, Buffer>, b: Map<string, Buffer>, what: string): void {
  expect([...b.keys()], what).toEqual([...a.keys()]);
  for (const [name, bytes] of a) expect(bytes.equals(b.get(name)!), `${what}: ${name}`).toBe(true);
}

const lmBatch = () => ({
  input: Int32Array.from({ length: 24 }, (_, i) => 2 + ((i * 7) % 37)),
  target: Int32Array.from({ length: 24 }, (_, i) => 2 + ((i * 7 + 7) % 37)),
  batchSize: 3,
  seqLen: 8,
});
const lmHyper = { groups: Array.from({ length: 3 }, () => ({ lr: 1e-2 })) };

describe('a step with a NaN is skipped and changes nothing', () => {
  for (const where of FAULTS) {
    it(`language model: a NaN in the ${where}`, async () => {
      setSeed(5);
      const model = new LanguageModel({ vocabSize: 40, embSize: 6, hiddenSize: 8, numLayers: 2 });
      try {
        await model.trainStep(lmBatch(), lmHyper); // the optimizer has moments to keep
        const before = stateOf(model);
        const hiddenBefore = JSON.stringify(model.getState('train').map((l) => [...l.h.data, ...l.c.data]));
        injectFault(model, where);
        const hit = await model.trainStep(lmBatch(), lmHyper);
        expect(hit.skipped).toBe(true);
        expectSameState(before, stateOf(model), `after the ${where} fault`);
        // The carried hidden state too: a NaN that reached it would poison the following batches.
        expect(JSON.stringify(model.getState('train').map((l) => [...l.h.data, ...l.c.data]))).toBe(hiddenBefore);
        // The fault is spent: the next step trains.
        const next = await model.trainStep(lmBatch(), lmHyper);
        expect(next.skipped).toBe(false);
        expect(Number.isFinite(next.loss)).toBe(true);
        expect(model.getTensor('0.encoder.weight').data.every(Number.isFinite)).toBe(true);
      } finally {
        model.dispose();
      }
    });
  }

  for (const where of FAULTS) {
    it(`classifier: a NaN in the ${where} (BatchNorm statistics kept too)`, async () => {
      setSeed(6);
      const model = new Classifier({ vocabSize: 40, numClasses: 2, embSize: 6, hiddenSize: 8, numLayers: 2, seqLen: 4 });
      try {
        const source = classifierSource(twoClassDocuments(16, 1), { batchSize: 8, seqLen: 4, order: 'descending' });
        const [first, second] = [...source.epoch(0)];
        const hyper = { groups: Array.from({ length: 4 }, () => ({ lr: 1e-2 })) };
        await model.trainStep(first!, hyper);
        const before = stateOf(model);
        injectFault(model, where);
        expect((await model.trainStep(second!, hyper)).skipped).toBe(true);
        expectSameState(before, stateOf(model), `after the ${where} fault`);
        expect((await model.trainStep(second!, hyper)).skipped).toBe(false);
      } finally {
        model.dispose();
      }
    });
  }

  it('names a fault it does not know', () => {
    const model = new LanguageModel({ vocabSize: 10, embSize: 2, hiddenSize: 2, numLayers: 1 });
    try {
      expect(() => injectFault(model, 'weights' as Fault)).toThrow(
        'injectFault: where must be "loss", "gradients" or "embeddings", got "weights"',
      );
    } finally {
      model.dispose();
    }
  });
});

describe('a fit with non-finite steps: counted, then a limit', () => {
  // 5 steps an epoch of an LM over a synthetic stream; faults armed after the steps listed (so they hit the next).
  const stream = TokenStore.fromDocuments(
    Array.from({ length: 12 }, (_, d) => Int32Array.from({ length: 20 }, (_, i) => 2 + ((d * 11 + i * 5) % 37))),
  );
  const batches = new LmBatches(stream, { batchSize: 4, seqLen: 12, seed: 1 });
  const source = { stepsPerEpoch: batches.batchesIn(0), epoch: (e: number) => batches.epoch(e) };
  const plan = [{ frozenBefore: 0, epochs: 2, lrs: 1e-2 }];

  async function run(faultsAfter: number[], where: Fault, options: { maxSkippedSteps?: number } = {}, dir?: string) {
    setSeed(9);
    const model = new LanguageModel({ vocabSize: 40, embSize: 6, hiddenSize: 8, numLayers: 2 });
    const weightsAfter: Map<string, Buffer>[] = [stateOf(model)]; // [k]: after k steps
    if (faultsAfter.includes(0)) injectFault(model, where);
    let done = 0;
    const learner = Learner.languageModel(model, source, null, { vocab });
    const result = await learner
      .fit(plan, options, {
        onStep: () => {
          done++;
          weightsAfter.push(stateOf(model));
          if (faultsAfter.includes(done)) injectFault(model, where);
        },
        ...(dir ? { checkpoint: { dir, everySteps: 0 } } : {}),
      })
      .then(
        (history) => ({ history, error: null }),
        (error: unknown) => ({ history: null, error }),
      );
    return { model, weightsAfter, ...result };
  }

  it('goes on past a few skipped steps (under the default limit), counting them per epoch', async () => {
    expect(source.stepsPerEpoch).toBeGreaterThanOrEqual(4);
    const { model, history, error, weightsAfter } = await run([1, 6], 'embeddings');
    try {
      expect(error).toBeNull();
      expect(history!.map((e) => e.skippedSteps)).toEqual([1, 1]);
      expect(history!.every((e) => Number.isFinite(e.trainLoss))).toBe(true);
      // The skipped steps (the 2nd and the 7th) left the weights as the step before them did.
      expectSameState(weightsAfter[1]!, weightsAfter[2]!, 'step 2 skipped');
      expectSameState(weightsAfter[6]!, weightsAfter[7]!, 'step 7 skipped');
    } finally {
      model.dispose();
    }
  });

  it('maxSkippedSteps 0: the first NaN ends the run with a NonFiniteError; model and checkpoint hold the last finite weights', async () => {
    const dir = path.join(tmp, 'stopped');
    const { model, error, weightsAfter } = await run([3], 'loss', { maxSkippedSteps: 0 }, dir);
    try {
      expect(error).toBeInstanceOf(NonFiniteError);
      const e = error as NonFiniteError;
      expect(e.message).toMatch(
        /^fit: 1 steps skipped for a non-finite loss or gradient, more than maxSkippedSteps \(0\); the last at stage 0, epoch 0, step 3\./,
      );
      expect(e.message).toContain(`saved, with the training state, in ${dir}`);
      expect(e.skippedSteps).toBe(1);
      expect(e.at).toEqual({ stage: 0, epoch: 0, step: 3 });
      expect(weightsAfter).toHaveLength(5); // 4 steps ran, the 4th skipped
      const lastGood = weightsAfter[3]!;
      expectSameState(lastGood, stateOf(model), 'the model');
      const saved = LanguageModel.load(dir, { optimizer: true });
      try {
        expectSameState(lastGood, stateOf(saved.model), 'the checkpoint');
        expect(saved.trainingState).not.toBeNull();
      } finally {
        saved.model.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('maxSkippedSteps 2: the third skipped step ends it, wherever the faults fall', async () => {
    const { model, error, weightsAfter } = await run([0, 4, 7], 'gradients', { maxSkippedSteps: 2 });
    try {
      expect(error).toBeInstanceOf(NonFiniteError);
      expect((error as NonFiniteError).skippedSteps).toBe(3);
      expect(weightsAfter).toHaveLength(9); // steps 1..8 ran; the 8th was the third skipped
      expectSameState(weightsAfter[7]!, stateOf(model), 'the model');
    } finally {
      model.dispose();
    }
  });

  it('a run stopped by the limit resumes from its checkpoint with a higher one (the limit is not part of the maths)', async () => {
    const dir = path.join(tmp, 'raised');
    const first = await run([2], 'loss', { maxSkippedSteps: 0 }, dir);
    first.model.dispose();
    expect(first.error).toBeInstanceOf(NonFiniteError);
    const { model, trainingState } = LanguageModel.load(dir, { optimizer: true });
    try {
      const history = await Learner.languageModel(model, source, null, { vocab }).fit(
        plan,
        { maxSkippedSteps: 10 },
        { resume: trainingState! },
      );
      expect(history.map((e) => e.skippedSteps)).toEqual([1, 0]);
    } finally {
      model.dispose();
    }
  });
});
