// The AWD-LSTM language model: a native engine driven step by step from TypeScript. Each trainStep carries
// every layer group's hyperparameters (the schedules live in TypeScript); the step itself (forward, loss
// with AR/TAR, backward, clipping, the optimizer update) is one native call off the JS thread.
import path from 'node:path';

import { z } from 'zod';

import type { NativeTensor } from '../native/addon.js';
import { native } from '../native/loader.js';
import { validate } from '../options.js';
import { FILES, ModelDirectoryError, readModelDirectory, type ModelConfigFile, type SavedTrainingState } from './directory.js';
import { effectiveDropouts, LanguageModelConfigSchema, type LanguageModelConfig, type LanguageModelConfigInput } from './config.js';
import {
  EngineModel,
  OptimizerHyperSchema,
  RunOptionsSchema,
  SaveOptionsSchema,
  type AppliedGroupHyper,
  type SaveOptions,
  type NativeEngine,
} from './engine.js';

export interface NativeLanguageModel extends NativeEngine {
  resetState(which: StateName): void;
  getState(which: StateName): { h: NativeTensor; c: NativeTensor }[];
  setState(which: StateName, batchSize: number, state: { h: Float32Array; c: Float32Array }[]): void;
  nextTokenLogits(batch: Omit<LmBatch, 'target'>): Promise<NativeTensor>;
  trainStep(batch: LmBatch, hyper: StepHyper): Promise<TrainStepResult>;
  evalStep(batch: LmBatch): Promise<EvalStepResult>;
  setDropoutMasks(masks: DropoutMasks | null): void;
  lastDropoutMasks(): RecordedDropoutMasks;
}

/** The masks a training step applied; null (or a null entry) where that dropout is off. */
export interface RecordedDropoutMasks {
  embed: NativeTensor | null;
  input: NativeTensor | null;
  weight: (NativeTensor | null)[];
  hidden: (NativeTensor | null)[];
  output: NativeTensor | null;
}

/** Dropout masks of a training step, scaled by 1/(1-p) (see native/awd_lstm.h for their shapes). */
export interface DropoutMasks {
  embed?: NativeTensor;
  input?: NativeTensor;
  weight?: NativeTensor[];
  hidden?: NativeTensor[];
  output?: NativeTensor;
}

export const StepHyperSchema = OptimizerHyperSchema.extend({
  clip: z
    .number()
    .nonnegative()
    .default(0.1)
    .describe("global gradient-norm limit (fastai's LM recipe: 0.1); 0 turns it off; a stage may set its own"),
  alpha: z
    .number()
    .nonnegative()
    .default(2)
    .describe("activation regularisation (AR) on the last LSTM layer's outputs (fastai, the paper: 2); 0 turns it off"),
  beta: z
    .number()
    .nonnegative()
    .default(1)
    .describe('temporal activation regularisation (TAR) on the same outputs (fastai, the paper: 1); 0 turns it off'),
});

export type StepHyperInput = z.input<typeof StepHyperSchema>;
export type StepHyper = z.output<typeof StepHyperSchema>;

export interface TrainStepResult {
  /** Mean cross-entropy of the batch (exp of it is the batch perplexity). */
  crossEntropy: number;
  /** What was minimised: cross-entropy plus AR and TAR. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** True when the loss or a gradient was not finite: no parameter or optimizer state changed. */
  skipped: boolean;
  /** Per group, what the update kernels were given (read back from the native step). */
  applied: AppliedGroupHyper[];
}

export interface EvalStepResult {
  /** Summed cross-entropy over the batch's tokens. */
  loss: number;
  tokens: number;
  correct: number;
}

/** A batch of the LM stream: row r of `target` is row r of `input` shifted by one token. */
export interface LmBatch {
  input: Int32Array;
  target: Int32Array;
  batchSize: number;
  seqLen: number;
}

const LmBatchSchema = z
  .object({
    input: z.custom<Int32Array>((v) => v instanceof Int32Array, { message: 'must be an Int32Array' }),
    target: z.custom<Int32Array>((v) => v instanceof Int32Array, { message: 'must be an Int32Array' }),
    batchSize: z.number().int().min(1),
    seqLen: z.number().int().min(1),
  })
  .refine((b) => b.input.length === b.batchSize * b.seqLen, { message: 'input must hold batchSize x seqLen ids', path: ['input'] })
  .refine((b) => b.target.length === b.input.length, { message: 'target must be as long as input', path: ['target'] });

/** The hidden states the engine keeps: training, validation, and text generation. */
const StateNameSchema = z.enum(['train', 'eval', 'generate']);
export type StateName = z.output<typeof StateNameSchema>;

