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
  // Ids of the current call, reused across calls (grown when a call needs more).
  private scratch = new Int32Array(1 << 16);

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly vocabulary: Vocabulary | null,
  ) {}

  encode(texts: readonly string[]): EncodedTexts {
    const lengths = new Int32Array(texts.length);
    const newTokens: string[] = [];
    let at = 0;
    for (let d = 0; d < texts.length; d++) {
      const tokens = this.tokenizer.tokenize(texts[d]!);
      if (at + tokens.length > this.scratch.length) {
        const grown = new Int32Array(Math.max(at + tokens.length, this.scratch.length * 2));
        grown.set(this.scratch.subarray(0, at));
        this.scratch = grown;
      }
      const ids = this.scratch;
      if (this.vocabulary) {
        const v = this.vocabulary;
        for (let i = 0; i < tokens.length; i++) ids[at++] = v.id(tokens[i]!);
      } else {
        const seen = this.seen;
        for (let i = 0; i < tokens.length; i++) {
          const t = tokens[i]!;
          let id = seen.get(t);
          if (id === undefined) {
            id = seen.size;
            seen.set(t, id);
            newTokens.push(t);
          }
          ids[at++] = id;
        }
      }
      lengths[d] = tokens.length;
    }
    return { ids: this.scratch.slice(0, at), lengths, newTokens };
  }
}
