import { describe, expect, it } from 'vitest';

import { constant, oneCycle, stlr, warmupCosine } from '../../src/train/schedules.js';

const lrs = (s: ReturnType<typeof stlr>, total: number) => Array.from({ length: total }, (_, t) => s(t, total).lrFactor);

describe('slanted triangular learning rates', () => {
  const s = stlr();
  // eq. 3 by hand: (1 + p x 31) / 32.
  const f = (p: number) => (1 + p * 31) / 32;

  it("is the paper's equation where it is well defined (100 steps: cut 10, decay over 90)", () => {
    const v = lrs(s, 100);
    expect(v[0]).toBeCloseTo(1 / 32, 12);
    expect(v[5]).toBeCloseTo(f(0.5), 12);
    expect(v[10]).toBeCloseTo(1, 12); // the cut: the peak
    expect(v[55]).toBeCloseTo(f(1 - 45 / 90), 12);
    expect(v[99]).toBeCloseTo(f(1 / 90), 12); // the paper's last step: one step above lr/ratio
    expect(Math.max(...v)).toBe(v[10]);
  });

  it('handles 19 steps (cut 1, decay over 18) without going below peak/ratio', () => {
    const v = lrs(s, 19);
    expect(v[0]).toBeCloseTo(1 / 32, 12);
    expect(v[1]).toBeCloseTo(1, 12);
    expect(v[10]).toBeCloseTo(f(1 - 9 / 18), 12);
    expect(v[18]).toBeCloseTo(f(1 / 18), 12);
    expect(Math.min(...v)).toBeGreaterThanOrEqual(1 / 32);
  });

  it('handles 7 steps (the paper would have cut 0) and a single step', () => {
    const v = lrs(s, 7);
    expect(v).toHaveLength(7);
    expect(v[0]).toBeCloseTo(1 / 32, 12);
    expect(v[1]).toBeCloseTo(1, 12);
    expect(v[6]).toBeCloseTo(f(1 / 6), 12);
    for (let t = 2; t < 7; t++) expect(v[t]!).toBeLessThan(v[t - 1]!);
    expect(lrs(s, 1)).toEqual([1 / 32]);
    expect(s(0, 100).momentum).toBeUndefined();
  });

  it('takes cutFrac and ratio, and refuses a step outside the run', () => {
    const v = lrs(stlr({ cutFrac: 0.5, ratio: 4 }), 10);
    expect(v[0]).toBeCloseTo(0.25, 12);
    expect(v[5]).toBeCloseTo(1, 12);
    expect(v[9]).toBeCloseTo((1 + 0.2 * 3) / 4, 12);
    expect(() => s(10, 10)).toThrow(/step must be an integer in \[0, 10\)/);
    expect(() => stlr({ cutFrac: 1 })).toThrow(/cutFrac/);
  });
});

describe('one-cycle', () => {
  it("follows fastai's cosines for the rate and the momentum term", () => {
    const s = oneCycle({ moms: [0.8, 0.7, 0.8] });
    expect(s(0, 100).lrFactor).toBeCloseTo(1 / 25, 12);
    expect(s(0, 100).momentum).toBeCloseTo(0.8, 12);
    expect(s(25, 100).lrFactor).toBeCloseTo(1, 12);
    expect(s(25, 100).momentum).toBeCloseTo(0.7, 12);
    // Halfway up: the mean of the ends; halfway down likewise.
    expect(s(12, 96).lrFactor).toBeCloseTo((1 / 25 + 1) / 2, 12);
    expect(s(24 + 36, 96).lrFactor).toBeCloseTo((1 + 1e-5) / 2, 12);
    expect(s(24 + 36, 96).momentum).toBeCloseTo(0.75, 12);
    expect(s(99, 100).lrFactor).toBeGreaterThan(1e-5);
    expect(s(99, 100).lrFactor).toBeLessThan(1e-3);
  });
});

describe('constant and warm-up + cosine', () => {
  it('gives the peak at every step', () => {
    expect(lrs(constant(), 5)).toEqual([1, 1, 1, 1, 1]);
  });

  it('rises linearly, then falls on a cosine', () => {
    const s = warmupCosine({ warmupFrac: 0.2, finalFactor: 0.1 });
    expect(lrs(s, 20).slice(0, 5)).toEqual([1 / 5, 2 / 5, 3 / 5, 4 / 5, 1]);
    expect(s(12, 20).lrFactor).toBeCloseTo(0.1 + (0.9 * (1 + Math.cos(Math.PI / 2))) / 2, 12);
    expect(s(19, 20).lrFactor).toBeGreaterThan(0.1);
  });
});
