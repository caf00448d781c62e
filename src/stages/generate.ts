// Text from a language model: the prompt is tokenized as a document (xxbos first), fed through the model
// in evaluation mode, then tokens are drawn one at a time from softmax(logits / temperature) (temperature 0:
// the most probable), seeded, never xxunk or xxpad. The tokens come back readable (detokenize).
import { z } from 'zod';

import { Random } from '../data/random.js';
import { validate } from '../options.js';
import { detokenize } from '../text/detokenize.js';
import { BOS, PAD, UNK } from '../text/special-tokens.js';
import { Tokenizer, type TokenizerOptionsInput } from '../text/tokenizer.js';
import { Vocabulary } from '../text/vocabulary.js';
import type { AnyLanguageModel } from './text-models.js';

export const GenerateOptionsSchema = z
  .object({
    /** Tokens to generate. */
    words: z.number().int().min(1).max(100_000).default(50),
    temperature: z.number().min(0).default(1),
    /** Draw only among the k most probable tokens (0: all). */
    topK: z.number().int().min(0).default(0),
    seed: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER).default(0),
    tokenizer: z.custom<TokenizerOptionsInput>((v) => typeof v === 'object' && v !== null).default({}),
  })
  .strict();

export type GenerateOptions = z.input<typeof GenerateOptionsSchema>;

export interface Generated {
  /** The prompt and the generated tokens, detokenized. */
  text: string;
  /** The generated tokens alone. */
  tokens: string[];
}

/** Draws a token id from logits (excluded ids never). */
function draw(logits: Float32Array, temperature: number, topK: number, excluded: ReadonlySet<number>, random: Random): number {
  let pool: number[] = [];
  for (let i = 0; i < logits.length; i++) if (!excluded.has(i)) pool.push(i);
  if (temperature === 0 || topK === 1) return pool.reduce((best, i) => (logits[i]! > logits[best]! ? i : best), pool[0]!);
  if (topK > 0) pool = pool.sort((a, b) => logits[b]! - logits[a]!).slice(0, topK);
  const top = pool.reduce((m, i) => Math.max(m, logits[i]!), -Infinity);
  const weights = pool.map((i) => Math.exp((logits[i]! - top) / temperature));
  let u = random.next() * weights.reduce((a, b) => a + b, 0);
  for (let k = 0; k < pool.length; k++) {
    u -= weights[k]!;
    if (u <= 0) return pool[k]!;
  }
  return pool[pool.length - 1]!;
}

/** Continues `prompt` with `words` tokens from a (forward) language model. */
export async function generate(lm: AnyLanguageModel, prompt: string, options: GenerateOptions = {}): Promise<Generated> {
  const o = validate(GenerateOptionsSchema, options, 'generate options');
  if (typeof prompt !== 'string') throw new TypeError('generate: prompt must be a string');
  const model = lm.kind === 'bidirectional' ? lm.forward : lm;
  if (model.kind !== 'language-model') throw new TypeError('generate: the model is a classifier, not a language model');
  if (model.direction !== 'forward')
    throw new RangeError('generate: a backward language model reads text last word first; generate with a forward one');
  const vocabulary = new Vocabulary(model.vocab);
  const tokenized = new Tokenizer(o.tokenizer).tokenize(prompt);
  const promptTokens = tokenized.length ? tokenized : [BOS];
  const excluded = new Set([vocabulary.id(UNK), vocabulary.id(PAD)]);
  const random = new Random(o.seed, 0x47454e);
  const generated: string[] = [];
  model.model.resetState('generate');
  try {
    let { logits } = await model.model.nextTokenLogits(Int32Array.from(promptTokens, (t) => vocabulary.id(t)));
    for (let i = 0; i < o.words; i++) {
      const id = draw(logits, o.temperature, o.topK, excluded, random);
      generated.push(model.vocab[id]!);
      if (i + 1 < o.words) ({ logits } = await model.model.nextTokenLogits(Int32Array.of(id)));
    }
  } finally {
    model.model.resetState('generate');
  }
  return { text: detokenize([...promptTokens, ...generated]), tokens: generated };
}
