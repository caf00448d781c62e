// The learning-rate finder's arithmetic (Smith 2017, as fastai runs it): rates rise exponentially from
// startLr to endLr over the sweep, the loss is smoothed with a bias-corrected moving average, the sweep stops
// once the smoothed loss exceeds `divergence` times its best, and two suggestions are read off the curve:
// - steepest: where the smoothed loss falls fastest against log(lr);
// - valley: the middle of the longest run of ever-lower losses (a decreasing subsequence of the curve),
//   which sits before the loss turns and is less sensitive to noise than the steepest point.
// The sweep itself (training steps, then restoring the model) is Learner.lrFind.
import { z } from 'zod';

export const LrFindOptionsSchema = z
  .object({
    startLr: z.number().positive().default(1e-7),
    endLr: z.number().positive().default(10),
    steps: z.number().int().min(5).default(100).describe('Steps in the sweep (fewer when the loss diverges first).'),
    smoothing: z.number().min(0).lt(1).default(0.98).describe("Weight of the past in the loss's moving average."),
    divergence: z
      .number()
      .nonnegative()
      .default(4)
      .describe('Stop once the smoothed loss is this many times its lowest; 0: never stop early.'),
    frozenBefore: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .describe('Groups before this one stay frozen during the sweep (default: as the model is).'),
    factor: z
      .number()
      .min(1)
      .default(1)
      .describe("Discriminative spacing of the sweep's rates over the groups (1: every group at the same rate, as fastai)."),
  })
  .refine((o) => o.endLr > o.startLr, { message: 'endLr must be above startLr', path: ['endLr'] });

export type LrFindOptionsInput = z.input<typeof LrFindOptionsSchema>;
export type LrFindOptions = z.output<typeof LrFindOptionsSchema>;

export interface LrFindResult {
  /** The last group's rate at each step taken. */
  lrs: number[];
  /** Each step's training loss, and its smoothed value. */
  losses: number[];
  smoothed: number[];
  /** True when the sweep stopped because the loss diverged (or a step was not finite). */
  diverged: boolean;
  suggestions: { steepest: number; valley: number; minimumOverTen: number };
}

/** The rate at step i of an exponential sweep of n steps. */
export function sweepLr(i: number, n: number, startLr: number, endLr: number): number {
  return startLr * (endLr / startLr) ** (n === 1 ? 0 : i / (n - 1));
}

/** Bias-corrected exponential moving average of a series. */
export function smoothLosses(losses: readonly number[], beta: number): number[] {
  let avg = 0;
  return losses.map((loss, i) => {
    avg = beta * avg + (1 - beta) * loss;
    return avg / (1 - beta ** (i + 1));
  });
}

/** Suggested rates from a sweep's (lr, smoothed loss) curve. */
export function suggestLrs(lrs: readonly number[], smoothed: readonly number[]): LrFindResult['suggestions'] {
  const n = lrs.length;
  if (n < 2 || smoothed.length !== n) throw new RangeError(`lr finder: a curve needs at least 2 points, got ${n}`);
  let best = 0;
  for (let i = 1; i < n; i++) if (smoothed[i]! < smoothed[best]!) best = i;
  // Steepest: the most negative slope against log(lr), from differences between neighbours.
  let steepest = 0;
  let slope = Infinity;
  for (let i = 0; i < n - 1; i++) {
    const s = (smoothed[i + 1]! - smoothed[i]!) / (Math.log(lrs[i + 1]!) - Math.log(lrs[i]!));
    if (s < slope) {
      slope = s;
      steepest = i;
    }
  }
  // Valley: the longest decreasing subsequence ending at each point (O(n^2); sweeps are short).
  const runLength = new Array<number>(n).fill(1);
  const runStart = Array.from({ length: n }, (_, i) => i);
  let end = 0;
  for (let i = 1; i < n; i++) {
    for (let j = 0; j < i; j++) {
      if (smoothed[i]! < smoothed[j]! && runLength[j]! + 1 > runLength[i]!) {
        runLength[i] = runLength[j]! + 1;
        runStart[i] = runStart[j]!;
      }
    }
    if (runLength[i]! > runLength[end]!) end = i;
  }
  const valley = Math.round((runStart[end]! + end) / 2);
  return { steepest: lrs[steepest]!, valley: lrs[valley]!, minimumOverTen: lrs[best]! / 10 };
}
