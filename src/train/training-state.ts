// A Learner's training state: everything a run needs to continue exactly where it stopped, besides what the
// model directory already holds (weights, buffers, optimizer state, frozen groups). Written into the model
// directory in the same atomic save as the weights, so the two always match:
//   training-state.json         plan, options, position (stage, epoch, step, batch), the epoch's running
//                               sums, the history so far, LibTorch's generator states (base64)
//   training-state.safetensors  a language model's hidden state mid-epoch
// The data position is (epoch, batch): both pipelines draw an epoch's order from (seed, epoch), so a resumed
// run lays out the same batches and skips those already trained.
import { z } from 'zod';

import type { SavedTrainingState } from '../model/directory.js';
import type { NamedTensor } from '../io/safetensors.js';

export const TRAINING_STATE_VERSION = 1;

export class TrainingStateError extends Error {
  readonly code = 'ERR_ULMFIT_TRAINING_STATE';
  constructor(message: string) {
    super(message);
    this.name = 'TrainingStateError';
  }
}

export const PositionSchema = z.object({
  /** Stage of the plan, epoch within the stage, step within the stage. */
  stage: z.number().int().nonnegative(),
  epochInStage: z.number().int().nonnegative(),
  stepInStage: z.number().int().nonnegative(),
  /** The data pipeline's epoch (counted over the Learner's life) and the next batch in it. */
  epoch: z.number().int().nonnegative(),
  batch: z.number().int().nonnegative(),
  /** Steps taken since the run began (for checkpoints every N steps). */
  stepsDone: z.number().int().nonnegative(),
});

export type Position = z.output<typeof PositionSchema>;

const TrainingStateJsonSchema = z.object({
  format: z.literal('ulmfit-training-state'),
  version: z.literal(TRAINING_STATE_VERSION),
  learner: z.enum(['language-model', 'classifier']),
  /** The validated plan and fit options, as JSON: a resume must be given the same. */
  plan: z.unknown(),
  options: z.unknown(),
  stepsPerEpoch: z.number().int().positive(),
  /** The processes that trained it (data parallelism); a resume needs as many. */
  worldSize: z.number().int().positive().default(1),
  position: PositionSchema,
  /** The current epoch's running training-loss sums. */
  epochSoFar: z.object({ lossSum: z.number(), counted: z.number().int().nonnegative(), skipped: z.number().int().nonnegative() }),
  history: z.array(z.unknown()),
  rng: z.array(z.string()),
  finished: z.boolean(),
  savedAt: z.string(),
});

export type TrainingStateJson = z.output<typeof TrainingStateJsonSchema>;

/** JSON text with every object's keys sorted: two values that differ only in key order give the same text. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * Whether a saved run's fit options are the ones a resume was given. A field the saved options lack was added
 * to the fit options after the state was written (AR/TAR and clipping moved there from the model kind); it is
 * read as the current default of the model kind, which is what the step applied when it was written.
 */
export function sameFitOptions(saved: unknown, given: Record<string, unknown>, defaults: Record<string, unknown>): boolean {
  if (saved === null || typeof saved !== 'object' || Array.isArray(saved)) return false;
  return canonicalJson({ ...defaults, ...saved }) === canonicalJson(given);
}

export interface TrainingState extends TrainingStateJson {
  tensors: Map<string, NamedTensor>;
}

export function encodeRng(states: readonly Uint8Array[]): string[] {
  return states.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64'));
}

export function decodeRng(states: readonly string[]): Uint8Array[] {
  return states.map((s) => new Uint8Array(Buffer.from(s, 'base64')));
}

/** Checks a training state read from a model directory; the error names the file and the field. */
export function parseTrainingState(saved: SavedTrainingState): TrainingState {
  const file = `${saved.dir}/training-state.json`;
  const head = saved.json as { format?: unknown; version?: unknown } | null;
  if (head?.format === 'ulmfit-training-state' && head.version !== TRAINING_STATE_VERSION) {
    throw new TrainingStateError(`${file}: version ${JSON.stringify(head.version)}; this ulmfit resumes version ${TRAINING_STATE_VERSION}`);
  }
  const parsed = TrainingStateJsonSchema.safeParse(saved.json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new TrainingStateError(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return { ...parsed.data, tensors: saved.tensors };
}
