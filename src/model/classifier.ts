// The ULMFiT classifier: the AWD-LSTM encoder read with BPT3C, masked concat pooling and the BatchNorm /
// Dropout / Linear head, as a native engine driven step by step from TypeScript. Five layer groups
// [embedding, rnn0, rnn1, rnn2, head] for gradual unfreezing and discriminative learning rates; every step
// carries their hyperparameters. Batches come from the data pipeline (classifierBatches), rows in its order.
import path from 'node:path';

import { z } from 'zod';

import type { NativeTensor } from '../native/addon.js';
import type { LanguageModel } from './language-model.js';
import { native } from '../native/loader.js';
import { validate } from '../options.js';
import type { NamedTensor } from '../io/safetensors.js';
import { ClassifierConfigSchema, effectiveClassifierDropouts, type ClassifierConfig, type ClassifierConfigInput } from './config.js';
import {
  FILES,
  ModelDirectoryError,
  readModelDirectory,
  vocabularyHash,
  type ModelConfigFile,
  type SavedTrainingState,
  InputShapeSchema,
  PLAIN_INPUT,
} from './directory.js';
import {
  EngineModel,
  OptimizerHyperSchema,
  RunOptionsSchema,
  SaveOptionsSchema,
  type AppliedGroupHyper,
  type NativeEngine,
} from './engine.js';

/** Dropout masks of a classifier training step, scaled by 1/(1-p); one set serves every chunk of the batch. */
export interface ClassifierDropoutMasks {
  /** [vocab, 1]: whole embedding rows. */
  embed?: NativeTensor;
  /** [rows, 1, emb]. */
  input?: NativeTensor;
  /** Per LSTM layer [4 x out, out]: DropConnect on weight_hh. */
  weight?: NativeTensor[];
  /** Per LSTM layer but the last [rows, 1, out]. */
  hidden?: NativeTensor[];
  /** Per head block [rows, block input]. */
  head?: NativeTensor[];
}

/** The masks a classifier's training step applied; null (or a null entry) where that dropout is off. */
export type RecordedClassifierDropoutMasks = Record<'embed' | 'input', NativeTensor | null> &
  Record<'weight' | 'hidden' | 'head', (NativeTensor | null)[]>;

export interface NativeClassifier extends NativeEngine {
  trainStep(batch: NativeClassifierBatch & { labels: Int32Array }, hyper: ClassifierStepHyper): Promise<ClassifierTrainResult>;
  evalStep(batch: NativeClassifierBatch & { labels: Int32Array }): Promise<NativeEvalResult>;
  predict(batch: NativeClassifierBatch): Promise<NativeTensor>;
  features(batch: NativeClassifierBatch): Promise<NativeTensor>;
  setDropoutMasks(masks: ClassifierDropoutMasks | null): void;
  lastDropoutMasks(): RecordedClassifierDropoutMasks;
}

/** A batch as the engine reads it: rows x length token ids laid out for BPT3C, each row's length, and labels where needed. */
interface NativeClassifierBatch {
  tokens: Int32Array;
  lengths: Int32Array;
  labels?: Int32Array | null;
  rows: number;
  length: number;
}

interface NativeEvalResult {
  loss: number;
  count: number;
  correct: number;
  confusion: number[];
}

export const ClassifierStepHyperSchema = OptimizerHyperSchema.extend({
  /** Cross-entropy weight per class (for unbalanced classes); equal weights when absent. */
  classWeights: z.array(z.number().nonnegative()).optional(),
  // Off, as in fastai's classifier recipe (the paper's script clipped at 25, which never binds): clipping at
  // 0.1 with Adam's eps 1e-5 shrinks every update of a large gradient (docs/fidelity.md, docs/RESULTS.md).
  clip: z
    .number()
    .nonnegative()
    .default(0)
    .describe("global gradient-norm limit (0: off, fastai's classifier recipe; the paper's script: 25); a stage may set its own"),
  // AR and TAR over each document's pooled window, as the language model has them (fastai and the paper's
  // classifier script: 2 and 1); off by default (measured: docs/fidelity.md).
  alpha: z
    .number()
    .nonnegative()
    .default(0)
    .describe(
      "activation regularisation (AR) on the encoder's last-layer outputs over each document's pooled window (fastai, the paper: 2; measured: docs/fidelity.md)",
    ),
  beta: z.number().nonnegative().default(0).describe('temporal activation regularisation (TAR) on the same outputs (fastai, the paper: 1)'),
});

export type ClassifierStepHyperInput = z.input<typeof ClassifierStepHyperSchema>;
export type ClassifierStepHyper = z.output<typeof ClassifierStepHyperSchema>;

