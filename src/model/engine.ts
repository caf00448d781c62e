// What both native engines (language model, classifier) share as TypeScript sees it: the optimizer's
// per-step hyperparameters, parameter and group descriptions, the run options, moving weights and optimizer
// state between an engine and a model directory, and EngineModel, the base of both model classes.
import { z } from 'zod';

import { DeviceSchema } from '../device.js';
import type { NativeTensor } from '../native/addon.js';
import type { NamedTensor } from '../io/safetensors.js';
import type { ClassifierConfig, LanguageModelConfig } from './config.js';
import { ModelDirectoryError, vocabularyHash, writeModelDirectory, type InputShape, type TrainingStateFiles } from './directory.js';
import { registerModel } from './live-models.js';

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

export interface ParameterList {
  parameters: ParameterInfo[];
  /** Saved and loaded with the weights, never trained (BatchNorm statistics). */
  buffers: ParameterInfo[];
  /** Other names a tensor answers to (fastai keeps some tensors under two keys). */
  aliases: Record<string, string>;
}

/** Everything training changes in a model, held in memory (see EngineModel.snapshot). */
export interface ModelSnapshot {
  weights: NamedTensor[];
  optimizer: NamedTensor[];
  frozenBefore: number;
}

/** The methods both native engine classes have (native/model_wrap.h). */
export interface NativeEngine {
  parameters(): ParameterList;
  groups(): GroupInfo[];
  getTensor(name: string): NativeTensor;
  setTensor(name: string, data: Float32Array): void;
  getGrad(name: string): NativeTensor | null;
  freezeTo(n: number, clearState: boolean): void;
  frozenBefore(): number;
  getOptimizerState(): (NativeTensor & { name: string; part: string })[];
  setOptimizerState(name: string, part: string, data: Float32Array): void;
  recordDropoutMasks(on: boolean): void;
  injectFault(where: Fault): void;
  /** A native process group (src/distributed/process-group.ts), or null to detach. */
  attachProcessGroup(group: object | null): void;
  broadcastFrom(group: object, root: number): Promise<void>;
  dispose(): void;
}

/** Where injectFault puts a NaN in the next training step (native/fault.h). */
export type Fault = 'loss' | 'gradients' | 'embeddings';

// The one place for the optimizer's defaults: a model's trainStep, the Learner's fit options and the command
// line's flags all read these schemas (the native step takes every value explicitly).
export const OptimizerSchema = z.enum(['adamw', 'sgd']);
export const PrecisionSchema = z.enum(['fp32', 'bf16']);

export const GroupHyperSchema = z.object({
  lr: z.number().nonnegative(),
  beta1: z.number().min(0).lt(1).default(0.7).describe("Adam's beta1 where the schedule sets none (the paper: 0.7)"),
  beta2: z.number().min(0).lt(1).default(0.99).describe("Adam's beta2 (the paper: 0.99)"),
  momentum: z.number().min(0).lt(1).default(0.7).describe("SGD's momentum where the schedule sets none (0.7, as Adam's beta1)"),
  weightDecay: z.number().nonnegative().default(0.01).describe('decoupled weight decay (fastai: 0.01; a stage may set its own)'),
});

/** The optimizer's part of a step's hyperparameters; each engine adds its own (clip, AR/TAR, ...). */
export const OptimizerHyperSchema = z.object({
  optimizer: OptimizerSchema.default('adamw').describe('AdamW (decoupled weight decay) or SGD with momentum'),
  /** One entry per layer group, first group first. */
  groups: z.array(GroupHyperSchema).min(1),
  eps: z.number().positive().default(1e-5).describe("Adam's eps (fastai: 1e-5)"),
});

/** What a training step's update kernels were given for one group (a frozen group: lr and decay 0). */
export interface AppliedGroupHyper {
  lr: number;
  beta1: number;
  beta2: number;
  momentum: number;
  weightDecay: number;
  trained: boolean;
}

/** How an engine runs (not part of the model: a saved model loads with any of these). */
export const RunOptionsSchema = z.object({
  device: DeviceSchema.default('cpu'),
  /** bf16: autocast with fp32 master weights and an fp32 loss (pays off where the CPU has AVX512-BF16 or AMX). */
  precision: PrecisionSchema.default('fp32'),
});

