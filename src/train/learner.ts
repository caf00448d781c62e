// The Learner: trains one model through the stages of a plan, step by step. Per step, TypeScript decides
// every group's learning rate and beta1 (the stage's schedule over its peak rates) and the native engine
// does the rest in one call; the next batch is laid out while that call runs. Validation after each epoch,
// events per step and epoch, cancellation with an AbortSignal (after the step in flight, model intact),
// checkpoints of the whole training state into the model directory, resume from one, and the LR finder.
// Data parallelism: given a process group, the Learner starts every rank from rank 0's weights and attaches
// the model (gradients averaged inside the native step); after each step the ranks agree on the mean loss and
// on stopping (so that Ctrl-C stops them all after the same step); validation metrics are summed over the
// ranks; only rank 0 writes checkpoints and the best model (with every rank's LM hidden state gathered).
import { z } from 'zod';

import type { ClassifierBatch } from '../data/classifier-batches.js';
import type { ProcessGroup } from '../distributed/process-group.js';
import type { NamedTensor } from '../io/safetensors.js';
import { ClassifierStepHyperSchema, type Classifier, type ClassifierSaveOptions } from '../model/classifier.js';
import type { SavedTrainingState, TrainingStateFiles } from '../model/directory.js';
import { GroupHyperSchema, OptimizerHyperSchema, type AppliedGroupHyper, type ModelSnapshot, type SaveOptions } from '../model/engine.js';
import { StepHyperSchema, type LanguageModel, type LmBatch } from '../model/language-model.js';
import { validate } from '../options.js';
import { getRngState, setRngState } from '../runtime.js';
import { groupHyperAt, groupLrs, type GroupStepHyper } from './discriminative.js';
import { LrFindOptionsSchema, smoothLosses, suggestLrs, sweepLr, type LrFindOptionsInput, type LrFindResult } from './lr-finder.js';
import { classifierMetrics, lmMetrics, type ClassifierMetrics, type LmMetrics } from './metrics.js';
import { NonFiniteError } from './non-finite-error.js';
import { constant, oneCycle, stlr, warmupCosine, type Schedule } from './schedules.js';
import {
  decodeRng,
  encodeRng,
  parseTrainingState,
  sameFitOptions,
  TRAINING_STATE_VERSION,
  TrainingStateError,
  type Position,
  type TrainingStateJson,
} from './training-state.js';
import { validatePlan, type UnfreezeStage, type UnfreezeStageInput } from './unfreezing.js';

/** Where a Learner's batches come from: each epoch's batches (a fresh iterable per epoch) and how many there are. */
export interface BatchSource<B> {
  epoch(epoch: number): Iterable<B>;
  stepsPerEpoch: number;
  /** The exact count of one epoch where it varies (variable BPTT); stepsPerEpoch otherwise. */
  stepsIn?(epoch: number): number;
}

// The step's own fields come from the step schemas (model/engine.ts and each model kind's): one default each.
const fitFields = {
  optimizer: OptimizerHyperSchema.shape.optimizer,
  beta1: GroupHyperSchema.shape.beta1,
  beta2: GroupHyperSchema.shape.beta2,
  momentum: GroupHyperSchema.shape.momentum,
  eps: OptimizerHyperSchema.shape.eps,
  weightDecay: GroupHyperSchema.shape.weightDecay,
  moms: z
    .tuple([z.number(), z.number(), z.number()])
    .default([0.8, 0.7, 0.8])
    .describe("the momentum term (Adam's beta1, SGD's momentum) over a one-cycle stage (fastai's text recipes: 0.8 -> 0.7 -> 0.8)"),
  classWeights: ClassifierStepHyperSchema.shape.classWeights.describe('classifier: cross-entropy weight per class'),
  maxSkippedSteps: z
    .union([z.number().int().nonnegative(), z.literal(Infinity)])
    .default(100)
    .describe(
      'Steps with a non-finite loss or gradient are skipped (weights unchanged) and counted; one more than this ends the run with a NonFiniteError (0: at the first; Infinity: never)',
    ),
};

/** A model kind's fit options: its step schema's clip, AR and TAR with that kind's defaults. */
export function fitOptionsSchemaFor(kind: 'language-model' | 'classifier') {
  const step = kind === 'language-model' ? StepHyperSchema : ClassifierStepHyperSchema;
  return z.object({ ...fitFields, clip: step.shape.clip, alpha: step.shape.alpha, beta: step.shape.beta });
}

