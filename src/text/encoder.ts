// Texts -> token ids, the work each tokenization worker (or the main thread, with no workers) does. With a
// fixed vocabulary the ids are vocabulary ids (unknown -> 0). Without one, the encoder numbers tokens in the
// order it first meets them and reports each new token once: the caller merges these provisional ids into
// one corpus-wide numbering (which keeps first-seen order: ties in the vocabulary depend on it) and remaps
// the stream once the vocabulary is known.
import type { Tokenizer } from './tokenizer.js';
import type { Vocabulary } from './vocabulary.js';

export interface EncodedTexts {
  /** Every text's ids, end to end. */
  ids: Int32Array;
  /** Tokens per text. */
  lengths: Int32Array;
  /** Provisional numbering only: tokens first met in this call, in id order (ids continue the last call's). */
  newTokens: string[];
}

export class Encoder {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly vocabulary: Vocabulary | null,
  ) {}

  encode(texts: readonly string[]): EncodedTexts {
    const lengths = new Int32Array(texts.length);
    const parts: string[][] = [];
    let total = 0;
    for (let i = 0; i < texts.length; i++) {
      const tokens = this.tokenizer.tokenize(texts[i]!);
      parts.push(tokens);
      lengths[i] = tokens.length;
      total += tokens.length;
    }
    const ids = new Int32Array(total);
    const newTokens: string[] = [];
    let at = 0;
    if (this.vocabulary) {
      const v = this.vocabulary;
      for (const tokens of parts) for (const t of tokens) ids[at++] = v.id(t);
    } else {
      const seen = this.seen;
      for (const tokens of parts) {
        for (const t of tokens) {
          let id = seen.get(t);
          if (id === undefined) {
            id = seen.size;
            seen.set(t, id);
            newTokens.push(t);
          }
          ids[at++] = id;
        }
      }
    }
    return { ids, lengths, newTokens };
  }
}
