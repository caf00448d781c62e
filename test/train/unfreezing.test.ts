import { describe, expect, it } from 'vitest';

import { groupLrs } from '../../src/train/discriminative.js';
import { fastaiPlan, paperPlan, validatePlan } from '../../src/train/unfreezing.js';

describe('gradual unfreezing plans', () => {
  it("unfreezes one more group per epoch from the last, then trains all (the paper's plan)", () => {
    const plan = paperPlan(5, { lrs: 0.01, finalEpochs: 3 });
    expect(plan.map((s) => [s.frozenBefore, s.epochs])).toEqual([
      [4, 1],
      [3, 1],
      [2, 1],
      [1, 1],
      [0, 3],
    ]);
    expect(plan.every((s) => s.schedule === 'stlr' && !s.clearOptimizerState)).toBe(true);
    expect(groupLrs(plan[0]!.lrs, 5)[4]).toBe(0.01);
  });

  it("follows fastai's classifier recipe", () => {
    const plan = fastaiPlan(5);
    expect(plan.map((s) => [s.frozenBefore, s.epochs])).toEqual([
      [4, 1],
      [3, 1],
      [2, 1],
      [0, 2],
    ]);
    expect(groupLrs(plan[0]!.lrs, 5)).toEqual([2e-2, 2e-2, 2e-2, 2e-2, 2e-2]);
    const second = groupLrs(plan[1]!.lrs, 5);
    expect(second[0]).toBeCloseTo(1e-2 / 2.6 ** 4, 15);
    expect(second[4]).toBeCloseTo(1e-2, 15);
    expect(groupLrs(plan[3]!.lrs, 5)[4]).toBeCloseTo(1e-3, 15);
    expect(plan.every((s) => s.schedule === 'oneCycle' && s.clearOptimizerState)).toBe(true);
  });

  it('refuses a stage that freezes every group, and names it', () => {
    expect(() =>
      validatePlan(
        [
          { frozenBefore: 1, epochs: 1, lrs: 0.01 },
          { frozenBefore: 5, epochs: 1, lrs: 0.01 },
        ],
        5,
      ),
    ).toThrow(/stage 1 freezes groups before 5, but the model has 5/);
    expect(() => validatePlan([{ frozenBefore: 0, epochs: 0, lrs: 0.01 }], 5)).toThrow(/epochs/);
    expect(() => fastaiPlan(2)).toThrow(/at least 3 layer groups/);
  });
});