/**
 * The fit options of any model kind (a stage's options carry them before the model exists): clip, AR and TAR
 * left unset take the model kind's defaults when the Learner starts (fitOptionsSchemaFor).
 */
export const FitOptionsSchema = z.object({
  ...fitFields,
  clip: StepHyperSchema.shape.clip
    .unwrap()
    .optional()
    .describe("global gradient-norm limit (0 turns it off; a stage may set its own); default: the model kind's"),
  alpha: StepHyperSchema.shape.alpha.unwrap().optional().describe("activation regularisation (AR); default: the model kind's"),
  beta: StepHyperSchema.shape.beta.unwrap().optional().describe("temporal activation regularisation (TAR); default: the model kind's"),
});

export type FitOptionsInput = z.input<typeof FitOptionsSchema>;
export type FitOptions = z.output<ReturnType<typeof fitOptionsSchemaFor>>;

export interface StepEvent {
  stage: number;
  epoch: number;
  /** Step within the stage, and the stage's step count. */
  step: number;
  stageSteps: number;
  /** Real (not padding) tokens in the step's batch, and the step's wall time in seconds: throughput. */
  tokens: number;
  seconds: number;
  loss: number;
  skipped: boolean;
  /** The optimizer, what the schedule asked for each group, and what the native step reports it applied. */
  optimizer: 'adamw' | 'sgd';
  groups: GroupStepHyper[];
  applied: AppliedGroupHyper[];
}

export interface EpochEvent<M> {
  stage: number;
  epoch: number;
  /** Mean training loss of the epoch's finite steps (NaN when every step was skipped). */
  trainLoss: number;
  skippedSteps: number;
  valid: M | null;
}

export interface FitHooks<M> {
  onStep?: (event: StepEvent) => void;
  /** Return 'stop' to end the run after this epoch (early stopping). */
  onEpoch?: (event: EpochEvent<M>) => void | 'stop';
  signal?: AbortSignal;
  /**
   * Save the model with its optimizer and the training state into `dir` at each epoch end, every
   * `everySteps` steps (0: only at epoch ends), and when the signal stops the run.
   */
  checkpoint?: { dir: string; everySteps?: number };
  /** Continue a run from a training state read back with the model (`load(dir, { optimizer: true })`). */
  resume?: SavedTrainingState | null;
  /** Save the model (without optimizer) into `dir` whenever validation `metric` improves. */
  best?: { dir: string; metric: string; mode?: 'min' | 'max' };
}

/** Element-wise sum over the ranks of a process group (identity without one). */
type Summer = (values: Float64Array) => Promise<Float64Array>;

interface StepHyper {
  optimizer: 'adamw' | 'sgd';
  groups: GroupStepHyper[];
  eps: number;
  clip: number;
  alpha: number;
  beta: number;
  classWeights?: number[];
}

// What the Learner needs from a model: groups, freezing, one training step, an evaluation, saving, and the
// state that lives outside the model directory's weights (an LM's hidden state).
interface Trainee<B, M> {
  kind: 'language-model' | 'classifier';
  numGroups: number;
  freezeTo(n: number, clearState: boolean): void;
  frozenBefore(): number;
  startEpoch(): void;
  /** Real tokens in a batch. */
  tokensIn(batch: B): number;
  step(batch: B, hyper: StepHyper): Promise<{ loss: number; skipped: boolean; applied: AppliedGroupHyper[] }>;
  /** The metrics of `batches`; `sum` adds the evaluation's totals over the ranks (identity in one process). */
  evaluate(batches: Iterable<B>, sum: Summer): Promise<M>;
  save: ((dir: string, state: TrainingStateFiles | null) => void) | null;
  broadcast(group: ProcessGroup): Promise<void>;
  attach(group: ProcessGroup): void;
  /** The state carried between steps (an LM's hidden state: [1, rows, hidden] per layer and kind). */
  carried(): NamedTensor[];
  restoreCarried(tensors: Map<string, NamedTensor>, file: string): void;
  snapshot(): ModelSnapshot;
  restoreSnapshot(s: ModelSnapshot): void;
}

/** A fit call's moving parts: its checked inputs, where it is, the epoch so far and the history. */
interface FitRun<M> {
  o: FitOptions;
  hooks: FitHooks<M>;
  stages: UnfreezeStage[];
  everySteps: number;
  /** The plan and the maths options as a checkpoint records them (a resume must match both). */
  planJson: unknown;
  optionsJson: Record<string, unknown>;
  history: EpochEvent<M>[];
  pos: Position;
  acc: { lossSum: number; counted: number; skipped: number };
  /** Where a resume started (its first stage keeps the optimizer state it was saved with). */
  resumedAt: Position | null;
  best: number | null;
  /** A resumed run that had already finished: nothing to train. */
  finished: boolean;
}

