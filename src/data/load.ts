// The data pipeline end to end: files -> documents (readers) -> token ids (tokenizer, vocabulary, workers)
// -> a TokenStore, with labels for a labelled set. What the readers skipped or repaired is in `read`, what
// tokenization did in `summary`.
import { readCorpus, type CorpusSourceOptions } from './corpus-reader.js';
import { encodeCorpus, type EncodeCorpusOptionsInput, type EncodedCorpus } from './encode-corpus.js';
import { readLabelled, type LabelledSourceOptions } from './labelled-reader.js';
import { createReadSummary, type ReadSummary } from './read-summary.js';

export interface LoadedCorpus extends EncodedCorpus {
  read: ReadSummary;
}

/** Reads and numericalizes a plain-text corpus (for the language model). */
export async function loadCorpus(source: CorpusSourceOptions, options: EncodeCorpusOptionsInput = {}): Promise<LoadedCorpus> {
  const read = createReadSummary();
  const encoded = await encodeCorpus(readCorpus(source, read), options);
  return { ...encoded, read };
}

/**
 * Reads and numericalizes a labelled set. The class list is the one given (in the source or the options),
 * else the reader's: every label folder, or the labels seen, sorted.
 */
export async function loadLabelled(source: LabelledSourceOptions, options: EncodeCorpusOptionsInput = {}): Promise<LoadedCorpus> {
  const read = createReadSummary();
  const given = options.classes ?? source.classes;
  const encoded = await encodeCorpus(readLabelled(source, read), { ...options, ...(given ? { classes: given } : {}) });
  if (!given && encoded.classes && encoded.labels && read.classes.length > encoded.classes.length) {
    // A label folder without documents still names a class: renumber against the reader's full list.
    const seen = encoded.classes;
    const full = read.classes;
    const toFull = seen.map((name) => full.indexOf(name));
    for (let i = 0; i < encoded.labels.length; i++) encoded.labels[i] = toFull[encoded.labels[i]!]!;
    encoded.classes = [...full];
  }
  return { ...encoded, read };
}