/** How the engine runs (not part of the model: a saved model loads with any of these). */
export const EngineOptionsSchema = RunOptionsSchema.extend({
  /** Rows of vocabulary logits decoded at a time (bounds peak memory); 0: about 64 MB of fp32 logits on the CPU, 1 GB on a GPU. */
  lossChunkRows: z.number().int().nonnegative().default(0),
});

export type EngineOptionsInput = z.input<typeof EngineOptionsSchema>;

export class LanguageModel extends EngineModel<NativeLanguageModel> {
  readonly config: LanguageModelConfig;

  constructor(config: LanguageModelConfigInput, options: EngineOptionsInput = {}) {
    const c = validate(LanguageModelConfigSchema, config, 'language model config');
    const run = validate(EngineOptionsSchema, options, 'engine options');
    const { vocabSize, embSize, hiddenSize, numLayers, padId } = c;
    const Engine = native().LanguageModel;
    super(
      new Engine(
        {
          vocabSize,
          embSize,
          hiddenSize,
          numLayers,
          padId,
          ...effectiveDropouts(c),
          lossChunkRows: run.lossChunkRows,
          precision: run.precision,
        },
        run.device,
      ),
      run,
    );
    this.config = c;
  }

  /** Hidden state: 'train' is reset at each training epoch, 'eval' before each validation, 'generate' per text. */
  resetState(which: StateName | 'all' = 'all'): void {
    for (const w of which === 'all' ? StateNameSchema.options : [validate(StateNameSchema, which, 'state')]) this.engine.resetState(w);
  }

  getState(which: StateName) {
    return this.engine.getState(validate(StateNameSchema, which, 'state'));
  }

  setState(which: StateName, batchSize: number, state: { h: Float32Array; c: Float32Array }[]): void {
    this.engine.setState(validate(StateNameSchema, which, 'state'), batchSize, state);
  }

  async trainStep(batch: LmBatch, hyper: StepHyperInput): Promise<TrainStepResult & { hyper: StepHyper }> {
    const b = validate(LmBatchSchema, batch, 'trainStep batch');
    const h = validate(StepHyperSchema, hyper, 'trainStep hyper');
    const result = await this.engine.trainStep(b, h);
    return { ...result, hyper: h };
  }

  async evalStep(batch: LmBatch): Promise<EvalStepResult> {
    const b = validate(LmBatchSchema, batch, 'evalStep batch');
    return this.engine.evalStep(b);
  }

  /**
   * Evaluation-mode logits after each row's last token ([batchSize, vocab]), carrying the 'generate' hidden
   * state from call to call: feed a prompt, then one token at a time. Reset it with resetState('generate').
   */
  async nextTokenLogits(input: Int32Array, batchSize = 1): Promise<{ logits: Float32Array; batchSize: number; vocabSize: number }> {
    if (!(input instanceof Int32Array)) throw new TypeError('nextTokenLogits: input must be an Int32Array');
    if (!Number.isInteger(batchSize) || batchSize < 1 || input.length === 0 || input.length % batchSize !== 0) {
      throw new RangeError(`nextTokenLogits: input holds ${input.length} ids, not a positive multiple of batchSize ${batchSize}`);
    }
    const t = await this.engine.nextTokenLogits({ input, batchSize, seqLen: input.length / batchSize });
    return { logits: t.data, batchSize, vocabSize: t.shape[1]! };
  }

  /** Writes the model directory (config.json, vocab.json, weights.safetensors, optimizer.safetensors) atomically. */
  save(dir: string, options: SaveOptions): void {
    this.writeDirectory(dir, { kind: 'awd-lstm-lm', config: this.config }, validate(SaveOptionsSchema, options, 'save options'));
  }

  /** Opens a model directory; every tensor must fit the configured model (the first that does not is named). */
  static load(
    dir: string,
    options: EngineOptionsInput & { optimizer?: boolean } = {},
  ): { model: LanguageModel; vocab: string[]; config: ModelConfigFile; trainingState: SavedTrainingState | null } {
    const { config, vocab, weights, optimizer, trainingState } = readModelDirectory(dir);
    if (config.kind !== 'awd-lstm-lm') {
      throw new ModelDirectoryError(`${path.join(dir, FILES.config)}: kind is "${config.kind}", not a language model ("awd-lstm-lm")`);
    }
    const { optimizer: withOptimizer, ...engine } = options;
    const model = new LanguageModel(config.model, engine);
    model.restore({ weights, optimizer, frozenBefore: config.training.frozenBefore }, path.join(dir, FILES.weights), withOptimizer);
    return { model, vocab, config, trainingState };
  }
}
