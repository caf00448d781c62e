// Token numbering while a corpus is encoded without a fixed vocabulary: every token string gets a global id
// in first-seen order and a count; each tokenizing thread numbers its own new tokens locally, and its ids
// are renumbered to the global ones as its jobs are merged. At the end the vocabulary is built from the
// counts and the stored ids are remapped in place, so the corpus is tokenized once and never held as strings.
import type { EncodedTexts } from '../text/encoder.js';
import { Vocabulary, type VocabularyOptionsInput } from '../text/vocabulary.js';
import { GrowableFloat64, GrowableInt32 } from './growable.js';
import type { TokenStoreWriter } from './token-store.js';

export class ProvisionalVocabulary {
  readonly #ids = new Map<string, number>();
  readonly #tokens: string[] = [];
  readonly #counts = new GrowableFloat64();
  /** Per thread: its local id -> the global id. */
  readonly #localToGlobal: GrowableInt32[] = [];

  get distinctTokens(): number {
    return this.#tokens.length;
  }

  /** Rewrites a job's local ids (from thread `worker`) to global ones in place, and counts them. */
  renumber(encoded: EncodedTexts, worker: number): void {
    const map = (this.#localToGlobal[worker] ??= new GrowableInt32());
    for (const t of encoded.newTokens) {
      let g = this.#ids.get(t);
      if (g === undefined) {
        g = this.#tokens.length;
        this.#ids.set(t, g);
        this.#tokens.push(t);
      }
      map.push(g);
    }
    this.#counts.ensure(this.#tokens.length);
    const table = map.data;
    const counts = this.#counts.data;
    const { ids } = encoded;
    for (let i = 0; i < ids.length; i++) {
      const g = table[ids[i]!]!;
      ids[i] = g;
      counts[g]!++;
    }
  }

  /** The vocabulary from the counts, the store's ids remapped to it; returns it and how many tokens became xxunk. */
  finish(options: VocabularyOptionsInput, writer: TokenStoreWriter): { vocabulary: Vocabulary; unknownTokens: number } {
    const vocabulary = Vocabulary.fromCounts(this.#tokens, this.#counts.data, options);
    const table = new Int32Array(this.#tokens.length);
    let unknownTokens = 0;
    for (let g = 0; g < this.#tokens.length; g++) {
      table[g] = vocabulary.id(this.#tokens[g]!);
      if (table[g] === 0) unknownTokens += this.#counts.data[g]!;
    }
    writer.remap(table);
    return { vocabulary, unknownTokens };
  }
}
