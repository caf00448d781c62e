// Test hooks, kept apart from the production API (import them from 'ulmfit/testing'): fault injection, to test
// what a run does with a non-finite value, and fixed or recorded dropout masks, to check training-mode maths
// against another implementation. The models' own methods never reach them.
import { z } from 'zod';

import type { Classifier, ClassifierDropoutMasks, NativeClassifier, RecordedClassifierDropoutMasks } from './model/classifier.js';
import { engineOf, type Fault } from './model/engine.js';
import type { DropoutMasks, LanguageModel, NativeLanguageModel, RecordedDropoutMasks } from './model/language-model.js';

export type { Fault } from './model/engine.js';
export type { ClassifierDropoutMasks, RecordedClassifierDropoutMasks } from './model/classifier.js';
export type { DropoutMasks, RecordedDropoutMasks } from './model/language-model.js';

const engine = (model: LanguageModel | Classifier) => engineOf(model) as NativeLanguageModel | NativeClassifier;

const FaultSchema = z.enum(['loss', 'gradients', 'embeddings']);

/**
 * The model's next trainStep puts a NaN into its loss, into one gradient element, or into the embeddings of the
 * batch's first token. That step must come back skipped, the weights and optimizer state as they were.
 */
export function injectFault(model: LanguageModel | Classifier, where: Fault): void {
  const parsed = FaultSchema.safeParse(where);
  if (!parsed.success) throw new RangeError(`injectFault: where must be "loss", "gradients" or "embeddings", got "${String(where)}"`);
  engine(model).injectFault(parsed.data);
}

/** Fixes the dropout masks of every following training step (null: random again); a mask left out is drawn as usual. */
export function setDropoutMasks(model: LanguageModel, masks: DropoutMasks | null): void;
export function setDropoutMasks(model: Classifier, masks: ClassifierDropoutMasks | null): void;
export function setDropoutMasks(model: LanguageModel | Classifier, masks: DropoutMasks | ClassifierDropoutMasks | null): void {
  (engine(model) as { setDropoutMasks(m: typeof masks): void }).setDropoutMasks(masks);
}

/** Keeps the masks of each training step for lastDropoutMasks (they cost as much memory as the weights). */
export function recordDropoutMasks(model: LanguageModel | Classifier, on: boolean): void {
  engine(model).recordDropoutMasks(on);
}

/** The masks the model's last training step applied, while recording. */
export function lastDropoutMasks(model: LanguageModel): RecordedDropoutMasks;
export function lastDropoutMasks(model: Classifier): RecordedClassifierDropoutMasks;
export function lastDropoutMasks(model: LanguageModel | Classifier): RecordedDropoutMasks | RecordedClassifierDropoutMasks {
  return engine(model).lastDropoutMasks();
}
