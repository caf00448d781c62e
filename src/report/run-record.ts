// What a run leaves for its report: per stage (and direction) every step's loss, each group's rate, the
// momentum term and throughput, every epoch's metrics, validation before training, the LR finder's curve, the class
// names; and the run's config and environment. Collected through the stage functions' hooks, kept as plain
// JSON (run.json) so a report can be drawn again from it.
import type { LrFindResult } from '../train/lr-finder.js';
import type { EpochEvent, StepEvent } from '../train/learner.js';

export interface StepRecord {
  stage: number;
  epoch: number;
  loss: number;
  skipped: boolean;
  /** Each group's applied learning rate (0 while frozen). */
  lrs: number[];
  /** The optimizer's momentum term (Adam's beta1, SGD's momentum) in the last group. */
  momentum: number;
  tokens: number;
  seconds: number;
}

export interface EpochRecord {
  stage: number;
  epoch: number;
  trainLoss: number | null;
  valid: Record<string, unknown> | null;
  /** Steps of this stage record done when the epoch ended. */
  atStep: number;
}

export interface StageRecord {
  name: string;
  kind: 'language-model' | 'classifier';
  direction: 'forward' | 'backward';
  groupNames: string[];
  initialValid: Record<string, unknown> | null;
  steps: StepRecord[];
  epochs: EpochRecord[];
  lrFinder: Pick<LrFindResult, 'lrs' | 'losses' | 'smoothed' | 'suggestions'> | null;
  classes: string[] | null;
}

export interface RunRecord {
  title: string;
  startedAt: string;
  finishedAt: string | null;
  config: unknown;
  environment: Record<string, unknown>;
  stages: StageRecord[];
  notes: string[];
}

type Direction = 'forward' | 'backward';

export class RunRecorder {
  readonly record: RunRecord;

  constructor(title: string, config: unknown, environment: Record<string, unknown>) {
    this.record = { title, startedAt: new Date().toISOString(), finishedAt: null, config, environment, stages: [], notes: [] };
  }

  /** The record of a stage and direction (made on first use). */
  stage(name: string, kind: StageRecord['kind'], direction: Direction = 'forward'): StageRecord {
    let s = this.record.stages.find((r) => r.name === name && r.direction === direction);
    if (!s) {
      s = { name, kind, direction, groupNames: [], initialValid: null, steps: [], epochs: [], lrFinder: null, classes: null };
      this.record.stages.push(s);
    }
    return s;
  }

  /** Hooks for a stage function: they record, then call `then` (progress display) with the same event. */
  hooks(
    name: string,
    kind: StageRecord['kind'],
    then: {
      onStep?: (e: StepEvent & { direction: Direction }) => void;
      onEpoch?: (e: EpochEvent<unknown> & { direction: Direction }) => void;
    } = {},
  ) {
    return {
      onStep: (e: StepEvent & { direction: Direction }) => {
        const applied = e.applied.length ? e.applied : e.groups.map((g) => ({ ...g, trained: true }));
        this.stage(name, kind, e.direction).steps.push({
          stage: e.stage,
          epoch: e.epoch,
          loss: e.loss,
          skipped: e.skipped,
          lrs: applied.map((g) => (g.trained ? g.lr : 0)),
          momentum: (e.optimizer === 'sgd' ? e.groups.at(-1)?.momentum : e.groups.at(-1)?.beta1) ?? NaN,
          tokens: e.tokens,
          seconds: e.seconds,
        });
        then.onStep?.(e);
      },
      onEpoch: (e: EpochEvent<unknown> & { direction: Direction }) => {
        const s = this.stage(name, kind, e.direction);
        s.epochs.push({
          stage: e.stage,
          epoch: e.epoch,
          trainLoss: Number.isFinite(e.trainLoss) ? e.trainLoss : null,
          valid: (e.valid as Record<string, unknown> | null) ?? null,
          atStep: s.steps.length,
        });
        then.onEpoch?.(e);
      },
    };
  }

  /** What is known once a stage has returned: group names, validation before training, classes. */
  finishStage(
    name: string,
    kind: StageRecord['kind'],
    model: { direction: Direction; initialValid: unknown; model: { groups(): { name: string }[] }; classes?: string[] },
  ): void {
    const s = this.stage(name, kind, model.direction);
    s.groupNames = model.model.groups().map((g) => g.name);
    s.initialValid = (model.initialValid as Record<string, unknown> | null) ?? null;
    s.classes = model.classes ?? null;
  }

  finish(): RunRecord {
    this.record.finishedAt = new Date().toISOString();
    return this.record;
  }
}
