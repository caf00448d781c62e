// The Learner: trains one model through the stages of a plan, step by step. Per step, TypeScript decides
// every group's learning rate and beta1 (the stage's schedule over its peak rates) and the native engine
// does the rest in one call; the next batch is laid out while that call runs. Validation after each epoch,
// events per step and epoch, cancellation with an AbortSignal (after the step in flight, model intact).
import { z } from 'zod';

import type { ClassifierBatch } from '../data/classifier-batches.js';
import type { Classifier } from '../model/classifier.js';
import type { LanguageModel, LmBatch } from '../model/language-model.js';
import { validate } from '../options.js';
import { groupHyperAt, groupLrs, type GroupStepHyper } from './discriminative.js';
import { classifierMetrics, lmMetrics, type ClassifierMetrics, type LmMetrics } from './metrics.js';
import { constant, oneCycle, stlr, warmupCosine, type Schedule } from './schedules.js';
import { validatePlan, type UnfreezeStage, type UnfreezeStageInput } from './unfreezing.js';

/** Where a Learner's batches come from: each epoch's batches (a fresh iterable per epoch) and how many there are. */
export interface BatchSource<B> {
  epoch(epoch: number): Iterable<B>;
  stepsPerEpoch: number;
}

export const FitOptionsSchema = z.object({
  /** Adam's beta1 where the schedule sets none (the paper: 0.7), beta2, decoupled weight decay. */
  beta1: z.number().min(0).lt(1).default(0.7),
  beta2: z.number().min(0).lt(1).default(0.99),
  weightDecay: z.number().nonnegative().default(0.01),
  /** Global gradient-norm limit (fastai's text recipes: 0.1); 0 turns it off. */
  clip: z.number().nonnegative().default(0.1),
  /** beta1 over a one-cycle stage (fastai's text recipes: 0.8 -> 0.7 -> 0.8). */
  moms: z.tuple([z.number(), z.number(), z.number()]).default([0.8, 0.7, 0.8]),
});

export type FitOptionsInput = z.input<typeof FitOptionsSchema>;

export interface StepEvent {
  stage: number;
  epoch: number;
  /** Step within the stage. */
  step: number;
  loss: number;
  skipped: boolean;
  groups: GroupStepHyper[];
}

export interface EpochEvent<M> {
  stage: number;
  epoch: number;
  trainLoss: number;
  skippedSteps: number;
  valid: M | null;
}

export interface FitHooks<M> {
  onStep?: (event: StepEvent) => void;
  onEpoch?: (event: EpochEvent<M>) => void;
  signal?: AbortSignal;
}

// What the Learner needs from a model: its groups, freezing, one training step, an evaluation.
interface Trainee<B, M> {
  numGroups: number;
  freezeTo(n: number, clearState: boolean): void;
  step(batch: B, groups: GroupStepHyper[], clip: number): Promise<{ loss: number; skipped: boolean }>;
  evaluate(batches: Iterable<B>): Promise<M>;
}

function scheduleOf(stage: UnfreezeStage, moms: [number, number, number]): Schedule {
  if (stage.schedule === 'oneCycle') return oneCycle({ moms });
  if (stage.schedule === 'constant') return constant();
  if (stage.schedule === 'warmupCosine') return warmupCosine();
  return stlr();
}

export class Learner<B, M> {
  readonly #trainee: Trainee<B, M>;
  readonly #train: BatchSource<B>;
  readonly #valid: (() => Iterable<B>) | null;
  #epochsDone = 0;

  private constructor(trainee: Trainee<B, M>, train: BatchSource<B>, valid: (() => Iterable<B>) | null) {
    this.#trainee = trainee;
    this.#train = train;
    this.#valid = valid;
  }

