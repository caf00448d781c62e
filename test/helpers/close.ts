// The golden-parity tolerance: |ours - golden| <= 1e-5 |golden| + 1e-6 max|golden|, elementwise.
import { expect } from 'vitest';

export function expectClose(ours: ArrayLike<number>, golden: ArrayLike<number>, what: string): void {
  expect(ours.length, `${what}: length`).toBe(golden.length);
  let scale = 0;
  for (let i = 0; i < golden.length; i++) scale = Math.max(scale, Math.abs(golden[i]!));
  for (let i = 0; i < golden.length; i++) {
    const diff = Math.abs(ours[i]! - golden[i]!);
    if (!(diff <= 1e-5 * Math.abs(golden[i]!) + 1e-6 * scale)) {
      expect.fail(`${what}[${i}]: ours ${ours[i]}, golden ${golden[i]} (diff ${diff})`);
    }
  }
}