export interface ClassifierTrainResult {
  /** Mean (class-weighted) cross-entropy of the batch. */
  crossEntropy: number;
  /** What was minimised: the cross-entropy plus AR and TAR. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
  /** Rows whose highest logit is their label (with dropout and batch statistics: a training figure). */
  correct: number;
  /** True when the loss or a gradient was not finite: no parameter, statistic or optimizer state changed. */
  skipped: boolean;
  /** Per group, what the update kernels were given (read back from the native step). */
  applied: AppliedGroupHyper[];
}

export interface ClassifierEvalResult {
  /** Summed cross-entropy over the batch's rows (unweighted). */
  loss: number;
  count: number;
  correct: number;
  /** confusion[label][predicted]: row counts. */
  confusion: number[][];
}

export interface ClassifierPrediction {
  /** rows x classes, row-major, each row summing to 1; rows in the batch's order. */
  probabilities: Float32Array;
  rows: number;
  classes: number;
}

export interface ClassifierFeatures {
  /** rows x (3 x embSize), row-major: each row's pooled [last, max, mean] encoder outputs; rows in the batch's order. */
  features: Float32Array;
  rows: number;
  width: number;
}

const int32 = z.custom<Int32Array>((v) => v instanceof Int32Array, { message: 'must be an Int32Array' });

/** A batch in the data pipeline's layout (classifierBatches / layoutBatch); labels are needed to train and evaluate. */
const ClassifierBatchSchema = z
  .object({
    tokens: int32,
    rows: z.number().int().min(1),
    length: z.number().int().min(1),
    lengths: int32,
    labels: int32.nullable().optional(),
  })
  .refine((b) => b.tokens.length === b.rows * b.length, { message: 'tokens must hold rows x length ids', path: ['tokens'] })
  .refine((b) => b.lengths.length === b.rows, { message: 'lengths must hold one length per row', path: ['lengths'] })
  .refine((b) => !b.labels || b.labels.length === b.rows, { message: 'labels must hold one class id per row', path: ['labels'] });

export type ClassifierBatchInput = z.input<typeof ClassifierBatchSchema>;

export const ClassifierEngineOptionsSchema = RunOptionsSchema;
export type ClassifierEngineOptionsInput = z.input<typeof ClassifierEngineOptionsSchema>;

export const ClassifierSaveOptionsSchema = SaveOptionsSchema.extend({
  /** Class names in class-id order: one per class. */
  classes: z.array(z.string()).min(2),
  /** How the training documents were shaped (config.json's `input`). */
  input: InputShapeSchema.default(PLAIN_INPUT),
});

export type ClassifierSaveOptions = z.input<typeof ClassifierSaveOptionsSchema>;

/** The encoder's sizes: a language model's and a classifier's must agree for the weights to transfer. */
const ENCODER_FIELDS = ['vocabSize', 'embSize', 'hiddenSize', 'numLayers', 'padId'] as const;

export const FromLanguageModelOptionsSchema = RunOptionsSchema.extend({
  numClasses: z.number().int().min(2),
  /** The classifier's other settings (dropouts, head, seqLen, maxLen); the encoder's sizes come from the LM. */
  config: z.record(z.string(), z.unknown()).default({}),
  /** The vocabulary the classifier's data is encoded with: it must be the language model's. */
  vocab: z.array(z.string()).optional(),
});

export type FromLanguageModelOptions = Omit<z.input<typeof FromLanguageModelOptionsSchema>, 'config'> & {
  config?: Partial<ClassifierConfigInput>;
};

function requireLabels<B extends { labels?: Int32Array | null }>(batch: B, what: string): B & { labels: Int32Array } {
  if (!batch.labels) throw new TypeError(`${what}: the batch has no labels`);
  return batch as B & { labels: Int32Array };
}

export class Classifier extends EngineModel<NativeClassifier> {
  readonly config: ClassifierConfig;

  constructor(config: ClassifierConfigInput, options: ClassifierEngineOptionsInput = {}) {
    const c = validate(ClassifierConfigSchema, config, 'classifier config');
    const run = validate(ClassifierEngineOptionsSchema, options, 'engine options');
    const Engine = native().Classifier;
    const engine = new Engine(
      {
        vocabSize: c.vocabSize,
        embSize: c.embSize,
        hiddenSize: c.hiddenSize,
        numLayers: c.numLayers,
        padId: c.padId,
        numClasses: c.numClasses,
        ...effectiveClassifierDropouts(c),
        headHidden: c.headHidden,
        headBias: c.headBias,
        seqLen: c.seqLen,
        maxLen: Number.isFinite(c.maxLen) ? c.maxLen : 0,
        dropoutMasks: c.dropoutMasks,
        precision: run.precision,
      },
      run.device,
    );
    super(engine, run);
    this.config = c;
  }