/** What every step of a stage shares. */
interface StagePlan {
  index: number;
  epochs: number;
  /** The stage's step count, over all its epochs. */
  total: number;
  peaks: number[];
  schedule: Schedule;
  base: Omit<GroupStepHyper, 'lr'>;
  clip: number;
}

function scheduleOf(stage: UnfreezeStage, moms: [number, number, number]): Schedule {
  if (stage.schedule === 'oneCycle') return oneCycle({ moms });
  if (stage.schedule === 'constant') return constant();
  if (stage.schedule === 'warmupCosine') return warmupCosine();
  return stlr();
}

// JSON has no NaN: an epoch whose steps were all skipped is written with trainLoss null.
function historyToJson<M>(history: readonly EpochEvent<M>[]): unknown[] {
  return history.map((h) => ({ ...h, trainLoss: Number.isFinite(h.trainLoss) ? h.trainLoss : null }));
}

function historyFromJson<M>(history: readonly unknown[]): EpochEvent<M>[] {
  return history.map((h) => {
    const e = h as EpochEvent<M> & { trainLoss: number | null };
    return { ...e, trainLoss: e.trainLoss ?? NaN };
  });
}

function lmStateTensors(model: LanguageModel): NamedTensor[] {
  return model.getState('train').flatMap((layer, l) => [
    { name: `train.${l}.h`, ...layer.h },
    { name: `train.${l}.c`, ...layer.c },
  ]);
}

export class Learner<B, M> {
  readonly #trainee: Trainee<B, M>;
  readonly #train: BatchSource<B>;
  readonly #valid: (() => Iterable<B>) | null;
  readonly #group: ProcessGroup | null;
  /** Set once every rank holds rank 0's weights and the model is attached. */
  #joined: Promise<void> | null = null;
  #epochsDone = 0;

  private constructor(trainee: Trainee<B, M>, train: BatchSource<B>, valid: (() => Iterable<B>) | null, group: ProcessGroup | null) {
    this.#trainee = trainee;
    this.#train = train;
    this.#valid = valid;
    this.#group = group;
  }

  /** The process group's ranks (1 without one). */
  get worldSize(): number {
    return this.#group?.worldSize ?? 1;
  }

