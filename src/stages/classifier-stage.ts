// ULMFiT's third stage: a classifier on the fine-tuned language model's encoder (concat pooling and the
// BatchNorm / Dropout / Linear head on top, BPT3C for long documents), trained with gradual unfreezing,
// discriminative rates and STLR. With direction 'both', one classifier per direction on that direction's
// encoder; their averaged probabilities are the ensemble's prediction.
import fs from 'node:fs';
import path from 'node:path';

import { batchIndices, ClassifierBatchesOptionsSchema, classifierBatches } from '../data/classifier-batches.js';
import { DataError } from '../data/read-error.js';
import { Classifier } from '../model/classifier.js';
import { SeqLenSchema } from '../model/config.js';
import { FILES, ModelDirectoryError, readModelDirectory, vocabularyHash } from '../model/directory.js';
import { validate } from '../options.js';
import { Learner } from '../train/learner.js';
import { fastaiPlan, paperPlan } from '../train/unfreezing.js';
import { encodeLabelled, holdOut, pickDocuments, textFieldsOf, type LabelledInput } from './inputs.js';
import { claimModelDirectories, directionsOf, runFields, runStage } from './run-stage.js';
import { modelDirectory } from './shipped-models.js';
import { TrainClassifierOptionsSchema, type TrainClassifierOptions } from './stage-options.js';
import type { AnyClassifier, AnyLanguageModel, Direction, TextClassifier, TextLanguageModel } from './text-models.js';

/** Where a classifier's encoder comes from: a language model (or pair) in memory, or a model / encoder directory (or a pair's). */
export type EncoderSource = AnyLanguageModel | string;

interface EncoderOf {
  vocab: string[];
  rulesVersion: string | null;
  /** A classifier with this encoder. */
  make(numClasses: number, config: Record<string, unknown>, run: { device: string; precision: 'fp32' | 'bf16' }): Classifier;
}

// The encoder of one direction, from a model in memory or a directory.
function encoderOf(source: EncoderSource, direction: Direction): EncoderOf {
  if (typeof source !== 'string') {
    const lm: TextLanguageModel = source.kind === 'bidirectional' ? source[direction] : source;
    if (lm.direction !== direction)
      throw new RangeError(`trainClassifier: the language model reads ${lm.direction}; a ${direction} classifier needs a ${direction} one`);
    return {
      vocab: lm.vocab,
      rulesVersion: lm.rulesVersion,
      make: (numClasses, config, run) => {
        const { vocabSize, embSize, hiddenSize, numLayers, padId } = lm.model.config;
        const model = new Classifier({ ...config, vocabSize, embSize, hiddenSize, numLayers, padId, numClasses }, run);
        try {
          model.copyEncoder(lm.model);
        } catch (err) {
          model.dispose();
          throw err;
        }
        return model;
      },
    };
  }
  source = modelDirectory(source);
  // A pair's directory holds forward/ and backward/; anything else is read (and named in errors) as it is.
  const inPair = path.join(source, direction);
  const dir = !fs.existsSync(path.join(source, FILES.config)) && fs.existsSync(path.join(inPair, FILES.config)) ? inPair : source;
  const { config, vocab } = readModelDirectory(dir);
  if (config.vocabulary.direction !== direction) {
    throw new ModelDirectoryError(
      `${dir}: the language model reads ${config.vocabulary.direction}; a ${direction} classifier needs a ${direction} one`,
    );
  }
  return {
    vocab,
    rulesVersion: config.vocabulary.rulesVersion,
    make: (numClasses, cfg, run) => Classifier.fromLanguageModel(dir, { numClasses, config: cfg, vocab, ...run }).model,
  };
}

/**
 * Stage 3: a classifier on a language model's encoder, trained on labelled text. The text is encoded with
 * the language model's vocabulary; `plan` 'paper' unfreezes one group per epoch from the head down, then
 * trains all for `epochs`, at rates falling by 2.6 per group below `lr`, each stage under STLR.
 */