  /** Forward (BPT3C, pooling, head with dropout and batch statistics), cross-entropy, backward, clip, update. */
  async trainStep(
    batch: ClassifierBatchInput,
    hyper: ClassifierStepHyperInput,
  ): Promise<ClassifierTrainResult & { hyper: ClassifierStepHyper }> {
    const b = validate(ClassifierBatchSchema, batch, 'trainStep batch');
    const h = validate(ClassifierStepHyperSchema, hyper, 'trainStep hyper');
    if (h.classWeights && h.classWeights.length !== this.config.numClasses) {
      throw new RangeError(`trainStep hyper: classWeights has ${h.classWeights.length} weights for ${this.config.numClasses} classes`);
    }
    const result = await this.engine.trainStep(requireLabels(b, 'trainStep'), h);
    return { ...result, hyper: h };
  }

  /** Loss, accuracy and confusion counts in evaluation mode (running BatchNorm statistics, no dropout). */
  async evalStep(batch: ClassifierBatchInput): Promise<ClassifierEvalResult> {
    const b = validate(ClassifierBatchSchema, batch, 'evalStep batch');
    const r = await this.engine.evalStep(requireLabels(b, 'evalStep'));
    const n = this.config.numClasses;
    const confusion = Array.from({ length: n }, (_, i) => r.confusion.slice(i * n, (i + 1) * n));
    return { loss: r.loss, count: r.count, correct: r.correct, confusion };
  }

  /** Class probabilities per row, in evaluation mode; restoreOrder puts them back in the dataset's order. */
  async predict(batch: ClassifierBatchInput): Promise<ClassifierPrediction> {
    const b = validate(ClassifierBatchSchema, batch, 'predict batch');
    const p = await this.engine.predict(b);
    return { probabilities: p.data, rows: p.shape[0]!, classes: p.shape[1]! };
  }

  /**
   * The pooled features the head reads (evaluation mode: no dropout): for inspecting an encoder, a linear
   * probe on a frozen one, or text embeddings.
   */
  async features(batch: ClassifierBatchInput): Promise<ClassifierFeatures> {
    const b = validate(ClassifierBatchSchema, batch, 'features batch');
    const f = await this.engine.features(b);
    return { features: f.data, rows: f.shape[0]!, width: f.shape[1]! };
  }

  /**
   * Copies the encoder (embedding and LSTM layers) from a language-model or encoder directory (saveEncoder):
   * its sizes must be this classifier's, and its vocabulary `vocab` when given. Returns the source's
   * vocabulary and config.
   */
  loadEncoder(lmDir: string, { vocab }: { vocab?: readonly string[] } = {}): { vocab: string[]; config: ModelConfigFile } {
    const { config, vocab: lmVocab, weights } = readModelDirectory(lmDir);
    const configFile = path.join(lmDir, FILES.config);
    if (config.kind === 'awd-lstm-classifier') {
      throw new ModelDirectoryError(
        `${configFile}: kind is "${config.kind}", not a language model ("awd-lstm-lm") or an encoder ("awd-lstm-encoder")`,
      );
    }
    for (const field of ENCODER_FIELDS) {
      if (config.model[field] !== this.config[field]) {
        throw new ModelDirectoryError(
          `${configFile}: the language model has ${field} ${config.model[field]}, the classifier ${this.config[field]}`,
        );
      }
    }
    if (vocab) checkSameVocabulary(vocab, lmVocab, lmDir);
    this.#setEncoder((key) => weights.get(key), path.join(lmDir, FILES.weights));
    return { vocab: lmVocab, config };
  }

  /** Copies the encoder from a language model in memory (same sizes; same vocabulary, which the caller vouches for). */
  copyEncoder(lm: LanguageModel): void {
    for (const field of ENCODER_FIELDS) {
      if (lm.config[field] !== this.config[field])
        throw new RangeError(`copyEncoder: the language model has ${field} ${lm.config[field]}, the classifier ${this.config[field]}`);
    }
    this.#setEncoder((key) => ({ name: key, ...lm.getTensor(key) }), 'the language model');
  }

