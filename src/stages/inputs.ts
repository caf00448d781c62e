// What the three stages accept as data, and turning it into token stores: texts in memory, files on disk
// (the corpus and labelled readers' options), or a corpus already encoded (loadCorpus / encodeCorpus). Also
// the seeded hold-out split, for runs given no validation set of their own.
import { readCorpus, type CorpusSourceOptions } from '../data/corpus-reader.js';
import { encodeCorpus, type EncodeCorpusOptionsInput, type EncodedCorpus } from '../data/encode-corpus.js';
import { readLabelled, type LabelledSourceOptions } from '../data/labelled-reader.js';
import { fieldList } from '../data/fields.js';
import { loadLabelled } from '../data/load.js';
import { Random } from '../data/random.js';
import { DataError } from '../data/read-error.js';
import { TokenStore } from '../data/token-store.js';
import { vocabularyHash } from '../model/directory.js';
import { Vocabulary } from '../text/vocabulary.js';

/** Unlabelled text: strings, files (a corpus source), or an encoded corpus. */
export type TextsInput = readonly string[] | CorpusSourceOptions | EncodedCorpus;

/** Labelled text: { text, label } records, files (a labelled source), or an encoded labelled corpus. */
export type LabelledInput = readonly { text: string; label: string }[] | LabelledSourceOptions | EncodedCorpus;

export interface EncodeInputOptions {
  /** A fixed vocabulary (a pretrained model's); without one, the corpus's own is built. */
  vocabulary?: readonly string[];
  /** The class list of a labelled set, in class-id order (a trained classifier's). */
  classes?: readonly string[];
  /** Tokenizer, vocabulary and threading options of encodeCorpus. */
  encode?: Omit<EncodeCorpusOptionsInput, 'vocabulary' | 'classes'>;
}

function isEncoded(input: unknown): input is EncodedCorpus {
  return (
    typeof input === 'object' &&
    input !== null &&
    'store' in input &&
    'vocabulary' in input &&
    (input as EncodedCorpus).store instanceof TokenStore
  );
}

function checkEncoded(corpus: EncodedCorpus, o: EncodeInputOptions, what: string): EncodedCorpus {
  if (o.vocabulary && vocabularyHash(corpus.vocabulary.tokens) !== vocabularyHash(o.vocabulary)) {
    throw new DataError(`${what}: the corpus was encoded with another vocabulary than the model's; encode it with the model's vocabulary`);
  }
  return corpus;
}

function fixedVocabulary(o: EncodeInputOptions): { vocabulary?: Vocabulary } {
  return o.vocabulary ? { vocabulary: new Vocabulary(o.vocabulary) } : {};
}

/** Token ids of unlabelled text. */
export async function encodeTexts(input: TextsInput, o: EncodeInputOptions = {}, what = 'texts'): Promise<EncodedCorpus> {
  if (isEncoded(input)) return checkEncoded(input, o, what);
  const options = { ...o.encode, ...fixedVocabulary(o) };
  if (Array.isArray(input)) {
    return encodeCorpus(
      input.map((text: unknown, i) => {
        if (typeof text !== 'string') throw new DataError(`${what}[${i}] must be a string, got ${text === null ? 'null' : typeof text}`);
        return { text, source: what, line: i + 1 };
      }),
      options,
    );
  }
  return encodeCorpus(readCorpus(input as CorpusSourceOptions), options);
}

/** Token ids and class ids of labelled text; the class list is `classes` when given. */
export async function encodeLabelled(
  input: LabelledInput,
  o: EncodeInputOptions = {},
  what = 'labelled',
): Promise<EncodedCorpus & { labels: Int32Array; classes: string[] }> {
  let corpus: EncodedCorpus;
  const classes = o.classes ? { classes: [...o.classes] } : {};
  if (isEncoded(input)) {
    corpus = checkEncoded(input, o, what);
    if (o.classes && corpus.classes && JSON.stringify(corpus.classes) !== JSON.stringify(o.classes)) {
      throw new DataError(`${what}: its classes ${JSON.stringify(corpus.classes)} are not the model's ${JSON.stringify(o.classes)}`);
    }
  } else if (Array.isArray(input)) {
    corpus = await encodeCorpus(
      input.map((doc: unknown, i) => {
        const d = doc as { text?: unknown; label?: unknown } | null;
        if (typeof d?.text !== 'string') throw new DataError(`${what}[${i}].text must be a string`);
        if (typeof d.label !== 'string') throw new DataError(`${what}[${i}].label must be a string`);
        return { text: d.text, label: d.label, source: what, line: i + 1 };
      }),
      { ...o.encode, ...fixedVocabulary(o), ...classes },
    );
  } else {
    corpus = o.classes
      ? await encodeCorpus(readLabelled(input as LabelledSourceOptions), { ...o.encode, ...fixedVocabulary(o), ...classes })
      : await loadLabelled(input as LabelledSourceOptions, { ...o.encode, ...fixedVocabulary(o) });
  }
  if (!corpus.labels || !corpus.classes) throw new DataError(`${what}: the documents have no labels`);
  return corpus as EncodedCorpus & { labels: Int32Array; classes: string[] };
}

/**
 * The text fields a labelled set's documents join (null: one text), for the model to remember: the CSV
 * columns or the JSONL fields, whichever the format reads ('auto': whichever lists several).
 */
export function textFieldsOf(input: LabelledInput): (string | number)[] | null {
  if (Array.isArray(input) || isEncoded(input)) return null;
  const o = input as LabelledSourceOptions;
  const columns = fieldList(o.textColumn ?? 'text');
  const fields = fieldList(o.textField ?? 'text');
  const format = o.format ?? 'auto';
  if (format === 'folders') return null;
  if (format === 'auto' && columns.length > 1 && fields.length > 1 && JSON.stringify(columns) !== JSON.stringify(fields)) {
    throw new DataError('textColumn and textField list different fields: with format "auto", give the fields once (or set format)');
  }
  const used = format === 'csv' ? columns : format === 'jsonl' ? fields : columns.length > 1 ? columns : fields;
  return used.length > 1 ? used : null;
}

/** The documents at `indices` (and their labels), copied into a store of their own. */
export function pickDocuments(
  store: TokenStore,
  labels: Int32Array | null,
  indices: Int32Array,
): { store: TokenStore; labels: Int32Array | null } {
  return {
    store: TokenStore.fromDocuments(Array.from(indices, (i) => store.document(i))),
    labels: labels ? Int32Array.from(indices, (i) => labels[i]!) : null,
  };
}

/** A seeded split of `count` documents: `fraction` of them (at least one) held out for validation. */
export function holdOut(count: number, fraction: number, seed: number): { train: Int32Array; valid: Int32Array } {
  const n = Math.max(1, Math.round(count * fraction));
  if (count < 2 || n >= count)
    throw new DataError(`${count} documents cannot be split for validation (validFraction ${fraction}); give a validation set`);
  const order = new Random(seed, 0x5641).permutation(count);
  return { train: order.slice(n).sort(), valid: order.slice(0, n).sort() };
}