export const SaveOptionsSchema = z
  .object({
    /** The vocabulary, in id order: its length must be the model's vocabSize. */
    vocab: z.array(z.string()),
    direction: z.enum(['forward', 'backward']).default('forward'),
    rulesVersion: z.string().nullable().default(null),
    specialTokens: z.array(z.string()).default([]),
    /** Also save the optimizer's state (to resume training exactly). */
    optimizer: z.boolean().default(false),
    /** A Learner's training state (training-state.json and .safetensors), written in the same atomic save. */
    trainingState: z
      .custom<TrainingStateFiles>((v) => typeof v === 'object' && v !== null && 'json' in v && 'tensors' in v)
      .nullable()
      .default(null),
    /** bf16 halves weights.safetensors, each weight rounded to bfloat16: for shipping a model, never to resume one. */
    weightsPrecision: PrecisionSchema.default('fp32'),
  })
  .refine((o) => o.weightsPrecision === 'fp32' || (!o.optimizer && o.trainingState === null), {
    message: 'weightsPrecision bf16 rounds the weights: a save that keeps the optimizer or training state (to resume) must be fp32',
    path: ['weightsPrecision'],
  });

export type SaveOptions = z.input<typeof SaveOptionsSchema>;

/** Every parameter and buffer of an engine with its current value, for the weights file. */
export function collectWeights(engine: NativeEngine): NamedTensor[] {
  const { parameters, buffers } = engine.parameters();
  return [...parameters, ...buffers].map((p) => ({ name: p.name, ...engine.getTensor(p.name) }));
}

/** The optimizer's state as named tensors (<parameter>.<part>), for optimizer.safetensors. */
export function collectOptimizerState(engine: NativeEngine): NamedTensor[] {
  return engine.getOptimizerState().map((s) => ({ name: `${s.name}.${s.part}`, shape: s.shape, data: s.data }));
}

/**
 * Fills an engine's parameters and buffers from a weights file's tensors: every one must be there (under its
 * name or an alias) with the engine's shape, and nothing else may be; the first that does not fit is named.
 */
export function loadWeights(engine: NativeEngine, weights: Map<string, NamedTensor>, file: string): void {
  const { parameters, buffers, aliases } = engine.parameters();
  const all = [...parameters, ...buffers];
  const known = new Set([...all.map((p) => p.name), ...Object.keys(aliases)]);
  for (const name of weights.keys()) {
    if (!known.has(name)) throw new ModelDirectoryError(`${file}: unexpected tensor "${name}" (not part of this model)`);
  }
  for (const p of all) {
    const names = [
      p.name,
      ...Object.entries(aliases)
        .filter(([, of]) => of === p.name)
        .map(([alias]) => alias),
    ];
    const found = names.filter((n) => weights.has(n));
    if (found.length === 0) throw new ModelDirectoryError(`${file}: missing tensor "${p.name}"`);
    for (const name of found) {
      const shape = weights.get(name)!.shape;
      if (shape.length !== p.shape.length || shape.some((d, i) => d !== p.shape[i])) {
        throw new ModelDirectoryError(`${file}: "${name}" has shape [${shape.join(', ')}], the model expects [${p.shape.join(', ')}]`);
      }
    }
    engine.setTensor(p.name, weights.get(found[0]!)!.data);
  }
}

/** Restores optimizer state saved by collectOptimizerState. */
export function loadOptimizerState(engine: NativeEngine, state: Map<string, NamedTensor>): void {
  for (const [key, t] of state) {
    const dot = key.lastIndexOf('.');
    engine.setOptimizerState(key.slice(0, dot), key.slice(dot + 1), t.data);
  }
}

// Each model's native engine, for the test hooks of src/testing.ts (ulmfit/testing) and the process groups of
// src/distributed/: not reachable from the package's entry points.
const ENGINES = new WeakMap<object, NativeEngine>();

/** The native engine under a model (src/testing.ts and src/distributed/ only). */
export function engineOf(model: EngineModel<NativeEngine>): NativeEngine {
  return ENGINES.get(model)!;
}

/** What the language model and the classifier classes share: the native engine and the methods over it. */
export abstract class EngineModel<E extends NativeEngine> {
  readonly device: string;
  readonly precision: 'fp32' | 'bf16';
  protected readonly engine: E;
  readonly #unregister: () => void;

