// The models the three stages hand back: an engine together with what reading text needs (vocabulary,
// direction, tokenizer rules, class names) and how its training went. A bidirectional pair is two of them,
// read in opposite token orders. Saving and loading them as model directories (a pair: forward/ and
// backward/ inside one directory), and an encoder on its own.
import fs from 'node:fs';
import path from 'node:path';

import { Classifier } from '../model/classifier.js';
import { FILES, ModelDirectoryError, PLAIN_INPUT, readModelDirectory, type InputShape } from '../model/directory.js';
import { writeEncoderDirectory } from '../model/encoder-directory.js';
import type { RunOptionsSchema } from '../model/engine.js';
import { LanguageModel } from '../model/language-model.js';
import { modelDirectory } from './shipped-models.js';
import type { EpochEvent } from '../train/learner.js';
import type { LrFindResult } from '../train/lr-finder.js';
import type { ClassifierMetrics, LmMetrics } from '../train/metrics.js';
import type { z } from 'zod';

export type Direction = 'forward' | 'backward';

interface TextModelFields {
  /** The vocabulary in id order, and the token order the model reads. */
  vocab: string[];
  direction: Direction;
  /** The tokenizer rules the vocabulary was built with (null when unknown). */
  rulesVersion: string | null;
}

export interface TextLanguageModel extends TextModelFields {
  kind: 'language-model';
  model: LanguageModel;
  /** Each epoch's figures (from the training state for a loaded model, when it has one). */
  history: EpochEvent<LmMetrics>[];
  /** Validation metrics before training began (null when unknown: a loaded or resumed model). */
  initialValid: LmMetrics | null;
  /** The learning-rate finder's sweep, when the stage ran it. */
  lrFinder: LrFindResult | null;
}

export interface TextClassifier extends TextModelFields {
  kind: 'classifier';
  model: Classifier;
  /** Class names in class-id order. */
  classes: string[];
  /** How its training documents were shaped (token limit, text fields): predict and evaluate do the same by default. */
  input: InputShape;
  history: EpochEvent<ClassifierMetrics>[];
  initialValid: ClassifierMetrics | null;
  lrFinder: LrFindResult | null;
}

/** Two models of the same kind reading opposite token orders; a classifier pair averages its probabilities. */
export interface Bidirectional<T extends TextLanguageModel | TextClassifier> {
  kind: 'bidirectional';
  forward: T;
  backward: T;
}

export type AnyLanguageModel = TextLanguageModel | Bidirectional<TextLanguageModel>;
export type AnyClassifier = TextClassifier | Bidirectional<TextClassifier>;
export type AnyTextModel = AnyLanguageModel | AnyClassifier;

export type LoadOptions = z.input<typeof RunOptionsSchema> & { optimizer?: boolean };

function historyOf(state: { json: unknown } | null): never[] {
  const h = (state?.json as { history?: unknown } | undefined)?.history;
  return (Array.isArray(h) ? h : []) as never[];
}

/**
 * Writes a model (or a pair, into dir/forward and dir/backward) as model directories; weightsPrecision 'bf16'
 * halves the weights file (each weight rounded to bfloat16), for shipping a model.
 */
export function save(model: AnyTextModel, dir: string, options: { weightsPrecision?: 'fp32' | 'bf16' } = {}): void {
  if (model.kind === 'bidirectional') {
    save(model.forward, path.join(dir, 'forward'), options);
    save(model.backward, path.join(dir, 'backward'), options);
    return;
  }
  const common = { vocab: model.vocab, direction: model.direction, rulesVersion: model.rulesVersion, ...options };
  if (model.kind === 'classifier') model.model.save(dir, { ...common, classes: model.classes, input: model.input });
  else model.model.save(dir, common);
}

function loadOne(dir: string, options: LoadOptions): TextLanguageModel | TextClassifier {
  const { config } = readModelDirectory(dir);
  const { direction, rulesVersion } = config.vocabulary;
  if (config.kind === 'awd-lstm-lm') {
    const { model, vocab, trainingState } = LanguageModel.load(dir, options);
    return {
      kind: 'language-model',
      model,
      vocab,
      direction,
      rulesVersion,
      history: historyOf(trainingState),
      initialValid: null,
      lrFinder: null,
    };
  }
  if (config.kind === 'awd-lstm-classifier') {
    const { model, vocab, classes, trainingState } = Classifier.load(dir, options);
    return {
      kind: 'classifier',
      model,
      vocab,
      classes,
      input: config.input ?? PLAIN_INPUT,
      direction,
      rulesVersion,
      history: historyOf(trainingState),
      initialValid: null,
      lrFinder: null,
    };
  }
  throw new ModelDirectoryError(
    `${path.join(dir, FILES.config)}: kind is "${config.kind}": an encoder alone is loaded into a classifier (loadEncoder)`,
  );
}

/**
 * Opens a model directory, or a pair's (forward/ and backward/ inside `dir`), or a model shipped with the
 * package by its name ('general': SHIPPED_MODELS).
 */
export function load(source: string, options: LoadOptions = {}): AnyTextModel {
  const dir = modelDirectory(source);
  if (fs.existsSync(path.join(dir, FILES.config)) || !fs.existsSync(path.join(dir, 'forward', FILES.config))) return loadOne(dir, options);
  const forward = loadOne(path.join(dir, 'forward'), options);
  let backward: TextLanguageModel | TextClassifier;
  try {
    backward = loadOne(path.join(dir, 'backward'), options);
  } catch (err) {
    forward.model.dispose();
    throw err;
  }
  if (forward.kind !== backward.kind || forward.direction !== 'forward' || backward.direction !== 'backward') {
    forward.model.dispose();
    backward.model.dispose();
    throw new ModelDirectoryError(`${dir}: forward/ and backward/ must hold a forward and a backward model of the same kind`);
  }
  return { kind: 'bidirectional', forward, backward } as AnyTextModel;
}

/** Writes the encoder (embedding and LSTMs) of a language model or classifier, for loadEncoder. */
export function saveEncoder(model: TextLanguageModel | TextClassifier, dir: string): void {
  writeEncoderDirectory(model.model, dir, { vocab: model.vocab, direction: model.direction, rulesVersion: model.rulesVersion });
}

/** Puts an encoder directory's (or a language model directory's) weights into a classifier; same vocabulary. */
export function loadEncoder(classifier: TextClassifier, dir: string): void {
  // The direction first, from config.json alone: a mismatch must leave the classifier untouched.
  let direction: unknown;
  try {
    direction = (JSON.parse(fs.readFileSync(path.join(dir, FILES.config), 'utf8')) as { vocabulary?: { direction?: unknown } }).vocabulary
      ?.direction;
  } catch {
    direction = undefined; // loadEncoder names what is wrong with the directory
  }
  if (direction !== undefined && direction !== classifier.direction) {
    throw new ModelDirectoryError(`${dir}: the encoder reads ${String(direction)}, the classifier ${classifier.direction}`);
  }
  classifier.model.loadEncoder(dir, { vocab: classifier.vocab });
}

/** Frees a model's (or a pair's) native memory. */
export function dispose(model: AnyTextModel): void {
  if (model.kind === 'bidirectional') {
    model.forward.model.dispose();
    model.backward.model.dispose();
  } else model.model.dispose();
}