  /** Whether this process writes checkpoints and the best model: rank 0 of a group, or the only process. */
  get writes(): boolean {
    return (this.#group?.rank ?? 0) === 0;
  }

  /** Data parallelism's start: rank 0's weights everywhere, then every step averages gradients (once per Learner). */
  #join(): Promise<void> {
    const group = this.#group;
    if (!group) return Promise.resolve();
    this.#joined ??= (async () => {
      await this.#trainee.broadcast(group);
      this.#trainee.attach(group);
    })();
    return this.#joined;
  }

  readonly #sum: Summer = async (values) => (this.#group ? this.#group.allReduce(values) : values);

  /** After a step: the ranks' mean loss, and whether any rank was told to stop (so that all stop together). */
  async #agree(loss: number, stop: boolean): Promise<{ loss: number; stop: boolean }> {
    if (!this.#group) return { loss, stop };
    const [sum, stops] = await this.#group.allReduce(Float64Array.of(loss, stop ? 1 : 0));
    return { loss: sum! / this.#group.worldSize, stop: stops! > 0 };
  }

  /**
   * A classifier Learner; metrics: loss, accuracy, error rate, macro-F1, confusion. `save` (vocabulary and
   * classes) is needed for checkpoints and the best model.
   */
  static classifier(
    model: Classifier,
    train: BatchSource<ClassifierBatch>,
    valid?: (() => Iterable<ClassifierBatch>) | null,
    save?: Omit<ClassifierSaveOptions, 'optimizer' | 'trainingState'>,
    group: ProcessGroup | null = null,
  ): Learner<ClassifierBatch, ClassifierMetrics> {
    return new Learner(
      {
        kind: 'classifier',
        numGroups: model.groups().length,
        freezeTo: (n, clear) => model.freezeTo(n, { clearState: clear }),
        frozenBefore: () => model.frozenBefore(),
        startEpoch: () => undefined,
        tokensIn: (batch) => batch.lengths.reduce((a, b) => a + b, 0),
        step: (batch, h) =>
          model.trainStep(batch, {
            optimizer: h.optimizer,
            groups: h.groups,
            eps: h.eps,
            clip: h.clip,
            alpha: h.alpha,
            beta: h.beta,
            ...(h.classWeights ? { classWeights: h.classWeights } : {}),
          }),
        evaluate: async (batches, sum) => {
          const n = model.config.numClasses;
          const totals = new Float64Array(2 + n * n); // loss, count, confusion
          for (const b of batches) {
            const r = await model.evalStep(b);
            totals[0]! += r.loss;
            totals[1]! += r.count;
            r.confusion.flat().forEach((v, i) => (totals[2 + i]! += v));
          }
          const t = await sum(totals);
          const confusion = Array.from({ length: n }, (_, i) => Array.from(t.subarray(2 + i * n, 2 + (i + 1) * n)));
          return classifierMetrics([{ loss: t[0]!, count: t[1]!, confusion }]);
        },
        save: save ? (dir, state) => model.save(dir, { ...save, optimizer: state !== null, trainingState: state }) : null,
        broadcast: (g) => g.broadcastModel(model),
        attach: (g) => g.attach(model),
        carried: () => [],
        restoreCarried: () => undefined,
        snapshot: () => model.snapshot(),
        restoreSnapshot: (s) => model.restoreSnapshot(s),
      },
      train,
      valid ?? null,
      group,
    );
  }

  /**
   * A language-model Learner; metrics: loss, perplexity, accuracy. The training hidden state resets at each
   * epoch (and is saved with a checkpoint mid-epoch); the validation one before each validation.
   */
  static languageModel(
    model: LanguageModel,
    train: BatchSource<LmBatch>,
    valid?: (() => Iterable<LmBatch>) | null,
    save?: Omit<SaveOptions, 'optimizer' | 'trainingState'>,
    group: ProcessGroup | null = null,
  ): Learner<LmBatch, LmMetrics> {
    return new Learner(
      {
        kind: 'language-model',
        numGroups: model.groups().length,
        freezeTo: (n, clear) => model.freezeTo(n, { clearState: clear }),
        frozenBefore: () => model.frozenBefore(),
        startEpoch: () => model.resetState('train'),
        tokensIn: (batch) => batch.input.length,
        step: (batch, h) =>
          model.trainStep(batch, { optimizer: h.optimizer, groups: h.groups, eps: h.eps, clip: h.clip, alpha: h.alpha, beta: h.beta }),
        evaluate: async (batches, sum) => {
          model.resetState('eval');
          const totals = new Float64Array(3); // loss, tokens, correct
          for (const b of batches) {
            const r = await model.evalStep(b);
            totals[0]! += r.loss;
            totals[1]! += r.tokens;
            totals[2]! += r.correct;
          }
          const [loss, tokens, correct] = await sum(totals);
          return lmMetrics([{ loss: loss!, tokens: tokens!, correct: correct! }]);
        },
        save: save ? (dir, state) => model.save(dir, { ...save, optimizer: state !== null, trainingState: state }) : null,
        broadcast: (g) => g.broadcastModel(model),
        attach: (g) => g.attach(model),
        carried: () => lmStateTensors(model),
        restoreCarried: (tensors, file) => {
          const layers = model.config.numLayers;
          const state = [];
          for (let l = 0; l < layers; l++) {
            const h = tensors.get(`train.${l}.h`);
            const c = tensors.get(`train.${l}.c`);
            if (!h || !c) throw new TrainingStateError(`${file}: the language model's hidden state for layer ${l} is missing`);
            state.push({ h: h.data, c: c.data });
          }
          const batchSize = tensors.get('train.0.h')!.shape[1]!;
          model.setState('train', batchSize, state);
        },
        snapshot: () => model.snapshot(),
        restoreSnapshot: (s) => model.restoreSnapshot(s),
      },
      train,
      valid ?? null,
      group,
    );
  }

  /**
   * The carried state of every rank, rows in rank order (rank 0 writes it): [1, rows, hidden] tensors become
   * [1, ranks x rows, hidden], the layout one process of ranks x rows would carry. One collective.
   */
  async #gatherCarried(): Promise<NamedTensor[]> {
    const own = this.#trainee.carried();
    const group = this.#group;
    if (!group || own.length === 0) return own;
    const size = own.reduce((n, t) => n + t.data.length, 0);
    const all = new Float32Array(size * group.worldSize); // other ranks' slots are zeros: the sum is exact
    let at = 0;
    for (const t of own) for (let r = 0; r < group.worldSize; r++, at += t.data.length) if (r === group.rank) all.set(t.data, at);
    const summed = await group.allReduce(all);
    at = 0;
    return own.map((t) => {
      const data = summed.slice(at, at + t.data.length * group.worldSize);
      at += data.length;
      return { name: t.name, shape: [t.shape[0]!, t.shape[1]! * group.worldSize, ...t.shape.slice(2)], data };
    });
  }

  /** This rank's rows of carried state saved by #gatherCarried. */
  #ownCarried(tensors: Map<string, NamedTensor>, file: string): Map<string, NamedTensor> {
    const group = this.#group;
    if (!group) return tensors;
    const own = new Map<string, NamedTensor>();
    for (const [name, t] of tensors) {
      const rows = t.shape[1]!;
      if (rows % group.worldSize !== 0)
        throw new TrainingStateError(`${file}: ${name} has ${rows} rows, not a share for each of ${group.worldSize} ranks`);
      const length = t.data.length / group.worldSize;
      const data = t.data.slice(group.rank * length, (group.rank + 1) * length);
      own.set(name, { name, shape: [t.shape[0]!, rows / group.worldSize, ...t.shape.slice(2)], data });
    }
    return own;
  }

  #stepsIn(epoch: number): number {
    return this.#train.stepsIn ? this.#train.stepsIn(epoch) : this.#train.stepsPerEpoch;
  }

  /**
   * Trains through the stages in order; returns each epoch's figures (with a resume, those before it too).
   * Stops after the step in flight when `signal` aborts (the history ends there; the model is as that step
   * left it, and a checkpoint is written when asked for).
   */
  async fit(plan: readonly UnfreezeStageInput[], options: FitOptionsInput = {}, hooks: FitHooks<M> = {}): Promise<EpochEvent<M>[]> {
    const run = this.#startRun(plan, options, hooks);
    if (run.finished) return run.history;
    await this.#join();
    for (let s = run.pos.stage; s < run.stages.length; s++) {
      if ((await this.#trainStage(run, s)) === 'stopped') return run.history;
      run.pos = { ...run.pos, epochInStage: 0, stepInStage: 0 };
    }
    return run.history;
  }

  /** The checked options and plan of a fit call, and where it starts: at the beginning, or where a resume left off. */
  #startRun(plan: readonly UnfreezeStageInput[], options: FitOptionsInput, hooks: FitHooks<M>): FitRun<M> {
    const t = this.#trainee;
    const stages = validatePlan(plan, t.numGroups);
    const o = validate(fitOptionsSchemaFor(t.kind), options, 'fit options');
    // An option that means nothing for this kind of model is a mistake, never silently ignored.
    if (o.classWeights && t.kind !== 'classifier') throw new TypeError('fit options: classWeights applies to classifiers only');
    const everySteps = hooks.checkpoint?.everySteps ?? 0;
    if (!Number.isInteger(everySteps) || everySteps < 0)
      throw new RangeError(`fit: checkpoint.everySteps must be a non-negative integer, got ${everySteps}`);
    if ((hooks.checkpoint || hooks.best) && !t.save) {
      throw new TypeError('fit: checkpoints and the best model need the save options (vocabulary, classes) given to the Learner');
    }
    // The options that shape the maths; the skip limit is not one of them, so a resume may raise it.
    const { maxSkippedSteps: _limit, ...mathOptions } = o;
    const run: FitRun<M> = {
      o,
      hooks,
      stages,
      everySteps,
      planJson: JSON.parse(JSON.stringify(stages)) as unknown,
      optionsJson: JSON.parse(JSON.stringify(mathOptions)) as Record<string, unknown>,
      history: [],
      pos: { stage: 0, epochInStage: 0, stepInStage: 0, epoch: this.#epochsDone, batch: 0, stepsDone: 0 },
      acc: { lossSum: 0, counted: 0, skipped: 0 },
      resumedAt: null,
      best: null,
      finished: false,
    };
    if (hooks.resume) this.#resume(run, hooks.resume);
    return run;
  }

  /** Puts a run where its saved training state left it, after checking that it is the same run. */
  #resume(run: FitRun<M>, saved: SavedTrainingState): void {
    const t = this.#trainee;
    const state = parseTrainingState(saved);
    const file = `${saved.dir}/training-state.json`;
    if (state.learner !== t.kind)
      throw new TrainingStateError(`${file}: the state is a ${state.learner}'s, this Learner trains a ${t.kind}`);
    if (JSON.stringify(state.plan) !== JSON.stringify(run.planJson))
      throw new TrainingStateError(`${file}: the run was started with another plan; resume it with the same plan`);
    const { maxSkippedSteps: _limit, ...defaults } = fitOptionsSchemaFor(t.kind).parse({});
    if (!sameFitOptions(state.options, run.optionsJson, defaults))
      throw new TrainingStateError(`${file}: the run was started with other fit options; resume it with the same options`);
    if (state.worldSize !== this.worldSize) {
      throw new TrainingStateError(
        `${file}: the run was trained by ${state.worldSize} process(es), this one has ${this.worldSize}: resume it with ${state.worldSize} (ulmfit launch --nproc)`,
      );
    }
    if (state.stepsPerEpoch !== this.#train.stepsPerEpoch) {
      throw new TrainingStateError(
        `${file}: the run had ${state.stepsPerEpoch} steps per epoch, this data source ${this.#train.stepsPerEpoch}: resume it with the same data and batch options`,
      );
    }
    run.history = historyFromJson<M>(state.history);
    run.finished = state.finished;
    if (state.finished) return;
    run.pos = state.position;
    run.acc = state.epochSoFar;
    run.resumedAt = { ...state.position };
    this.#epochsDone = run.pos.epoch;
    setRngState(decodeRng(state.rng));
    const tensorsFile = `${saved.dir}/training-state.safetensors`;
    if (run.pos.batch > 0) this.#trainee.restoreCarried(this.#ownCarried(state.tensors, tensorsFile), tensorsFile);
  }

  /** Writes the whole training state into the checkpoint directory, when the run has one (rank 0; every rank calls it). */
  async #checkpoint(run: FitRun<M>, finished: boolean): Promise<void> {
    const t = this.#trainee;
    if (!run.hooks.checkpoint) return;
    const tensors = run.pos.batch > 0 ? await this.#gatherCarried() : [];
    if (!this.writes) return;
    const json: TrainingStateJson = {
      format: 'ulmfit-training-state',
      version: TRAINING_STATE_VERSION,
      learner: t.kind,
      plan: run.planJson,
      options: run.optionsJson,
      stepsPerEpoch: this.#train.stepsPerEpoch,
      worldSize: this.worldSize,
      position: run.pos,
      epochSoFar: run.acc,
      history: historyToJson(run.history),
      rng: encodeRng(getRngState()),
      finished,
      savedAt: new Date().toISOString(),
    };
    t.save!(run.hooks.checkpoint.dir, { json, tensors });
  }

  /** One stage of the plan: its frozen groups, peak rates, schedule and epochs. */
  async #trainStage(run: FitRun<M>, s: number): Promise<'stopped' | 'done'> {
    const { o, resumedAt } = run;
    const stage = run.stages[s]!;
    const midStage = resumedAt !== null && s === resumedAt.stage && (resumedAt.epochInStage > 0 || resumedAt.stepInStage > 0);
    // A resumed stage keeps the optimizer state it was saved with.
    this.#trainee.freezeTo(stage.frozenBefore, midStage ? false : stage.clearOptimizerState);
    const firstEpoch = this.#epochsDone - run.pos.epochInStage;
    let total = 0;
    for (let e = 0; e < stage.epochs; e++) total += this.#stepsIn(firstEpoch + e);
    const plan: StagePlan = {
      index: s,
      epochs: stage.epochs,
      total,
      peaks: groupLrs(stage.lrs, this.#trainee.numGroups),
      schedule: scheduleOf(stage, o.moms),
      base: { beta1: o.beta1, beta2: o.beta2, momentum: o.momentum, weightDecay: stage.weightDecay ?? o.weightDecay },
      clip: stage.clip ?? o.clip,
    };
    for (let e = run.pos.epochInStage; e < stage.epochs; e++) {
      if ((await this.#agree(0, run.hooks.signal?.aborted ?? false)).stop) {
        await this.#checkpoint(run, false);
        return 'stopped';
      }
      if ((await this.#trainEpoch(run, plan, e)) === 'stopped') return 'stopped';
      if ((await this.#endEpoch(run, plan, e)) === 'stopped') return 'stopped';
    }
    return 'done';
  }

  /** The steps of one epoch of a stage, from where the run is (a resume may start mid-epoch). */
  async #trainEpoch(run: FitRun<M>, plan: StagePlan, e: number): Promise<'stopped' | 'done'> {
    const t = this.#trainee;
    const { o, hooks } = run;
    const epoch = this.#epochsDone;
    const steps = this.#stepsIn(epoch);
    const batches = this.#train.epoch(epoch)[Symbol.iterator]();
    if (run.pos.batch === 0) {
      t.startEpoch();
      run.acc = { lossSum: 0, counted: 0, skipped: 0 };
    }
    for (let k = 0; k < run.pos.batch; k++) {
      if (batches.next().done)
        throw new TrainingStateError(`resume: epoch ${epoch} has fewer than the ${run.pos.batch} batches already trained`);
    }
    let next = batches.next();
    let step = run.pos.stepInStage;
    for (let i = run.pos.batch; i < steps && !next.done; i++) {
      const groups = groupHyperAt(plan.schedule, step, plan.total, plan.peaks, plan.base, o.optimizer);
      const started = performance.now();
      const tokens = t.tokensIn(next.value);
      const { alpha, beta, classWeights } = o;
      const running = t.step(next.value, { optimizer: o.optimizer, groups, eps: o.eps, clip: plan.clip, alpha, beta, classWeights });
      next = batches.next(); // laid out while the native step runs
      const r = await running;
      const agreed = await this.#agree(r.loss, hooks.signal?.aborted ?? false);
      if (r.skipped) run.acc.skipped++;
      else {
        run.acc.lossSum += agreed.loss;
        run.acc.counted++;
      }
      const seconds = (performance.now() - started) / 1000;
      hooks.onStep?.({
        stage: plan.index,
        epoch,
        step,
        stageSteps: plan.total,
        tokens,
        seconds,
        loss: agreed.loss,
        skipped: r.skipped,
        optimizer: o.optimizer,
        groups,
        applied: r.applied,
      });
      step++;
      run.pos = { stage: plan.index, epochInStage: e, stepInStage: step, epoch, batch: i + 1, stepsDone: run.pos.stepsDone + 1 };
      if (r.skipped) await this.#checkSkipLimit(run, plan.index, epoch, step - 1);
      // One process sees a stop asked for in onStep at once; ranks stop where they agreed to (the next step).
      const stop = this.#group ? agreed.stop : (hooks.signal?.aborted ?? false);
      if (i + 1 < steps) {
        if (stop) {
          await this.#checkpoint(run, false);
          return 'stopped';
        }
        if (run.everySteps > 0 && run.pos.stepsDone % run.everySteps === 0) await this.#checkpoint(run, false);
      }
    }
    if (!next.done || run.pos.batch !== steps) {
      throw new RangeError(`Learner: epoch ${epoch} does not have the ${steps} batches its source promised (stepsPerEpoch / stepsIn)`);
    }
    return 'done';
  }

  /** Ends the run with a NonFiniteError (and a checkpoint) once more steps were skipped than allowed. */
  async #checkSkipLimit(run: FitRun<M>, stage: number, epoch: number, step: number): Promise<void> {
    const limit = run.o.maxSkippedSteps;
    const skippedSteps = run.history.reduce((n, h) => n + h.skippedSteps, 0) + run.acc.skipped;
    if (skippedSteps <= limit) return;
    await this.#checkpoint(run, false);
    const saved = run.hooks.checkpoint ? `; they are saved, with the training state, in ${run.hooks.checkpoint.dir}` : '';
    throw new NonFiniteError(
      `fit: ${skippedSteps} steps skipped for a non-finite loss or gradient, more than maxSkippedSteps (${limit}); the last at stage ${stage}, epoch ${epoch}, step ${step}. ` +
        `The model holds the weights of the last finite step${saved}. Lower the learning rate, check the data, or raise maxSkippedSteps.`,
      skippedSteps,
      { stage, epoch, step },
    );
  }

  /** After an epoch's steps: validation, the history, the next position, the checkpoint, the best model, onEpoch. */
  async #endEpoch(run: FitRun<M>, plan: StagePlan, e: number): Promise<'stopped' | 'done'> {
    const { hooks } = run;
    const epoch = this.#epochsDone;
    this.#epochsDone++;
    const event: EpochEvent<M> = {
      stage: plan.index,
      epoch,
      trainLoss: run.acc.counted ? run.acc.lossSum / run.acc.counted : NaN,
      skippedSteps: run.acc.skipped,
      valid: this.#valid ? await this.#trainee.evaluate(this.#valid(), this.#sum) : null,
    };
    run.history.push(event);
    const last = e + 1 === plan.epochs && plan.index + 1 === run.stages.length;
    const { stepInStage, stepsDone } = run.pos;
    run.pos =
      e + 1 < plan.epochs
        ? { stage: plan.index, epochInStage: e + 1, stepInStage, epoch: this.#epochsDone, batch: 0, stepsDone }
        : { stage: plan.index + 1, epochInStage: 0, stepInStage: 0, epoch: this.#epochsDone, batch: 0, stepsDone };
    run.acc = { lossSum: 0, counted: 0, skipped: 0 };
    await this.#checkpoint(run, last);
    if (hooks.best) run.best = this.#saveIfBest(hooks.best, event, run.best);
    return hooks.onEpoch?.(event) === 'stop' ? 'stopped' : 'done';
  }

  /** The validation metrics now (null without validation data): e.g. before training, as a baseline. */
  async validate(): Promise<M | null> {
    await this.#join();
    return this.#valid ? this.#trainee.evaluate(this.#valid(), this.#sum) : null;
  }

  #saveIfBest(spec: NonNullable<FitHooks<M>['best']>, event: EpochEvent<M>, best: number | null): number | null {
    if (!event.valid) throw new TypeError('fit: the best model is chosen on validation metrics; give the Learner validation data');
    const value = (event.valid as Record<string, unknown>)[spec.metric];
    if (typeof value !== 'number')
      throw new TypeError(`fit: best.metric "${spec.metric}" is not a validation metric (${Object.keys(event.valid).join(', ')})`);
    const better = best === null || ((spec.mode ?? 'min') === 'min' ? value < best : value > best);
    if (!better) return best;
    if (this.writes) this.#trainee.save!(spec.dir, null);
    return value;
  }

  /**
   * The learning-rate finder: one exponential sweep of training steps (every group at the sweep's rate, or
   * spaced by `factor`), smoothed loss, stop on divergence. The model, its optimizer state, its frozen groups,
   * the generators and an LM's hidden state are put back afterwards, so the sweep leaves no trace.
   */
  async lrFind(options: LrFindOptionsInput = {}, fit: FitOptionsInput = {}): Promise<LrFindResult> {
    const o = validate(LrFindOptionsSchema, options, 'lrFind options');
    const f = validate(fitOptionsSchemaFor(this.#trainee.kind), fit, 'fit options');
    const t = this.#trainee;
    await this.#join();
    const saved = { model: t.snapshot(), rng: getRngState(), carried: t.carried() };
    const lrs: number[] = [];
    const losses: number[] = [];
    let diverged = false;
    try {
      if (o.frozenBefore !== undefined) {
        if (o.frozenBefore >= t.numGroups)
          throw new RangeError(`lrFind: frozenBefore ${o.frozenBefore}, but the model has ${t.numGroups} groups`);
        t.freezeTo(o.frozenBefore, false);
      }
      let epoch = this.#epochsDone;
      let batches = this.#train.epoch(epoch)[Symbol.iterator]();
      t.startEpoch();
      let best = Infinity;
      for (let i = 0; i < o.steps; i++) {
        let next = batches.next();
        if (next.done) {
          batches = this.#train.epoch(++epoch)[Symbol.iterator]();
          t.startEpoch();
          next = batches.next();
          if (next.done) throw new RangeError('lrFind: the training source has no batches');
        }
        const lr = sweepLr(i, o.steps, o.startLr, o.endLr);
        const groups = Array.from({ length: t.numGroups }, (_, g) => ({
          lr: lr / o.factor ** (t.numGroups - 1 - g),
          beta1: f.beta1,
          beta2: f.beta2,
          momentum: f.momentum,
          weightDecay: f.weightDecay,
        }));
        const r = await t.step(next.value, {
          optimizer: f.optimizer,
          groups,
          eps: f.eps,
          clip: f.clip,
          classWeights: f.classWeights,
          alpha: f.alpha,
          beta: f.beta,
        });
        const loss = (await this.#agree(r.loss, false)).loss; // every rank decides on the same figures
        if (r.skipped || !Number.isFinite(loss)) {
          diverged = true;
          break;
        }
        lrs.push(lr);
        losses.push(loss);
        const smoothed = smoothLosses(losses, o.smoothing).at(-1)!;
        best = Math.min(best, smoothed);
        if (o.divergence > 0 && i > 0 && smoothed > o.divergence * best) {
          diverged = true;
          break;
        }
      }
    } finally {
      t.restoreSnapshot(saved.model);
      setRngState(saved.rng);
      if (saved.carried.length) t.restoreCarried(new Map(saved.carried.map((c) => [c.name, c])), 'lrFind');
      else t.startEpoch();
    }
    const smoothed = smoothLosses(losses, o.smoothing);
    if (lrs.length < 2) throw new RangeError(`lrFind: the loss diverged after ${lrs.length} step(s); lower startLr`);
    return { lrs, losses, smoothed, diverged, suggestions: suggestLrs(lrs, smoothed) };
  }
}
