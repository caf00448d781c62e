import { describe, expect, it } from 'vitest';

import { Random } from '../../src/data/random.js';

describe('Random', () => {
  it('gives the same numbers for the same keys and different ones for different keys', () => {
    const draw = (...keys: number[]): number[] => {
      const r = new Random(...keys);
      return Array.from({ length: 8 }, () => r.nextUint32());
    };
    expect(draw(1, 2)).toEqual(draw(1, 2));
    expect(draw(1, 2)).not.toEqual(draw(1, 3));
    expect(draw(1, 2)).not.toEqual(draw(2, 1));
    expect(draw(2 ** 40)).not.toEqual(draw(0)); // high bits of a seed count
  });

  it('draws uniform floats and integers, and normal values with the right moments', () => {
    const r = new Random(7);
    const n = 200_000;
    let sum = 0;
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < n; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
      buckets[r.int(10)]!++;
    }
    expect(sum / n).toBeCloseTo(0.5, 2);
    for (const b of buckets) expect(Math.abs(b / n - 0.1)).toBeLessThan(0.005);
    let m = 0;
    let s = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal(70, 5);
      m += z;
      s += (z - 70) ** 2;
    }
    expect(m / n).toBeCloseTo(70, 1);
    expect(Math.sqrt(s / n)).toBeCloseTo(5, 1);
  });

  it('permutes every element exactly once', () => {
    const p = new Random(3).permutation(1000);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect([...p]).not.toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });
});
