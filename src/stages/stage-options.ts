// The options of the three stages, one obvious place for their defaults. The paper's where it gives them
// (batch 64; LM fine-tuning at 0.004 and the classifier at 0.01 with STLR, discriminative rates / 2.6 per
// group and gradual unfreezing; Adam beta1 0.7, beta2 0.99), fastai's elsewhere (seqLen 72, one frozen
// epoch on a new vocabulary's embedding before the LM unfreezes, dropout multipliers). Pretraining from
// scratch is not the paper's contribution: it runs Adam with a one-cycle schedule, every group alike.
import { z } from 'zod';

import { DeviceSchema } from '../device.js';
import { ProcessGroup } from '../distributed/process-group.js';
import { PrecisionSchema } from '../model/engine.js';
import type { EncodeCorpusOptionsInput } from '../data/encode-corpus.js';
import { SeqLenSchema, type ClassifierConfigInput, type LanguageModelConfigInput } from '../model/config.js';
import { FitOptionsSchema, type EpochEvent, type StepEvent } from '../train/learner.js';
import type { LrFindOptionsInput } from '../train/lr-finder.js';
import { UnfreezeStageSchema } from '../train/unfreezing.js';
import type { LabelledInput, TextsInput } from './inputs.js';

const fn = <T>(what: string) => z.custom<T>((v) => typeof v === 'function', { message: `must be a function (${what})` });

/** What every stage shares: data handling, where the model goes, how it runs, and hooks. */
const StageFields = {
  direction: z
    .enum(['forward', 'backward', 'both'])
    .default('forward')
    .describe("'both' trains a forward and a backward model (the paper's bidirectional ensemble)."),
  validFraction: z.number().gt(0).lt(1).default(0.1).describe('Held out for validation when no `valid` set is given (seeded).'),
  seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0).describe('seed of the model, dropout and data order'),
  batchSize: z.number().int().min(1).default(64).describe('rows per batch (the paper: 64), on each rank of a process group'),
  device: DeviceSchema.default('cpu').describe('cpu, cuda or cuda:N'),
  precision: PrecisionSchema.default('fp32').describe('bf16: autocast with fp32 master weights (pays off with AVX512-BF16, AMX or a GPU)'),
  dir: z
    .string()
    .min(1)
    .optional()
    .describe('The model directory: checkpoints during training and the model at the end (a pair: dir/forward, dir/backward).'),
  checkpointEverySteps: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('Also checkpoint every N steps (0: at epoch ends only). Needs a model directory.'),
  resume: z
    .boolean()
    .default(false)
    .describe('Continue the run whose training state is in the model directory (a finished one is loaded as it is).'),
  overwrite: z
    .boolean()
    .default(false)
    .describe('Train afresh into a model directory that already holds a model, replacing it at the first checkpoint.'),
  fit: FitOptionsSchema.prefault({}).describe('Optimizer and regularisation options of every stage (see FitOptionsSchema).'),
  encode: z
    .custom<Omit<EncodeCorpusOptionsInput, 'vocabulary' | 'classes'>>((v) => typeof v === 'object' && v !== null)
    .default({})
    .describe('Tokenizer, vocabulary and threading options for encoding text.'),
  lrFind: z
    .union([z.boolean(), z.custom<LrFindOptionsInput>((v) => typeof v === 'object' && v !== null)])
    .default(false)
    .describe("Run the learning-rate finder first (with the first stage's frozen groups): true or its options."),
  lrFindOnly: z
    .boolean()
    .default(false)
    .describe("Stop after the learning-rate finder: the model comes back untrained, with the finder's result."),
  onStep: fn<(event: StepEvent & { direction: 'forward' | 'backward' }) => void>('onStep').optional(),
  onEpoch: fn<(event: EpochEvent<unknown> & { direction: 'forward' | 'backward' }) => void | 'stop'>('onEpoch').optional(),
  signal: z.instanceof(AbortSignal).optional(),
  processGroup: z
    .custom<ProcessGroup>((v) => v instanceof ProcessGroup, { message: 'must be a ProcessGroup (await ProcessGroup.connect())' })
    .optional()
    .describe(
      "Data parallelism: a connected group; each rank trains on its share of every batch, rank 0's weights to start, rank 0 alone writes dir",
    ),
};

