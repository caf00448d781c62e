// Gradual unfreezing: a plan of stages, each training the last groups for some epochs at its own learning
// rates. The paper's plan unfreezes one more group per epoch from the last; fastai's classifier recipe does
// it in four one-cycle stages with its own rates. A stage's frozenBefore is what the engines' freezeTo takes.
import { z } from 'zod';

import { validate } from '../options.js';
import { GroupLrsSchema } from './discriminative.js';

export const UnfreezeStageSchema = z.object({
  /** Groups before this one stay frozen (0: all train). */
  frozenBefore: z.number().int().min(0),
  epochs: z.number().int().min(1),
  /** The stage's peak learning rates (see groupLrs). */
  lrs: GroupLrsSchema,
  /** The stage's schedule over its steps. */
  schedule: z.enum(['stlr', 'oneCycle', 'constant', 'warmupCosine']).default('stlr'),
  /** Start the stage with a fresh optimizer state (fastai does at each freeze_to). */
  clearOptimizerState: z.boolean().default(true),
  /** This stage's gradient-norm limit and weight decay; absent: the fit options'. */
  clip: z.number().nonnegative().optional(),
  weightDecay: z.number().nonnegative().optional(),
});

export type UnfreezeStageInput = z.input<typeof UnfreezeStageSchema>;
export type UnfreezeStage = z.output<typeof UnfreezeStageSchema>;

/** Checks a plan against a model's group count: every stage must leave at least the last group training. */
export function validatePlan(plan: readonly UnfreezeStageInput[], numGroups: number): UnfreezeStage[] {
  const stages = validate(z.array(UnfreezeStageSchema).min(1), plan, 'unfreezing plan');
  stages.forEach((s, i) => {
    if (s.frozenBefore >= numGroups) {
      throw new RangeError(
        `unfreezing plan: stage ${i} freezes groups before ${s.frozenBefore}, but the model has ${numGroups} (at least the last must train)`,
      );
    }
  });
  return stages;
}

export const PaperPlanOptionsSchema = z.object({
  /** The peak learning rates of every stage (the paper: discriminative, 2.6 per group). */
  lrs: GroupLrsSchema,
  /** Epochs with every group training, after one epoch per unfrozen group ("until convergence"). */
  finalEpochs: z.number().int().min(1).default(1),
  schedule: UnfreezeStageSchema.shape.schedule,
  clearOptimizerState: z.boolean().default(false),
});

/**
 * The paper's gradual unfreezing: the last group for one epoch, then the last two for one epoch, and so on,
 * then all groups for finalEpochs. The optimizer state is kept between stages unless asked.
 */
export function paperPlan(numGroups: number, options: z.input<typeof PaperPlanOptionsSchema>): UnfreezeStage[] {
  const o = validate(PaperPlanOptionsSchema, options, 'paper plan options');
  const stages: UnfreezeStageInput[] = [];
  for (let frozen = numGroups - 1; frozen >= 0; frozen--) {
    stages.push({
      frozenBefore: frozen,
      epochs: frozen === 0 ? o.finalEpochs : 1,
      lrs: o.lrs,
      schedule: o.schedule,
      clearOptimizerState: o.clearOptimizerState,
    });
  }
  return validatePlan(stages, numGroups);
}

/**
 * fastai's classifier recipe (one-cycle per stage, optimizer state cleared at each): the last group for one
 * epoch at 2e-2; freeze_to(-2) for one at slice(1e-2/2.6**4, 1e-2); freeze_to(-3) for one at
 * slice(5e-3/2.6**4, 5e-3); everything for two at slice(1e-3/2.6**4, 1e-3).
 */
export function fastaiPlan(numGroups: number): UnfreezeStage[] {
  if (numGroups < 3) throw new RangeError(`fastai's plan needs at least 3 layer groups, the model has ${numGroups}`);
  const slice = (top: number) => ({ low: top / 2.6 ** 4, high: top });
  return validatePlan(
    [
      { frozenBefore: numGroups - 1, epochs: 1, lrs: { lrs: Array.from({ length: numGroups }, () => 2e-2) }, schedule: 'oneCycle' },
      { frozenBefore: numGroups - 2, epochs: 1, lrs: slice(1e-2), schedule: 'oneCycle' },
      { frozenBefore: numGroups - 3, epochs: 1, lrs: slice(5e-3), schedule: 'oneCycle' },
      { frozenBefore: 0, epochs: 2, lrs: slice(1e-3), schedule: 'oneCycle' },
    ],
    numGroups,
  );
}
