// The models' configurations, one obvious place for every default: the AWD-LSTM language model (fastai's LM
// config) and the classifier (fastai's classifier config and head).
import { z } from 'zod';

const Probability = z.number().min(0).lt(1);

/** Tokens a model reads at a time: a language model's batch rows and a classifier's BPT3C chunks (fastai v2: 72). */
export const SeqLenSchema = z.number().int().min(1).default(72);

// The encoder's sizes, shared by both models (a classifier takes them from its language model).
const EncoderSizes = {
  vocabSize: z.number().int().min(2).describe('tokens in the vocabulary'),
  embSize: z.number().int().min(1).default(400).describe('embedding size (the last LSTM layer outputs it too: tied decoder)'),
  hiddenSize: z.number().int().min(1).default(1152).describe('LSTM hidden size'),
  numLayers: z.number().int().min(1).max(16).default(3).describe('LSTM layers'),
  padId: z.number().int().min(0).default(1).describe('id of the padding token'),
};

/** An encoder saved on its own (saveEncoder): the sizes a classifier needs to take it. */
export const EncoderConfigSchema = z
  .object(EncoderSizes)
  .strict()
  .refine((c) => c.padId < c.vocabSize, { message: 'padId must be below vocabSize', path: ['padId'] });

export type EncoderConfig = z.output<typeof EncoderConfigSchema>;

export const LanguageModelConfigSchema = z
  .object({
    ...EncoderSizes,
    dropMult: z.number().min(0).default(1).describe('Multiplies all five dropouts (fastai: 1.0 in its API, 0.3 in its IMDb recipe).'),
    embedP: Probability.describe('embedding dropout (whole rows)').default(0.02),
    inputP: Probability.describe('input dropout (after the embedding)').default(0.25),
    weightP: Probability.describe('weight dropout (DropConnect on weight_hh)').default(0.2),
    hiddenP: Probability.describe('hidden dropout (between LSTM layers)').default(0.15),
    outputP: Probability.describe('output dropout (after the last layer)').default(0.1),
  })
  .strict()
  .refine((c) => c.padId < c.vocabSize, { message: 'padId must be below vocabSize', path: ['padId'] });

export type LanguageModelConfigInput = z.input<typeof LanguageModelConfigSchema>;
export type LanguageModelConfig = z.output<typeof LanguageModelConfigSchema>;

/** The dropouts the engine applies: each configured one times dropMult (still below 1). */
export function effectiveDropouts(c: Pick<LanguageModelConfig, 'dropMult' | 'embedP' | 'inputP' | 'weightP' | 'hiddenP' | 'outputP'>) {
  const scaled = (p: number) => Math.min(p * c.dropMult, 0.99);
  return {
    embedP: scaled(c.embedP),
    inputP: scaled(c.inputP),
    weightP: scaled(c.weightP),
    hiddenP: scaled(c.hiddenP),
    outputP: scaled(c.outputP),
  };
}

/** The pooled window: a whole number of tokens, or Infinity (written as null in config.json) for whole documents. */
const MaxLen = z.union([z.number().int().min(1), z.literal(Infinity), z.null().transform(() => Infinity)]);

// The classifier's configuration: fastai's classifier config (dropMult 0.5 in its recipe) and head.
export const ClassifierConfigSchema = z
  .object({
    ...EncoderSizes,
    numClasses: z.number().int().min(2),
    dropMult: z
      .number()
      .min(0)
      .default(0.5)
      .describe("Multiplies the encoder's four dropouts and the head's first (fastai's classifier: 0.5)."),
    embedP: Probability.describe('embedding dropout (whole rows)').default(0.05),
    inputP: Probability.describe('input dropout (after the embedding)').default(0.4),
    weightP: Probability.describe('weight dropout (DropConnect on weight_hh)').default(0.5),
    hiddenP: Probability.describe('hidden dropout (between LSTM layers)').default(0.3),
    outputP: Probability.describe('output dropout (after the last layer)')
      .default(0.4)
      .describe("The dropout on the pooled features, before the head's first Linear."),
    headHidden: z
      .array(z.number().int().min(1))
      .default([50])
      .describe('Hidden sizes of the head between the pooled features (3 x embSize) and the classes.'),
    headDropouts: z
      .array(Probability)
      .default([0.1])
      .describe('Dropout before each later head Linear, one per headHidden entry (not scaled by dropMult, as in fastai).'),
    headBias: z
      .boolean()
      .default(false)
      .describe("Linear layers of the head with biases (fastai v1's head; fastai v2 has none after its BatchNorm)."),
    seqLen: SeqLenSchema.describe('BPT3C chunk length: documents go through the encoder seqLen tokens at a time.'),
    maxLen: MaxLen.default(1440).describe(
      'Each document pools over (and back-propagates through) its last maxLen tokens; Infinity: all of them.',
    ),
    dropoutMasks: z
      .enum(['document', 'chunk'])
      .default('document')
      .describe(
        "Training: one set of dropout masks per document for all its BPT3C chunks (variational, as AWD-LSTM means it), or new masks for every chunk (fastai's, where each chunk is its own forward)",
      ),
  })
  .strict()
  .refine((c) => c.padId < c.vocabSize, { message: 'padId must be below vocabSize', path: ['padId'] })
  .refine((c) => c.headDropouts.length === c.headHidden.length, {
    message: 'headDropouts needs one probability per headHidden entry',
    path: ['headDropouts'],
  });

export type ClassifierConfigInput = z.input<typeof ClassifierConfigSchema>;
export type ClassifierConfig = z.output<typeof ClassifierConfigSchema>;

/** The classifier's dropouts as the engine applies them: dropMult on the encoder's and the head's first. */
export function effectiveClassifierDropouts(c: ClassifierConfig) {
  const { outputP, ...encoder } = effectiveDropouts(c);
  return { ...encoder, headDropouts: [outputP, ...c.headDropouts] };
}