  protected constructor(engine: E, run: { device: string; precision: 'fp32' | 'bf16' }) {
    this.engine = engine;
    ENGINES.set(this, engine);
    this.device = run.device;
    this.precision = run.precision;
    this.#unregister = registerModel(this);
  }

  /** Every parameter and buffer with fastai's state_dict name, shape and layer group, and the names that alias them. */
  parameters(): ParameterList {
    return this.engine.parameters();
  }

  /** The layer groups discriminative learning rates and freezing act on, first group first. */
  groups(): GroupInfo[] {
    return this.engine.groups();
  }

  getTensor(name: string): NativeTensor {
    return this.engine.getTensor(name);
  }

  setTensor(name: string, data: Float32Array): void {
    this.engine.setTensor(name, data);
  }

  /** The gradient the last trainStep left on a parameter (null for a frozen one). */
  getGrad(name: string): NativeTensor | null {
    return this.engine.getGrad(name);
  }

  /** Groups before `n` stop training (no gradient, update or decay); fastai clears optimizer state here. */
  freezeTo(n: number, { clearState = true }: { clearState?: boolean } = {}): void {
    this.engine.freezeTo(n, clearState);
  }

  /** The first group that trains. */
  frozenBefore(): number {
    return this.engine.frozenBefore();
  }

  /** Writes the model directory with this model's weights (and optimizer state when asked) atomically. */
  protected writeDirectory(
    dir: string,
    model:
      { kind: 'awd-lstm-lm'; config: LanguageModelConfig } | { kind: 'awd-lstm-classifier'; config: ClassifierConfig; input: InputShape },
    o: z.output<typeof SaveOptionsSchema>,
    classes?: readonly string[],
  ): void {
    const vocabSize = model.config.vocabSize;
    if (o.vocab.length !== vocabSize)
      throw new ModelDirectoryError(`save: the vocabulary has ${o.vocab.length} tokens, the model ${vocabSize}`);
    const vocabulary = {
      size: o.vocab.length,
      sha256: vocabularyHash(o.vocab),
      direction: o.direction,
      rulesVersion: o.rulesVersion,
      specialTokens: o.specialTokens,
    };
    const training = { frozenBefore: this.frozenBefore() };
    writeModelDirectory(dir, {
      config:
        model.kind === 'awd-lstm-lm'
          ? { kind: model.kind, model: model.config, vocabulary, training }
          : { kind: model.kind, model: model.config, vocabulary, training, input: model.input },
      vocab: o.vocab,
      classes,
      weights: collectWeights(this.engine),
      weightsDtype: o.weightsPrecision === 'bf16' ? 'BF16' : 'F32',
      aliases: this.parameters().aliases,
      optimizer: o.optimizer ? collectOptimizerState(this.engine) : undefined,
      trainingState: o.trainingState ?? undefined,
    });
  }

  /** A copy of everything training changes: weights, buffers, optimizer state and which groups train. */
  snapshot(): ModelSnapshot {
    return { weights: collectWeights(this.engine), optimizer: collectOptimizerState(this.engine), frozenBefore: this.frozenBefore() };
  }

  /** Puts a snapshot back exactly (optimizer state created since is dropped). */
  restoreSnapshot(snapshot: ModelSnapshot): void {
    loadWeights(this.engine, new Map(snapshot.weights.map((t) => [t.name, t])), 'snapshot');
    this.engine.freezeTo(snapshot.frozenBefore, true);
    loadOptimizerState(this.engine, new Map(snapshot.optimizer.map((t) => [t.name, t])));
  }

  /** Fills a new model from a directory's tensors; disposes of it and rethrows when something does not fit. */
  protected restore(
    read: { weights: Map<string, NamedTensor>; optimizer: Map<string, NamedTensor> | null; frozenBefore: number },
    weightsFile: string,
    withOptimizer: boolean | undefined,
  ): void {
    try {
      loadWeights(this.engine, read.weights, weightsFile);
      if (read.frozenBefore > 0) this.freezeTo(read.frozenBefore, { clearState: true });
      if (read.optimizer && withOptimizer !== false) loadOptimizerState(this.engine, read.optimizer);
    } catch (err) {
      this.dispose();
      throw err;
    }
  }

  /** Frees native memory now; later calls throw. A step in flight finishes first. */
  dispose(): void {
    this.engine.dispose();
    this.#unregister();
  }
}