  // Sets every encoder parameter from its LM key ("0.<key>" for the classifier's "0.module.<key>").
  #setEncoder(lookup: (key: string) => NamedTensor | undefined, where: string): void {
    const lmAliases: Record<string, string> = { '0.encoder.weight': '0.encoder_dp.emb.weight' };
    for (const p of this.parameters().parameters) {
      if (!p.name.startsWith('0.module.')) continue;
      const key = `0.${p.name.slice('0.module.'.length)}`;
      const t = lookup(key) ?? (lmAliases[key] ? lookup(lmAliases[key]) : undefined);
      if (!t) throw new ModelDirectoryError(`${where}: missing tensor "${key}" (the classifier's "${p.name}")`);
      if (t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
        throw new ModelDirectoryError(
          `${where}: "${key}" has shape [${t.shape.join(', ')}], the classifier expects [${p.shape.join(', ')}]`,
        );
      }
      this.setTensor(p.name, t.data);
    }
  }

  /**
   * A new classifier on a language model's encoder (stage 3 of ULMFiT): sizes, vocabulary and padding come
   * from the LM directory, everything else from `config` (fastai's classifier defaults otherwise).
   */
  static fromLanguageModel(
    lmDir: string,
    options: FromLanguageModelOptions,
  ): { model: Classifier; vocab: string[]; config: ModelConfigFile } {
    const o = validate(FromLanguageModelOptionsSchema, options, 'fromLanguageModel options');
    const { config } = readModelDirectory(lmDir);
    if (config.kind === 'awd-lstm-classifier') {
      throw new ModelDirectoryError(
        `${path.join(lmDir, FILES.config)}: kind is "${config.kind}", not a language model ("awd-lstm-lm") or an encoder ("awd-lstm-encoder")`,
      );
    }
    for (const field of ENCODER_FIELDS) {
      if (field in o.config && o.config[field] !== config.model[field]) {
        throw new ModelDirectoryError(
          `${path.join(lmDir, FILES.config)}: the language model has ${field} ${config.model[field]}, the classifier config asks for ${String(o.config[field])}`,
        );
      }
    }
    const sizes = Object.fromEntries(ENCODER_FIELDS.map((f) => [f, config.model[f]]));
    const model = new Classifier({ ...o.config, ...sizes, numClasses: o.numClasses } as ClassifierConfigInput, {
      device: o.device,
      precision: o.precision,
    });
    try {
      const loaded = model.loadEncoder(lmDir, { vocab: o.vocab });
      return { model, ...loaded };
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  /** Writes the model directory (config.json, vocab.json with the classes, weights with BatchNorm buffers) atomically. */
  save(dir: string, options: ClassifierSaveOptions): void {
    const o = validate(ClassifierSaveOptionsSchema, options, 'save options');
    if (o.classes.length !== this.config.numClasses) {
      throw new ModelDirectoryError(`save: ${o.classes.length} class names for ${this.config.numClasses} classes`);
    }
    this.writeDirectory(dir, { kind: 'awd-lstm-classifier', config: this.config, input: o.input }, o, o.classes);
  }

  /** Opens a classifier directory; every tensor must fit the configured model (the first that does not is named). */
  static load(
    dir: string,
    options: ClassifierEngineOptionsInput & { optimizer?: boolean } = {},
  ): { model: Classifier; vocab: string[]; classes: string[]; config: ModelConfigFile; trainingState: SavedTrainingState | null } {
    const { config, vocab, classes, weights, optimizer, trainingState } = readModelDirectory(dir);
    const configFile = path.join(dir, FILES.config);
    if (config.kind !== 'awd-lstm-classifier') {
      throw new ModelDirectoryError(`${configFile}: kind is "${config.kind}", not a classifier ("awd-lstm-classifier")`);
    }
    if (!classes || classes.length !== config.model.numClasses) {
      throw new ModelDirectoryError(
        `${path.join(dir, FILES.vocab)}: ${classes ? `${classes.length} classes` : 'no class list'}, the classifier has ${config.model.numClasses}`,
      );
    }
    const { optimizer: withOptimizer, ...engine } = options;
    const model = new Classifier(config.model, engine);
    model.restore({ weights, optimizer, frozenBefore: config.training.frozenBefore }, path.join(dir, FILES.weights), withOptimizer);
    return { model, vocab, classes, config, trainingState };
  }
}

function checkSameVocabulary(given: readonly string[], lm: readonly string[], lmDir: string): void {
  if (given.length === lm.length && vocabularyHash(given) === vocabularyHash(lm)) return;
  const at = given.findIndex((t, i) => t !== lm[i]);
  const where =
    given.length !== lm.length && (at < 0 || at >= Math.min(given.length, lm.length))
      ? `it has ${given.length} tokens, the language model ${lm.length}`
      : `token ${at} is ${JSON.stringify(given[at])}, the language model's ${JSON.stringify(lm[at])}`;
  throw new ModelDirectoryError(
    `${lmDir}: the vocabulary given is not the language model's (${where}); encode the data with the LM's vocabulary`,
  );
}
