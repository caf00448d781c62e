import { describe, expect, it } from 'vitest';

import { classifierMetrics, lmMetrics } from '../../src/train/metrics.js';

describe('metrics', () => {
  it('weights the LM cross-entropy by tokens; perplexity is its exp', () => {
    const m = lmMetrics([
      { loss: 10, tokens: 5, correct: 1 },
      { loss: 30, tokens: 15, correct: 5 },
    ]);
    expect(m.loss).toBe(2);
    expect(m.perplexity).toBeCloseTo(Math.exp(2), 12);
    expect(m.accuracy).toBe(0.3);
    expect(() => lmMetrics([])).toThrow(/no tokens/);
  });

  it('sums confusion matrices and computes accuracy, error rate and macro-F1', () => {
    const m = classifierMetrics([
      {
        loss: 3,
        count: 4,
        confusion: [
          [2, 0, 0],
          [1, 1, 0],
          [0, 0, 0],
        ],
      },
      {
        loss: 1,
        count: 2,
        confusion: [
          [0, 0, 0],
          [0, 1, 0],
          [0, 0, 1],
        ],
      },
    ]);
    expect(m.confusion).toEqual([
      [2, 0, 0],
      [1, 2, 0],
      [0, 0, 1],
    ]);
    expect(m.count).toBe(6);
    expect(m.loss).toBeCloseTo(4 / 6, 12);
    expect(m.accuracy).toBeCloseTo(5 / 6, 12);
    expect(m.errorRate).toBeCloseTo(1 / 6, 12);
    // F1: class 0 2*2/(2+3) = 0.8, class 1 2*2/(3+2) = 0.8, class 2 1.
    expect(m.macroF1).toBeCloseTo((0.8 + 0.8 + 1) / 3, 12);
  });
});
