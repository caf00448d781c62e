// The vocabulary: token strings in id order, built as fastai v2 builds it (tokens seen at least minFreq
// times, most frequent first with ties in first-seen order, at most maxVocab, the special tokens first,
// then `xxfake` up to the next multiple of 8 — a whole 8 when it already is one). Numericalizing maps an
// unknown token to id 0 (xxunk); `xxfake` entries are padding and never match text.
import fs from 'node:fs';

import { z } from 'zod';

import { validate } from '../options.js';
import { FAKE, SPECIAL_TOKENS, UNK_ID } from './special-tokens.js';

export const VocabularyOptionsSchema = z.object({
  minFreq: z.number().int().min(1).default(3),
  maxVocab: z.number().int().min(SPECIAL_TOKENS.length).default(60_000),
  padToMultipleOf8: z
    .boolean()
    .default(true)
    .describe('Pad with `xxfake` to a multiple of 8 (fastai v2; faster embedding and decoder kernels).'),
  specialTokens: z.array(z.string().min(1)).default([...SPECIAL_TOKENS]),
});

export type VocabularyOptions = z.output<typeof VocabularyOptionsSchema>;
export type VocabularyOptionsInput = z.input<typeof VocabularyOptionsSchema>;

export class VocabularyError extends Error {
  readonly code = 'ERR_ULMFIT_VOCABULARY';
  constructor(message: string) {
    super(message);
    this.name = 'VocabularyError';
  }
}

/** What vocab.json holds: the tokens in id order, and the class list of a classifier. */
export interface VocabularyFile {
  tokens: string[];
  classes?: string[];
}

export class Vocabulary {
  readonly tokens: readonly string[];
  private readonly ids: Map<string, number>;

  constructor(tokens: readonly string[]) {
    if (!Array.isArray(tokens) || tokens.length < 1 || !tokens.every((t) => typeof t === 'string')) {
      throw new VocabularyError('a vocabulary is a non-empty array of token strings');
    }
    this.tokens = Object.freeze([...tokens]);
    this.ids = new Map();
    tokens.forEach((t, i) => {
      if (t === FAKE) return;
      if (this.ids.has(t)) throw new VocabularyError(`the vocabulary lists "${t}" twice (ids ${this.ids.get(t)} and ${i})`);
      this.ids.set(t, i);
    });
  }

  /**
   * Builds a vocabulary from token counts. `tokens` lists each distinct token once, in first-seen order;
   * counts[i] is how often tokens[i] occurred.
   */
  static fromCounts(tokens: readonly string[], counts: ArrayLike<number>, options: VocabularyOptionsInput = {}): Vocabulary {
    const o = validate(VocabularyOptionsSchema, options, 'vocabulary options');
    if (counts.length < tokens.length) throw new VocabularyError(`fromCounts: ${tokens.length} tokens but ${counts.length} counts`);
    // Filtering before ranking keeps the same tokens as ranking first (the ranked list is by count).
    const kept: number[] = [];
    for (let i = 0; i < tokens.length; i++) if (counts[i]! >= o.minFreq) kept.push(i);
    kept.sort((a, b) => counts[b]! - counts[a]! || a - b);
    const specials = new Set(o.specialTokens);
    const list = [...o.specialTokens];
    for (const i of kept.slice(0, o.maxVocab)) if (!specials.has(tokens[i]!)) list.push(tokens[i]!);
    list.length = Math.min(list.length, o.maxVocab);
    if (o.padToMultipleOf8) for (let n = 8 - (list.length % 8); n > 0; n--) list.push(FAKE);
    return new Vocabulary(list);
  }

  /** Builds a vocabulary from tokenized documents (counts them first). */
  static fromDocuments(docs: Iterable<readonly string[]>, options: VocabularyOptionsInput = {}): Vocabulary {
    const index = new Map<string, number>();
    const seen: string[] = [];
    const counts: number[] = [];
    for (const doc of docs) {
      for (const t of doc) {
        let i = index.get(t);
        if (i === undefined) {
          i = seen.length;
          index.set(t, i);
          seen.push(t);
          counts.push(0);
        }
        counts[i]!++;
      }
    }
    return Vocabulary.fromCounts(seen, counts, options);
  }

  /** Reads vocab.json (an object with `tokens`, or a plain array of tokens); errors name the file. */
  static load(file: string): { vocabulary: Vocabulary; classes: string[] | null } {
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (error) {
      throw new VocabularyError(`cannot read the vocabulary ${file}: ${(error as Error).message}`);
    }
    const parsed = parseVocabularyFile(text, file);
    return { vocabulary: new Vocabulary(parsed.tokens), classes: parsed.classes ?? null };
  }

  get size(): number {
    return this.tokens.length;
  }

  /** The id of a token; 0 (xxunk) when unknown. */
  id(token: string): number {
    return this.ids.get(token) ?? UNK_ID;
  }

  has(token: string): boolean {
    return this.ids.has(token);
  }

  encode(tokens: readonly string[]): Int32Array {
    const out = new Int32Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) out[i] = this.ids.get(tokens[i]!) ?? UNK_ID;
    return out;
  }

  decode(ids: ArrayLike<number>): string[] {
    const out = new Array<string>(ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      const t = this.tokens[id];
      if (t === undefined) throw new RangeError(`decode: id ${id} at position ${i} is outside the vocabulary of ${this.size}`);
      out[i] = t;
    }
    return out;
  }

  toFile(classes?: readonly string[]): VocabularyFile {
    return classes ? { tokens: [...this.tokens], classes: [...classes] } : { tokens: [...this.tokens] };
  }
}

export function parseVocabularyFile(text: string, file: string): VocabularyFile {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new VocabularyError(`${file} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = z
    .union([
      z.array(z.string()).transform((tokens) => ({ tokens })),
      z.object({ tokens: z.array(z.string()).min(1), classes: z.array(z.string()).min(2).optional() }),
    ])
    .safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new VocabularyError(
      `${file} must hold {"tokens": [strings], "classes"?: [at least two strings]} or an array of strings (${issue.path.join('.') || 'value'}: ${issue.message})`,
    );
  }
  const data: VocabularyFile = parsed.data;
  if (data.classes && new Set(data.classes).size !== data.classes.length) {
    throw new VocabularyError(`${file}: the class list repeats a class`);
  }
  return data;
}