  /** A classifier Learner; metrics: loss, accuracy, error rate, macro-F1, confusion. */
  static classifier(model: Classifier, train: BatchSource<ClassifierBatch>, valid?: () => Iterable<ClassifierBatch>): Learner<ClassifierBatch, ClassifierMetrics> {
    return new Learner(
      {
        numGroups: model.groups().length,
        freezeTo: (n, clear) => model.freezeTo(n, { clearState: clear }),
        step: (batch, groups, clip) => model.trainStep(batch, { groups, clip }),
        evaluate: async (batches) => {
          const results = [];
          for (const b of batches) results.push(await model.evalStep(b));
          return classifierMetrics(results);
        },
      },
      train,
      valid ?? null,
    );
  }

  /** A language-model Learner; metrics: loss, perplexity, accuracy. The hidden states reset each epoch. */
  static languageModel(model: LanguageModel, train: BatchSource<LmBatch>, valid?: () => Iterable<LmBatch>): Learner<LmBatch, LmMetrics> {
    let lastEpoch = -1;
    return new Learner(
      {
        numGroups: model.groups().length,
        freezeTo: (n, clear) => model.freezeTo(n, { clearState: clear }),
        step: (batch, groups, clip) => model.trainStep(batch, { groups, clip }),
        evaluate: async (batches) => {
          model.resetState('eval');
          const results = [];
          for (const b of batches) results.push(await model.evalStep(b));
          return lmMetrics(results);
        },
      },
      {
        stepsPerEpoch: train.stepsPerEpoch,
        epoch: (e) => {
          if (e !== lastEpoch) model.resetState('train');
          lastEpoch = e;
          return train.epoch(e);
        },
      },
      valid ?? null,
    );
  }

  /**
   * Trains through the stages in order; returns each epoch's figures. Stops after the step in flight when
   * `signal` aborts (the returned history ends there; the model is left as that step left it).
   */
  async fit(plan: readonly UnfreezeStageInput[], options: FitOptionsInput = {}, hooks: FitHooks<M> = {}): Promise<EpochEvent<M>[]> {
    const stages = validatePlan(plan, this.#trainee.numGroups);
    const o = validate(FitOptionsSchema, options, 'fit options');
    const history: EpochEvent<M>[] = [];
    for (let s = 0; s < stages.length; s++) {
      const stage = stages[s]!;
      this.#trainee.freezeTo(stage.frozenBefore, stage.clearOptimizerState);
      const peaks = groupLrs(stage.lrs, this.#trainee.numGroups);
      const schedule = scheduleOf(stage, o.moms);
      const total = stage.epochs * this.#train.stepsPerEpoch;
      let step = 0;
      for (let e = 0; e < stage.epochs; e++) {
        if (hooks.signal?.aborted) return history;
        const epoch = this.#epochsDone;
        const batches = this.#train.epoch(epoch)[Symbol.iterator]();
        let lossSum = 0;
        let counted = 0;
        let skipped = 0;
        let next = batches.next();
        for (let i = 0; i < this.#train.stepsPerEpoch && !next.done; i++) {
          const groups = groupHyperAt(schedule, step, total, peaks, o);
          const running = this.#trainee.step(next.value, groups, o.clip);
          next = batches.next(); // laid out while the native step runs
          const r = await running;
          if (r.skipped) skipped++;
          else {
            lossSum += r.loss;
            counted++;
          }
          hooks.onStep?.({ stage: s, epoch, step, loss: r.loss, skipped: r.skipped, groups });
          step++;
          if (hooks.signal?.aborted) return history;
        }
        if (!next.done || step % this.#train.stepsPerEpoch !== 0) {
          throw new RangeError(`Learner: epoch ${epoch} does not have the ${this.#train.stepsPerEpoch} batches its source promised (stepsPerEpoch)`);
        }
        this.#epochsDone++;
        const event: EpochEvent<M> = {
          stage: s,
          epoch,
          trainLoss: counted ? lossSum / counted : NaN,
          skippedSteps: skipped,
          valid: this.#valid ? await this.#trainee.evaluate(this.#valid()) : null,
        };
        history.push(event);
        hooks.onEpoch?.(event);
      }
    }
    return history;
  }
}
