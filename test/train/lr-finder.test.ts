import { describe, expect, it } from 'vitest';

import { Classifier, getRngState, setSeed, suggestLrs } from '../../src/index.js';
import { smoothLosses, sweepLr } from '../../src/train/lr-finder.js';
import { classifierSource, twoClassDocuments } from '../helpers/toy-data.js';
import { Learner } from '../../src/train/learner.js';

describe('lr finder arithmetic', () => {
  it('sweeps exponentially, smooths with bias correction, and reads steepest and valley off a curve', () => {
    expect(sweepLr(0, 5, 1e-4, 1)).toBeCloseTo(1e-4, 18);
    expect(sweepLr(2, 5, 1e-4, 1)).toBeCloseTo(1e-2, 15);
    expect(sweepLr(4, 5, 1e-4, 1)).toBeCloseTo(1, 12);
    // Bias correction: a constant series stays constant from the first point.
    expect(smoothLosses([3, 3, 3], 0.98)).toEqual([3, 3, 3].map(() => expect.closeTo(3, 12)));
    expect(smoothLosses([1, 3], 0.5)[1]).toBeCloseTo((0.5 * 0.5 * 1 + 0.5 * 3) / (1 - 0.25), 12);
    // A curve flat, then falling (fastest between points 5 and 6), then rising.
    const lrs = Array.from({ length: 12 }, (_, i) => 10 ** (-6 + i * 0.5));
    const losses = [5, 5, 5, 4.9, 4.6, 4.0, 2.8, 2.3, 2.1, 2.05, 3, 9];
    const s = suggestLrs(lrs, losses);
    expect(s.steepest).toBe(lrs[5]);
    expect(s.minimumOverTen).toBeCloseTo(lrs[9]! / 10, 15);
    // The longest decreasing subsequence runs from point 0 (the first 5) to point 9 (2.05): its middle is
    // point 5 (4.5 rounded).
    expect(s.valley).toBe(lrs[5]);
    expect(suggestLrs(lrs.slice(0, 4), [4, 3, 2, 1]).valley).toBe(lrs[2]);
    expect(() => suggestLrs([1], [1])).toThrow(/at least 2 points/);
  });
});

describe('Learner.lrFind', () => {
  it('sweeps, stops when the loss diverges, and leaves the model, its optimizer and the generator as they were', async () => {
    setSeed(4);
    const train = classifierSource(twoClassDocuments(64, 0), { batchSize: 8, seqLen: 4, order: 'sortish', seed: 1, dropLast: true });
    const model = new Classifier({ vocabSize: 40, numClasses: 2, embSize: 8, hiddenSize: 10, seqLen: 4, maxLen: 12 });
    const learner = Learner.classifier(model, train);
    // Some optimizer state and a frozen group first, so that there is something to restore.
    await learner.fit([{ frozenBefore: 1, epochs: 1, lrs: 1e-3 }]);
    const before = model.snapshot();
    const rng = getRngState();
    const result = await learner.lrFind({ startLr: 1e-5, endLr: 100, steps: 40, frozenBefore: 0 });
    // 40 steps are 5 epochs of this source (8 batches each): the sweep crosses epochs.
    expect(result.lrs.length).toBeGreaterThan(5);
    expect(result.lrs.length).toBeLessThanOrEqual(40);
    expect(result.diverged).toBe(true);
    expect(result.smoothed).toHaveLength(result.lrs.length);
    for (const lr of Object.values(result.suggestions)) {
      expect(lr).toBeGreaterThan(1e-6);
      expect(lr).toBeLessThan(100);
    }
    const after = model.snapshot();
    expect(after.frozenBefore).toBe(1);
    expect(after.weights).toEqual(before.weights);
    expect(after.optimizer).toEqual(before.optimizer);
    expect(getRngState()).toEqual(rng);
    await expect(learner.lrFind({ startLr: 1, endLr: 0.1 })).rejects.toThrow(/endLr must be above startLr/);
    model.dispose();
  });
});
