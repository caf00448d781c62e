// Discriminative fine-tuning: each layer group gets its own peak learning rate, the first group (nearest
// the input) the smallest. Three ways to say which, as fastai and the paper do: a top rate divided by a factor
// per group going down (the paper: lr(l-1) = lr(l) / 2.6), a [low, high] pair spread geometrically over the
// groups (fastai's slice(low, high)), or one rate per group.
import { z } from 'zod';

import { validate } from '../options.js';
import type { Schedule } from './schedules.js';

const Lr = z.number().positive().finite();

export const GroupLrsSchema = z.union([
  /** The last group's rate; the others divided by 2.6 per group below it. */
  Lr,
  z.object({ top: Lr, factor: z.number().min(1).default(2.6) }).strict(),
  /** fastai's slice(low, high): low for the first group, high for the last, geometric in between. */
  z.object({ low: Lr, high: Lr }).strict(),
  /** One rate per group, first group first (0 leaves a group where it is). */
  z.object({ lrs: z.array(z.number().nonnegative().finite()).min(1) }).strict(),
]);

export type GroupLrsInput = z.input<typeof GroupLrsSchema>;

/** Each group's peak learning rate, first group first. */
export function groupLrs(spec: GroupLrsInput, numGroups: number): number[] {
  if (!Number.isInteger(numGroups) || numGroups < 1)
    throw new RangeError(`groupLrs: numGroups must be a positive integer, got ${numGroups}`);
  const s = validate(GroupLrsSchema, spec, 'learning rates');
  const last = numGroups - 1;
  if (typeof s === 'number') return Array.from({ length: numGroups }, (_, g) => s / 2.6 ** (last - g));
  if ('top' in s) return Array.from({ length: numGroups }, (_, g) => s.top / s.factor ** (last - g));
  if ('low' in s) {
    if (s.low > s.high) throw new RangeError(`learning rates: low ${s.low} is above high ${s.high}`);
    if (numGroups === 1) return [s.high];
    return Array.from({ length: numGroups }, (_, g) => s.low * (s.high / s.low) ** (g / last));
  }
  if (s.lrs.length !== numGroups) throw new RangeError(`learning rates: ${s.lrs.length} rates for ${numGroups} layer groups`);
  return [...s.lrs];
}

export interface GroupStepHyper {
  lr: number;
  beta1: number;
  beta2: number;
  momentum: number;
  weightDecay: number;
}

/**
 * Every group's hyperparameters for one step: its peak rate times the schedule's factor, and the schedule's
 * momentum term where it has one (Adam's beta1, or SGD's momentum, by the optimizer; else the base's). What a
 * native trainStep takes as `groups`.
 */
export function groupHyperAt(
  schedule: Schedule,
  step: number,
  total: number,
  peaks: readonly number[],
  base: Omit<GroupStepHyper, 'lr'>,
  optimizer: 'adamw' | 'sgd',
): GroupStepHyper[] {
  const point = schedule(step, total);
  const scheduled = point.momentum === undefined ? {} : optimizer === 'sgd' ? { momentum: point.momentum } : { beta1: point.momentum };
  return peaks.map((peak) => ({ ...base, ...scheduled, lr: peak * point.lrFactor }));
}