export async function trainClassifier(
  encoder: EncoderSource,
  labelled: LabelledInput,
  options: TrainClassifierOptions = {},
): Promise<AnyClassifier> {
  const o = validate(TrainClassifierOptionsSchema, options, 'trainClassifier options');
  claimModelDirectories(o);
  const runs = directionsOf(o.direction, o.dir).map((d) => ({ ...d, encoder: encoderOf(encoder, d.direction) }));
  const { vocab, rulesVersion } = runs[0]!.encoder;
  if (runs.some((r) => vocabularyHash(r.encoder.vocab) !== vocabularyHash(vocab))) {
    throw new RangeError('trainClassifier: the forward and backward language models have different vocabularies');
  }
  const encodeOptions = { vocabulary: vocab, encode: o.encode, ...(o.classes ? { classes: o.classes } : {}) };
  const corpus = await encodeLabelled(labelled, encodeOptions, 'labelled');
  let train: { store: typeof corpus.store; labels: Int32Array };
  let valid: { store: typeof corpus.store; labels: Int32Array };
  if (o.valid) {
    const v = await encodeLabelled(o.valid, { ...encodeOptions, classes: corpus.classes }, 'valid');
    train = { store: corpus.store, labels: corpus.labels };
    valid = { store: v.store, labels: v.labels };
  } else {
    const split = holdOut(corpus.store.documentCount, o.validFraction, o.seed);
    train = pickDocuments(corpus.store, corpus.labels, split.train) as typeof train;
    valid = pickDocuments(corpus.store, corpus.labels, split.valid) as typeof valid;
  }
  const classes = corpus.classes;
  const input = { maxTokens: o.maxTokens ?? null, textFields: textFieldsOf(labelled) };
  const seqLen = SeqLenSchema.parse((o.config as { seqLen?: number }).seqLen);

  const trained: TextClassifier[] = [];
  try {
    for (const { direction, dir, encoder: enc } of runs) {
      const batchOptions = { batchSize: o.batchSize, seqLen, direction, ...(o.maxTokens ? { maxTokens: o.maxTokens } : {}) };
      // Each rank of a process group trains on its share of every batch, and validates every worldSize-th batch.
      const { rank, worldSize } = { rank: o.processGroup?.rank ?? 0, worldSize: o.processGroup?.worldSize ?? 1 };
      const trainOptions = { ...batchOptions, order: 'sortish' as const, seed: o.seed, dropLast: true, rank, worldSize };
      const lengths = train.store.lengths();
      const stepsPerPass = batchIndices(lengths, validate(ClassifierBatchesOptionsSchema, trainOptions, 'batches')).length;
      if (stepsPerPass === 0) {
        const ranks = worldSize > 1 ? ` x ${worldSize} ranks` : '';
        throw new DataError(
          `trainClassifier: ${train.store.documentCount} training documents make no full batch of ${o.batchSize}${ranks}; lower batchSize`,
        );
      }
      // A small set's epoch is several passes over it (each its own shuffle), so that every epoch, and so every
      // stage of the plan, has at least minStepsPerEpoch steps; validation comes once per epoch.
      const passes = Math.max(1, Math.ceil(o.minStepsPerEpoch / stepsPerPass));
      const source = {
        stepsPerEpoch: passes * stepsPerPass,
        epoch: function* (e: number) {
          for (let p = 0; p < passes; p++) yield* classifierBatches(train.store, train.labels, trainOptions, e * passes + p);
        },
      };
      const { model, history, initialValid, lrFinder } = await runStage({
        ...runFields(o, { direction, dir }, vocab),
        create: () => enc.make(classes.length, o.config, { device: o.device, precision: o.precision }),
        open: (d) => {
          const opened = Classifier.load(d, { optimizer: true, device: o.device, precision: o.precision });
          if (JSON.stringify(opened.classes) !== JSON.stringify(classes)) {
            opened.model.dispose();
            throw new ModelDirectoryError(
              `${d}: the saved run's classes ${JSON.stringify(opened.classes)} are not this data's ${JSON.stringify(classes)}`,
            );
          }
          return opened;
        },
        learner: (m, save) =>
          Learner.classifier(
            m,
            source,
            () => everyNth(classifierBatches(valid.store, valid.labels, batchOptions), rank, worldSize),
            save ? { vocab, classes, input, direction, rulesVersion } : undefined,
            o.processGroup ?? null,
          ),
        plan: (m) => {
          const n = m.groups().length;
          if (o.plan === 'paper') return paperPlan(n, { lrs: o.lr, finalEpochs: o.epochs });
          if (o.plan === 'fastai') return fastaiPlan(n);
          return o.plan;
        },
      });
      trained.push({ kind: 'classifier', model, vocab, classes, input, direction, rulesVersion, history, initialValid, lrFinder });
    }
  } catch (err) {
    for (const t of trained) t.model.dispose();
    throw err;
  }
  return trained.length === 2 ? { kind: 'bidirectional', forward: trained[0]!, backward: trained[1]! } : trained[0]!;
}

/** Items first, first + step, first + 2 step, ... of `items`: a rank's share of the evaluation batches. */
function* everyNth<T>(items: Iterable<T>, first: number, step: number): Generator<T> {
  let i = 0;
  for (const item of items) if (i++ % step === first) yield item;
}
