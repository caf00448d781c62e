// The AWD-LSTM language model: a native engine driven step by step from TypeScript. Each trainStep carries
// every layer group's hyperparameters (the schedules live in TypeScript); the step itself (forward, loss
// with AR/TAR, backward, clipping, the optimizer update) is one native call off the JS thread.
import { z } from 'zod';

import { DeviceSchema } from '../device.js';
import type { NativeTensor } from '../native/addon.js';
import { native } from '../native/loader.js';
import { validate } from '../options.js';
import { effectiveDropouts, LanguageModelConfigSchema, type LanguageModelConfig, type LanguageModelConfigInput } from './config.js';

export interface NativeLanguageModel {
  parameters(): { parameters: ParameterInfo[]; aliases: Record<string, string> };
  groups(): GroupInfo[];
  getTensor(name: string): NativeTensor;
  setTensor(name: string, data: Float32Array): void;
  getGrad(name: string): NativeTensor | null;
  freezeTo(n: number, clearState: boolean): void;
  resetState(which: 'train' | 'eval'): void;
  getState(which: 'train' | 'eval'): { h: NativeTensor; c: NativeTensor }[];
  setState(which: 'train' | 'eval', batchSize: number, state: { h: Float32Array; c: Float32Array }[]): void;
  trainStep(input: Int32Array, target: Int32Array, batchSize: number, seqLen: number, hyper: StepHyper): Promise<TrainStepResult>;
  evalStep(input: Int32Array, target: Int32Array, batchSize: number, seqLen: number): Promise<EvalStepResult>;
  dispose(): void;
}

export interface ParameterInfo {
  name: string;
  shape: number[];
  group: number;
  /** false where fastai exempts the parameter from weight decay (Linear biases, BatchNorm). */
  decay: boolean;
  trainable: boolean;
}

export interface GroupInfo {
  name: string;
  parameters: string[];
  numel: number;
  trainable: boolean;
}

export const GroupHyperSchema = z.object({
  lr: z.number().nonnegative(),
  beta1: z.number().min(0).lt(1).default(0.9),
  beta2: z.number().min(0).lt(1).default(0.99),
  weightDecay: z.number().nonnegative().default(0.01),
});

export const StepHyperSchema = z.object({
  optimizer: z.enum(['adamw', 'sgd']).default('adamw'),
  /** One entry per layer group, first group first. */
  groups: z.array(GroupHyperSchema).min(1),
  eps: z.number().positive().default(1e-5),
  /** Global gradient-norm limit; 0 turns clipping off. */
  clip: z.number().nonnegative().default(0),
  /** Activation regularisation (AR) and temporal AR (TAR); 0 turns each off. */
  alpha: z.number().nonnegative().default(2),
  beta: z.number().nonnegative().default(1),
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

const StateNameSchema = z.enum(['train', 'eval']);

export class LanguageModel {
  readonly config: LanguageModelConfig;
  readonly device: string;
  readonly #engine: NativeLanguageModel;

  constructor(config: LanguageModelConfigInput, options: { device?: string } = {}) {
    this.config = validate(LanguageModelConfigSchema, config, 'language model config');
    this.device = validate(DeviceSchema.default('cpu'), options.device, 'device');
    const { vocabSize, embSize, hiddenSize, numLayers, padId } = this.config;
    const Engine = native().LanguageModel as unknown as new (options: object, device: string) => NativeLanguageModel;
    this.#engine = new Engine({ vocabSize, embSize, hiddenSize, numLayers, padId, ...effectiveDropouts(this.config) }, this.device);
  }

  /** Every parameter with fastai's state_dict name, shape, layer group, and the names that alias it. */
  parameters() {
    return this.#engine.parameters();
  }

  /** fastai's LM layer groups: one per LSTM layer, then embedding + decoder. */
  groups(): GroupInfo[] {
    return this.#engine.groups();
  }

  getTensor(name: string): NativeTensor {
    return this.#engine.getTensor(name);
  }

  setTensor(name: string, data: Float32Array): void {
    this.#engine.setTensor(name, data);
  }

  /** The gradient the last trainStep left on a parameter (null for a frozen one). */
  getGrad(name: string): NativeTensor | null {
    return this.#engine.getGrad(name);
  }

  /** Groups before `n` stop training (no gradient, update or decay); fastai clears optimizer state here. */
  freezeTo(n: number, { clearState = true }: { clearState?: boolean } = {}): void {
    this.#engine.freezeTo(n, clearState);
  }

  /** Hidden state: 'train' is reset at each training epoch, 'eval' before each validation. */
  resetState(which: 'train' | 'eval' | 'all' = 'all'): void {
    for (const w of which === 'all' ? (['train', 'eval'] as const) : [validate(StateNameSchema, which, 'state')]) this.#engine.resetState(w);
  }

  getState(which: 'train' | 'eval') {
    return this.#engine.getState(validate(StateNameSchema, which, 'state'));
  }

  setState(which: 'train' | 'eval', batchSize: number, state: { h: Float32Array; c: Float32Array }[]): void {
    this.#engine.setState(validate(StateNameSchema, which, 'state'), batchSize, state);
  }

  async trainStep(batch: LmBatch, hyper: StepHyperInput): Promise<TrainStepResult & { hyper: StepHyper }> {
    const b = validate(LmBatchSchema, batch, 'trainStep batch');
    const h = validate(StepHyperSchema, hyper, 'trainStep hyper');
    const result = await this.#engine.trainStep(b.input, b.target, b.batchSize, b.seqLen, h);
    return { ...result, hyper: h };
  }

  async evalStep(batch: LmBatch): Promise<EvalStepResult> {
    const b = validate(LmBatchSchema, batch, 'evalStep batch');
    return this.#engine.evalStep(b.input, b.target, b.batchSize, b.seqLen);
  }

  /** Frees native memory now; later calls throw. A step in flight finishes first. */
  dispose(): void {
    this.#engine.dispose();
  }
}
