import { describe, expect, it } from 'vitest';

import { groupHyperAt, groupLrs } from '../../src/train/discriminative.js';
import { oneCycle, stlr } from '../../src/train/schedules.js';

const close = (a: number[], b: number[]) => a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 15));

describe('discriminative learning rates', () => {
  it("divides by 2.6 per group below the top (the paper's rule)", () => {
    close(groupLrs(0.01, 5), [0.01 / 2.6 ** 4, 0.01 / 2.6 ** 3, 0.01 / 2.6 ** 2, 0.01 / 2.6, 0.01]);
    close(groupLrs({ top: 1, factor: 2 }, 3), [0.25, 0.5, 1]);
  });

  it("spreads a [low, high] pair geometrically, as fastai's slice does", () => {
    close(groupLrs({ low: 1e-3 / 2.6 ** 4, high: 1e-3 }, 5), [1e-3 / 2.6 ** 4, 1e-3 / 2.6 ** 3, 1e-3 / 2.6 ** 2, 1e-3 / 2.6, 1e-3]);
    close(groupLrs({ low: 1, high: 100 }, 3), [1, 10, 100]);
    expect(groupLrs({ low: 1, high: 2 }, 1)).toEqual([2]);
  });

  it('takes one rate per group, and names a wrong count or order', () => {
    expect(groupLrs({ lrs: [1, 2, 3] }, 3)).toEqual([1, 2, 3]);
    expect(() => groupLrs({ lrs: [1, 2] }, 3)).toThrow(/2 rates for 3 layer groups/);
    expect(() => groupLrs({ low: 2, high: 1 }, 3)).toThrow(/low 2 is above high 1/);
    expect(() => groupLrs(-1, 3)).toThrow(/learning rates/);
  });

  it("gives every group its step's hyperparameters from a schedule", () => {
    const base = { beta1: 0.7, beta2: 0.99, momentum: 0.6, weightDecay: 0.01 };
    const peaks = groupLrs(0.01, 5);
    const h = groupHyperAt(stlr(), 10, 100, peaks, base, 'adamw');
    close(
      h.map((g) => g.lr),
      peaks,
    );
    expect(h.every((g) => g.beta1 === 0.7 && g.beta2 === 0.99 && g.momentum === 0.6 && g.weightDecay === 0.01)).toBe(true);
    const first = groupHyperAt(oneCycle(), 0, 100, peaks, base, 'adamw');
    close(
      first.map((g) => g.lr),
      peaks.map((p) => p / 25),
    );
    expect(first[0]!.beta1).toBeCloseTo(0.95, 12);
    expect(first[0]!.momentum).toBe(0.6);
    // With SGD the schedule's momentum term is SGD's momentum; Adam's beta1 stays the base's.
    const sgd = groupHyperAt(oneCycle(), 0, 100, peaks, base, 'sgd');
    expect(sgd[0]!.momentum).toBeCloseTo(0.95, 12);
    expect(sgd[0]!.beta1).toBe(0.7);
  });
});
