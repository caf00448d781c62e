// The AWD-LSTM language model's configuration: one obvious place for every default (fastai's LM config).
import { z } from 'zod';

const Probability = z.number().min(0).lt(1);

export const LanguageModelConfigSchema = z
  .object({
    vocabSize: z.number().int().min(2),
    embSize: z.number().int().min(1).default(400),
    hiddenSize: z.number().int().min(1).default(1152),
    numLayers: z.number().int().min(1).max(16).default(3),
    padId: z.number().int().min(0).default(1),
    /** Multiplies all five dropouts (fastai: 1.0 in its API, 0.3 in its IMDb recipe). */
    dropMult: z.number().min(0).default(1),
    embedP: Probability.default(0.02),
    inputP: Probability.default(0.25),
    weightP: Probability.default(0.2),
    hiddenP: Probability.default(0.15),
    outputP: Probability.default(0.1),
  })
  .strict()
  .refine((c) => c.padId < c.vocabSize, { message: 'padId must be below vocabSize', path: ['padId'] });

export type LanguageModelConfigInput = z.input<typeof LanguageModelConfigSchema>;
export type LanguageModelConfig = z.output<typeof LanguageModelConfigSchema>;

/** The dropouts the engine applies: each configured one times dropMult (still below 1). */
export function effectiveDropouts(c: LanguageModelConfig) {
  const scaled = (p: number) => Math.min(p * c.dropMult, 0.99);
  return {
    embedP: scaled(c.embedP),
    inputP: scaled(c.inputP),
    weightP: scaled(c.weightP),
    hiddenP: scaled(c.hiddenP),
    outputP: scaled(c.outputP),
  };
}
