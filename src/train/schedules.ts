// Learning-rate (and momentum) schedules as pure functions of (step, total steps): each gives a factor of a
// layer group's own peak learning rate, and optionally the optimizer's momentum term for that step. Steps
// are 0-based: a run of `total` steps sees step = 0 .. total - 1.
import { z } from 'zod';

import { validate } from '../options.js';

export interface SchedulePoint {
  /** Multiplies each layer group's peak learning rate. */
  lrFactor: number;
  /** The momentum term for this step (Adam's beta1, SGD's momentum); undefined: the run's fixed value. */
  momentum?: number;
}

export type Schedule = (step: number, total: number) => SchedulePoint;

function checkStep(step: number, total: number): void {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`schedule: total must be a positive integer, got ${total}`);
  if (!Number.isInteger(step) || step < 0 || step >= total)
    throw new RangeError(`schedule: step must be an integer in [0, ${total}), got ${step}`);
}

export const StlrOptionsSchema = z.object({
  cutFrac: z.number().gt(0).lt(1).default(0.1),
  ratio: z.number().min(1).default(32),
});

/**
 * Slanted triangular learning rates (Howard & Ruder 2018, eq. 3): a linear rise from 1/ratio of the peak over
 * the first cut = floor(total x cutFrac) steps (at least 1), then a linear fall towards 1/ratio. The paper
 * decays over cut x (1/cutFrac - 1) steps, which is total - cut when total is a multiple of 1/cutFrac; here
 * it always decays over total - cut steps, so it is the paper's schedule where that is well defined, and for
 * other totals (and those under 10 steps, where the paper's cut is 0) it neither overshoots below 1/ratio nor
 * divides by zero: the fall reaches 1/ratio at step `total`, one past the last, so the last step is just
 * above it. The momentum term stays fixed (the paper's beta1 0.7) unless a momentum schedule is given.
 */
export function stlr(options: z.input<typeof StlrOptionsSchema> = {}): Schedule {
  const { cutFrac, ratio } = validate(StlrOptionsSchema, options, 'stlr options');
  return (step, total) => {
    checkStep(step, total);
    const cut = Math.max(1, Math.floor(total * cutFrac));
    const p = step < cut ? step / cut : 1 - (step - cut) / (total - cut);
    return { lrFactor: (1 + p * (ratio - 1)) / ratio };
  };
}

export const OneCycleOptionsSchema = z.object({
  /** Fraction of the steps spent rising. */
  pctStart: z.number().gt(0).lt(1).default(0.25),
  /** Starts at peak / divStart ... */
  divStart: z.number().min(1).default(25),
  /** ... and ends at peak / divFinal. */
  divFinal: z.number().min(1).default(1e5),
  /** The momentum term (Adam's beta1, SGD's momentum) at the start, the peak and the end (fastai: 0.95, 0.85, 0.95; its text recipes 0.8, 0.7, 0.8). */
  moms: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.95, 0.85, 0.95]),
});

// Cosine annealing from `from` to `to` as `pos` goes from 0 to 1.
function cosine(from: number, to: number, pos: number): number {
  return to + ((from - to) * (1 + Math.cos(Math.PI * pos))) / 2;
}

/** fastai's one-cycle: cosine from peak/divStart up to the peak over pctStart, then cosine down to peak/divFinal; the momentum term mirrors it. */
export function oneCycle(options: z.input<typeof OneCycleOptionsSchema> = {}): Schedule {
  const { pctStart, divStart, divFinal, moms } = validate(OneCycleOptionsSchema, options, 'oneCycle options');
  return (step, total) => {
    checkStep(step, total);
    const pos = step / total; // fastai's position: the fraction of training done before this step
    if (pos < pctStart) {
      const q = pos / pctStart;
      return { lrFactor: cosine(1 / divStart, 1, q), momentum: cosine(moms[0], moms[1], q) };
    }
    const q = (pos - pctStart) / (1 - pctStart);
    return { lrFactor: cosine(1, 1 / divFinal, q), momentum: cosine(moms[1], moms[2], q) };
  };
}

/** The peak learning rate at every step. */
export function constant(): Schedule {
  return (step, total) => {
    checkStep(step, total);
    return { lrFactor: 1 };
  };
}

export const WarmupCosineOptionsSchema = z.object({
  /** Fraction of the steps spent on the linear warm-up from 0 (at least one step). */
  warmupFrac: z.number().min(0).lt(1).default(0.1),
  /** Where the cosine ends, as a fraction of the peak. */
  finalFactor: z.number().min(0).max(1).default(0),
});

/** A linear warm-up to the peak, then a cosine down to finalFactor x peak at step `total`. */
export function warmupCosine(options: z.input<typeof WarmupCosineOptionsSchema> = {}): Schedule {
  const { warmupFrac, finalFactor } = validate(WarmupCosineOptionsSchema, options, 'warmupCosine options');
  return (step, total) => {
    checkStep(step, total);
    const warmup = Math.floor(total * warmupFrac);
    // Step 0 of a warm-up trains at 1/(warmup + 1) of the peak, not at 0: a step at lr 0 would be wasted.
    if (step < warmup) return { lrFactor: (step + 1) / (warmup + 1) };
    return { lrFactor: cosine(1, finalFactor, (step - warmup) / (total - warmup)) };
  };
}