/** A language model's data and schedule, shared by pretraining and fine-tuning. */
const LmFields = {
  ...StageFields,
  valid: z.custom<TextsInput>((v) => typeof v === 'object' && v !== null).optional(),
  seqLen: SeqLenSchema.describe('Tokens per batch row (fastai v2: 72).'),
  variableBptt: z
    .boolean()
    .default(false)
    .describe("The AWD-LSTM paper's variable BPTT (70, or 35 with p 0.05, +- N(0, 5)) instead of a fixed seqLen."),
  plan: z.array(UnfreezeStageSchema).min(1).optional().describe('A whole plan of stages instead of the default one.'),
  lossChunkRows: z
    .number()
    .int()
    .nonnegative()
    .default(0)
    .describe('Rows of logits decoded at a time (0: about 64 MB of them on the CPU, 1 GB on a GPU).'),
};

export const PretrainOptionsSchema = z
  .object({
    ...LmFields,
    config: z
      .custom<Omit<LanguageModelConfigInput, 'vocabSize' | 'padId'>>((v) => typeof v === 'object' && v !== null)
      .default({})
      .describe("The model's sizes and dropouts (vocabSize comes from the corpus). Default: the paper's AWD-LSTM."),
    epochs: z.number().int().min(1).default(10),
    lr: z.number().positive().default(5e-3),
    schedule: UnfreezeStageSchema.shape.schedule.default('oneCycle'),
  })
  .strict();

export const FineTuneOptionsSchema = z
  .object({
    ...LmFields,
    epochs: z.number().int().min(1).default(10).describe('Epochs with every group training (STLR, discriminative rates from `lr`).'),
    lr: z
      .number()
      .positive()
      .default(4e-3)
      .describe("The last group's peak rate (the paper's LM fine-tuning: 0.004); the others / 2.6 per group."),
    frozenEpochs: z
      .number()
      .int()
      .nonnegative()
      .default(1)
      .describe("Epochs first spent on the embedding and decoder alone (the new vocabulary's rows); 0 skips them."),
    schedule: UnfreezeStageSchema.shape.schedule.default('stlr'),
    dropMult: z
      .number()
      .min(0)
      .optional()
      .describe("Replaces the pretrained model's dropout multiplier (fastai's IMDb recipe fine-tunes at 0.3)."),
    vocabulary: z
      .enum(['target', 'pretrained'])
      .default('target')
      .describe("'target': the target corpus's own vocabulary, pretrained rows moved by token string (fastai); 'pretrained': keep it."),
  })
  .strict();

export const TrainClassifierOptionsSchema = z
  .object({
    ...StageFields,
    valid: z.custom<LabelledInput>((v) => typeof v === 'object' && v !== null).optional(),
    classes: z.array(z.string()).min(2).optional().describe('The class list in class-id order (default: the labels seen, sorted).'),
    /** The classifier's dropouts, head and BPT3C settings (sizes come from the language model). */
    config: z
      .custom<Omit<ClassifierConfigInput, 'vocabSize' | 'embSize' | 'hiddenSize' | 'numLayers' | 'padId' | 'numClasses'>>(
        (v) => typeof v === 'object' && v !== null,
      )
      .default({}),
    plan: z
      .union([z.enum(['paper', 'fastai']), z.array(UnfreezeStageSchema).min(1)])
      .default('paper')
      .describe(
        "'paper': gradual unfreezing (the last group one epoch, then one more group per epoch) with STLR and discriminative rates from lr; 'fastai': fastai's four one-cycle stages; or a plan of stages",
      ),
    lr: z.number().positive().default(0.01).describe("the last group's peak rate under the paper's plan (the paper: 0.01)"),
    epochs: z.number().int().min(1).default(2).describe("Epochs with every group training at the end of the paper's plan."),
    minStepsPerEpoch: z
      .number()
      .int()
      .nonnegative()
      .default(50)
      .describe(
        'An epoch of a small labelled set passes over it as many times as it takes to make at least this many steps (validated once): every stage of a plan gets enough steps; 0: one pass (docs/RESULTS.md: 100 labels on SpamAssassin, 9.2% error against 26.5% with one pass)',
      ),
    maxTokens: z.number().int().min(1).optional().describe('Keep at most this many tokens of each document (its first).'),
  })
  .strict();

export type PretrainOptions = z.input<typeof PretrainOptionsSchema>;
export type FineTuneOptions = z.input<typeof FineTuneOptionsSchema>;
export type TrainClassifierOptions = z.input<typeof TrainClassifierOptionsSchema>;
