// One direction of one stage: a fresh model (or, with resume, the one whose training state is in the model
// directory), a Learner over its data, the plan, checkpoints into the directory, and clean-up when
// something fails. The stage functions differ only in the model, the data and the plan they pass in.
import fs from 'node:fs';
import path from 'node:path';

import type { ProcessGroup } from '../distributed/process-group.js';
import type { Classifier } from '../model/classifier.js';
import { FILES, ModelDirectoryError, recoverModelDirectory, vocabularyHash, type SavedTrainingState } from '../model/directory.js';
import type { LanguageModel } from '../model/language-model.js';
import { setSeed } from '../runtime.js';
import type { EpochEvent, FitOptionsInput, Learner, StepEvent } from '../train/learner.js';
import type { LrFindOptionsInput, LrFindResult } from '../train/lr-finder.js';
import type { UnfreezeStageInput } from '../train/unfreezing.js';
import type { Direction } from './text-models.js';

type StepHook = (event: StepEvent & { direction: Direction }) => void;
type EpochHook = (event: EpochEvent<unknown> & { direction: Direction }) => void | 'stop';

export interface StageRun<T extends LanguageModel | Classifier, B, M> {
  direction: Direction;
  dir: string | undefined;
  resume: boolean;
  seed: number;
  vocab: readonly string[];
  /** A new model (drawn after the seed is set). */
  create(): T;
  /** The model saved in `dir`, with its optimizer state and training state. */
  open(dir: string): { model: T; vocab: string[]; trainingState: SavedTrainingState | null };
  learner(model: T, save: boolean): Learner<B, M>;
  plan(model: T): UnfreezeStageInput[];
  fit: FitOptionsInput;
  everySteps: number;
  lrFind: boolean | LrFindOptionsInput;
  lrFindOnly: boolean;
  onStep?: StepHook | undefined;
  onEpoch?: EpochHook | undefined;
  signal?: AbortSignal | undefined;
  /** Data parallelism: every rank runs the stage; rank 0 alone writes `dir`. */
  group: ProcessGroup | null;
}

/**
 * Trains one direction; returns the model, each epoch's figures and the validation metrics before the first
 * step (null for a resumed run).
 */
export async function runStage<T extends LanguageModel | Classifier, B, M>(
  run: StageRun<T, B, M>,
): Promise<{ model: T; history: EpochEvent<M>[]; initialValid: M | null; lrFinder: LrFindResult | null }> {
  let model: T;
  let resume: SavedTrainingState | null = null;
  // A checkpoint save killed at the wrong moment leaves the last one moved aside: resume from it (rank 0
  // puts it back while the other ranks wait, then all read it).
  if (run.resume && run.dir && (run.group?.rank ?? 0) === 0) recoverModelDirectory(run.dir);
  if (run.resume && run.group) await run.group.allReduce(new Float64Array(1));
  if (run.resume && run.dir && fs.existsSync(path.join(run.dir, FILES.config))) {
    const opened = run.open(run.dir);
    model = opened.model;
    if (vocabularyHash(opened.vocab) !== vocabularyHash(run.vocab)) {
      model.dispose();
      throw new ModelDirectoryError(
        `${run.dir}: the saved run has another vocabulary than this data's; resume with the same data and options`,
      );
    }
    if (!opened.trainingState) {
      model.dispose();
      throw new ModelDirectoryError(`${run.dir}: holds a model but no training state to resume (${FILES.trainingState})`);
    }
    resume = opened.trainingState;
  } else {
    setSeed(run.seed);
    model = run.create();
  }
  try {
    const learner = run.learner(model, run.dir !== undefined);
    const plan = run.plan(model);
    let lrFinder: LrFindResult | null = null;
    if (run.lrFind !== false && !resume) {
      const options = run.lrFind === true ? {} : run.lrFind;
      lrFinder = await learner.lrFind({ frozenBefore: plan[0]?.frozenBefore ?? 0, ...options }, run.fit);
    }
    const initialValid = resume ? null : await learner.validate();
    if (run.lrFindOnly) return { model, history: [], initialValid, lrFinder };
    const history = await learner.fit(plan, run.fit, {
      ...(run.onStep ? { onStep: (e: StepEvent) => run.onStep!({ ...e, direction: run.direction }) } : {}),
      ...(run.onEpoch ? { onEpoch: (e: EpochEvent<M>) => run.onEpoch!({ ...e, direction: run.direction }) } : {}),
      ...(run.signal ? { signal: run.signal } : {}),
      ...(run.dir ? { checkpoint: { dir: run.dir, everySteps: run.everySteps } } : {}),
      resume,
    });
    return { model, history, initialValid, lrFinder };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** The fields of a StageRun that come straight from a stage's options. */
export function runFields(
  o: {
    resume: boolean;
    seed: number;
    fit: FitOptionsInput;
    checkpointEverySteps: number;
    lrFind: boolean | LrFindOptionsInput;
    lrFindOnly: boolean;
    onStep?: StepHook | undefined;
    onEpoch?: EpochHook | undefined;
    signal?: AbortSignal | undefined;
    processGroup?: ProcessGroup | undefined;
  },
  where: { direction: Direction; dir: string | undefined },
  vocab: readonly string[],
) {
  return {
    ...where,
    vocab,
    resume: o.resume,
    seed: o.seed,
    fit: o.fit,
    everySteps: o.checkpointEverySteps,
    lrFind: o.lrFind,
    lrFindOnly: o.lrFindOnly,
    onStep: o.onStep,
    onEpoch: o.onEpoch,
    signal: o.signal,
    group: o.processGroup ?? null,
  };
}

/** The directions a stage trains, and where each one's model directory is. */
export function directionsOf(
  direction: 'forward' | 'backward' | 'both',
  dir: string | undefined,
): { direction: Direction; dir: string | undefined }[] {
  const list: Direction[] = direction === 'both' ? ['forward', 'backward'] : [direction];
  return list.map((d) => ({ direction: d, dir: dir === undefined ? undefined : direction === 'both' ? path.join(dir, d) : dir }));
}

/**
 * Refuses, before any data is read, to train into a model directory that already holds a model, unless the
 * run resumes it or is told to overwrite it: a finished model is never replaced by a run started by mistake.
 */
export function claimModelDirectories(o: {
  direction: 'forward' | 'backward' | 'both';
  dir?: string | undefined;
  resume: boolean;
  overwrite: boolean;
}): void {
  if (o.resume && o.overwrite) throw new RangeError('resume and overwrite contradict each other: choose one');
  if (o.resume || o.overwrite) return;
  for (const { dir } of directionsOf(o.direction, o.dir)) {
    if (dir !== undefined && fs.existsSync(path.join(dir, FILES.config))) {
      throw new ModelDirectoryError(
        `${dir} already holds a model: resume its run (resume: true, --resume) or replace it (overwrite: true, --overwrite)`,
      );
    }
  }
}
