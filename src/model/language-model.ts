// The AWD-LSTM language model: a native engine driven step by step from TypeScript. Each trainStep carries
// every layer group's hyperparameters (the schedules live in TypeScript); the step itself (forward, loss
// with AR/TAR, backward, clipping, the optimizer update) is one native call off the JS thread.
import path from 'node:path';

import { z } from 'zod';

import { DeviceSchema } from '../device.js';
import type { NativeTensor } from '../native/addon.js';
import { native } from '../native/loader.js';
import { validate } from '../options.js';
import {
  FILES,
  ModelDirectoryError,
  readModelDirectory,
  vocabularyHash,
  writeModelDirectory,
  type ModelConfigFile,
} from './directory.js';
import { effectiveDropouts, LanguageModelConfigSchema, type LanguageModelConfig, type LanguageModelConfigInput } from './config.js';
import { registerModel } from './live-models.js';

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
  getOptimizerState(): (NativeTensor & { name: string; part: string })[];
  setOptimizerState(name: string, part: string, data: Float32Array): void;
  frozenBefore(): number;
  setDropoutMasks(masks: DropoutMasks | null): void;
  recordDropoutMasks(on: boolean): void;
  lastDropoutMasks(): RecordedDropoutMasks;
  dispose(): void;
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

/** How the engine runs (not part of the model: a saved model loads with any of these). */
export const EngineOptionsSchema = z.object({
  device: DeviceSchema.default('cpu'),
  /** Rows of vocabulary logits decoded at a time (bounds peak memory); 0: about 64 MB of logits. */
  lossChunkRows: z.number().int().nonnegative().default(0),
  /** bf16: autocast with fp32 master weights and an fp32 loss (pays off where the CPU has AVX512-BF16 or AMX). */
  precision: z.enum(['fp32', 'bf16']).default('fp32'),
});

export type EngineOptionsInput = z.input<typeof EngineOptionsSchema>;

export const SaveOptionsSchema = z.object({
  /** The vocabulary, in id order: its length must be the model's vocabSize. */
  vocab: z.array(z.string()),
  direction: z.enum(['forward', 'backward']).default('forward'),
  rulesVersion: z.string().nullable().default(null),
  specialTokens: z.array(z.string()).default([]),
  /** Also save the optimizer's state (to resume training exactly). */
  optimizer: z.boolean().default(false),
});

export type SaveOptions = z.input<typeof SaveOptionsSchema>;

export class LanguageModel {
  readonly config: LanguageModelConfig;
  readonly device: string;
  readonly precision: 'fp32' | 'bf16';
  readonly #engine: NativeLanguageModel;
  readonly #unregister: () => void;

  constructor(config: LanguageModelConfigInput, options: EngineOptionsInput = {}) {
    this.config = validate(LanguageModelConfigSchema, config, 'language model config');
    const engine = validate(EngineOptionsSchema, options, 'engine options');
    this.device = engine.device;
    this.precision = engine.precision;
    const { vocabSize, embSize, hiddenSize, numLayers, padId } = this.config;
    const Engine = native().LanguageModel as unknown as new (options: object, device: string) => NativeLanguageModel;
    this.#engine = new Engine(
      { vocabSize, embSize, hiddenSize, numLayers, padId, ...effectiveDropouts(this.config), lossChunkRows: engine.lossChunkRows, precision: engine.precision },
      this.device,
    );
    this.#unregister = registerModel(this);
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

  /**
   * Fixes the dropout masks of every following training step (null: random again). For tests and for
   * checking training-mode maths against another implementation.
   */
  setDropoutMasks(masks: DropoutMasks | null): void {
    this.#engine.setDropoutMasks(masks);
  }

  /** Keeps the masks of each training step for lastDropoutMasks() (they cost as much memory as the weights). */
  recordDropoutMasks(on: boolean): void {
    this.#engine.recordDropoutMasks(on);
  }

  lastDropoutMasks() {
    return this.#engine.lastDropoutMasks();
  }

  /** Writes the model directory (config.json, vocab.json, weights.safetensors, optimizer.safetensors) atomically. */
  save(dir: string, options: SaveOptions): void {
    const o = validate(SaveOptionsSchema, options, 'save options');
    if (o.vocab.length !== this.config.vocabSize) {
      throw new ModelDirectoryError(`save: the vocabulary has ${o.vocab.length} tokens, the model ${this.config.vocabSize}`);
    }
    const { parameters, aliases } = this.parameters();
    const weights = parameters.map((p) => ({ name: p.name, ...this.getTensor(p.name) }));
    const optimizer = o.optimizer
      ? this.#engine.getOptimizerState().map((s) => ({ name: `${s.name}.${s.part}`, shape: s.shape, data: s.data }))
      : undefined;
    writeModelDirectory(dir, {
      config: {
        kind: 'awd-lstm-lm',
        model: this.config,
        vocabulary: {
          size: o.vocab.length,
          sha256: vocabularyHash(o.vocab),
          direction: o.direction,
          rulesVersion: o.rulesVersion,
          specialTokens: o.specialTokens,
        },
        training: { frozenBefore: this.#engine.frozenBefore() },
      },
      vocab: o.vocab,
      weights,
      aliases,
      optimizer,
    });
  }

  /** Opens a model directory; every tensor must fit the configured model (the first that does not is named). */
  static load(
    dir: string,
    options: EngineOptionsInput & { optimizer?: boolean } = {},
  ): { model: LanguageModel; vocab: string[]; config: ModelConfigFile } {
    const { config, vocab, weights, optimizer } = readModelDirectory(dir);
    const { optimizer: withOptimizer, ...engine } = options;
    const model = new LanguageModel(config.model, engine);
    try {
      model.#loadWeights(weights, path.join(dir, FILES.weights));
      if (config.training.frozenBefore > 0) model.freezeTo(config.training.frozenBefore, { clearState: true });
      if (optimizer && withOptimizer !== false) {
        for (const [key, t] of optimizer) {
          const dot = key.lastIndexOf('.');
          model.#engine.setOptimizerState(key.slice(0, dot), key.slice(dot + 1), t.data);
        }
      }
    } catch (err) {
      model.dispose();
      throw err;
    }
    return { model, vocab, config };
  }

  #loadWeights(weights: Map<string, { shape: number[]; data: Float32Array }>, file: string): void {
    const { parameters, aliases } = this.parameters();
    const known = new Set([...parameters.map((p) => p.name), ...Object.keys(aliases)]);
    for (const name of weights.keys()) {
      if (!known.has(name)) throw new ModelDirectoryError(`${file}: unexpected tensor "${name}" (not part of this model)`);
    }
    for (const p of parameters) {
      const names = [p.name, ...Object.entries(aliases).filter(([, of]) => of === p.name).map(([alias]) => alias)];
      const found = names.filter((n) => weights.has(n));
      if (found.length === 0) throw new ModelDirectoryError(`${file}: missing tensor "${p.name}"`);
      for (const name of found) {
        const shape = weights.get(name)!.shape;
        if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
          throw new ModelDirectoryError(`${file}: "${name}" has shape [${shape.join(', ')}], the model expects [${p.shape.join(', ')}]`);
        }
      }
      this.setTensor(p.name, weights.get(found[0]!)!.data);
    }
  }

  /** Frees native memory now; later calls throw. A step in flight finishes first. */
  dispose(): void {
    this.#engine.dispose();
    this.#unregister();
  }
}
