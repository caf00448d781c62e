// Documents -> a TokenStore (and labels), the data pipeline's middle: texts are batched into jobs, tokenized
// and numericalized on worker threads (or on this thread), and merged in document order. Without a fixed
// vocabulary the tokens are numbered provisionally in first-seen order and counted; the vocabulary is then
// built from the counts and the stored ids are remapped in place: one tokenization pass, and the corpus is
// never held as strings.
import { performance } from 'node:perf_hooks';

import { z } from 'zod';

import { liveModelCount } from '../model/live-models.js';
import { validate } from '../options.js';
import { getNumThreads } from '../runtime.js';
import { Encoder } from '../text/encoder.js';
import { importRules, rulesModuleUrl } from '../text/rules-module.js';
import { threadCount, type WorkerInit } from '../text/tokenize-pool.js';
import { Tokenizer, TokenizerOptionsSchema } from '../text/tokenizer.js';
import { Vocabulary, VocabularyOptionsSchema } from '../text/vocabulary.js';
import { EncodeJobs, type MergeJob } from './encode-jobs.js';
import { LabelTable } from './label-table.js';
import { ProvisionalVocabulary } from './provisional-vocabulary.js';
import { DataError } from './read-error.js';
import { DEFAULT_MEMORY_TOKENS, TokenStoreWriter, type TokenStore } from './token-store.js';

export interface EncodeProgress {
  documents: number;
  tokens: number;
  characters: number;
  seconds: number;
}

/** Characters read before 'auto' starts worker threads. */
export const AUTO_WORKERS_AFTER = 16_000_000;

export const EncodeCorpusOptionsSchema = z.object({
  /** A fixed vocabulary (e.g. the pretrained or fine-tuned LM's); without one, a vocabulary is built. */
  vocabulary: z.instanceof(Vocabulary).optional(),
  /** How a vocabulary is built (ignored with a fixed one). */
  vocabularyOptions: VocabularyOptionsSchema.prefault({}),
  tokenizer: TokenizerOptionsSchema.prefault({}),
  /**
   * A module (file path or file: URL) exporting extra `preRules` / `postRules` arrays: the way to give
   * worker threads extra rules (functions in `tokenizer` cannot cross threads: with them, tokenization
   * runs on this thread). Set `tokenizer.rulesName` to name the rules in the vocabulary's rules version.
   */
  rulesModule: z.string().min(1).optional(),
  /**
   * Threads that tokenize, this one included: 1 tokenizes here alone, n adds n - 1 worker threads (this
   * thread takes its share of the jobs, in pieces of `jobCharacters`). 'auto': one per core, or with
   * `alongsideTraining` the cores training leaves free; its workers start once the corpus has passed
   * AUTO_WORKERS_AFTER characters.
   */
  threads: z.union([z.literal('auto'), z.number().int().min(1).max(256)]).default('auto'),
  /**
   * LibTorch threads busy training meanwhile: 'auto' threads then take only the cores left free. Default:
   * LibTorch's thread count while this process holds a model (one not disposed nor collected), else 0.
   */
  alongsideTraining: z.number().int().min(0).optional(),
  /** Tokens kept in memory before the store spills to a memory-mapped file. */
  memoryTokens: z.number().int().min(1).default(DEFAULT_MEMORY_TOKENS),
  spillDir: z.string().min(1).optional(),
  /** Characters of text per worker job. */
  jobCharacters: z
    .number()
    .int()
    .min(1)
    .default(1 << 18),
  /** The class list of a labelled set (its order gives the class ids); default: the labels seen, sorted. */
  classes: z.array(z.string()).min(2).optional(),
  onProgress: z.custom<(progress: EncodeProgress) => void>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
});

export type EncodeCorpusOptionsInput = z.input<typeof EncodeCorpusOptionsSchema>;
type EncodeCorpusOptions = z.output<typeof EncodeCorpusOptionsSchema>;

export interface InputDocument {
  text: string;
  label?: string;
  /** Where the document came from, for error messages. */
  source?: string;
  line?: number | null;
}

export interface EncodeSummary {
  documents: number;
  tokens: number;
  /** Documents that produced no token (dropped, with their labels). */
  emptySkipped: number;
  /** Distinct token strings seen (provisional numbering only; null with a fixed vocabulary). */
  distinctTokens: number | null;
  /** Tokens numericalized to xxunk (id 0). */
  unknownTokens: number;
  /** Threads that tokenized, this one included (1 when 'auto' found the corpus too small for workers). */
  threads: number;
  /** Why tokenization ran on this thread alone although more threads were asked for, if it did. */
  inlineReason: string | null;
  spilled: boolean;
  seconds: number;
  tokensPerSecond: number;
}

export interface EncodedCorpus {
  store: TokenStore;
  vocabulary: Vocabulary;
  /** The tokenizer rules used (stored with the vocabulary in a model directory). */
  rulesVersion: string;
  /** Class id of each document (labelled sets only). */
  labels: Int32Array | null;
  classes: string[] | null;
  summary: EncodeSummary;
}

export async function encodeCorpus(
  documents: AsyncIterable<InputDocument> | Iterable<InputDocument>,
  options: EncodeCorpusOptionsInput = {},
): Promise<EncodedCorpus> {
  const o = validate(EncodeCorpusOptionsSchema, options, 'encodeCorpus options');
  const started = performance.now();
  const fixed = o.vocabulary ?? null;
  const { threads, inlineReason } = threadsFor(o);
  const provisional = fixed ? null : new ProvisionalVocabulary();
  const labels = new LabelTable(o.classes);
  const writer = new TokenStoreWriter({ memoryTokens: o.memoryTokens, ...(o.spillDir ? { spillDir: o.spillDir } : {}) });
  const summary = emptySummary(inlineReason);
  let characters = 0;

  // A finished job, in document order: its ids into the global numbering (or its unknowns counted), its
  // documents into the store with their labels.
  const merge: MergeJob = (encoded, worker, jobLabels) => {
    if (provisional) provisional.renumber(encoded, worker);
    else for (const id of encoded.ids) if (id === 0) summary.unknownTokens++;
    let at = 0;
    encoded.lengths.forEach((n, d) => {
      if (n === 0) {
        summary.emptySkipped++;
        return;
      }
      writer.append(encoded.ids.subarray(at, at + n));
      at += n;
      const label = jobLabels[d];
      if (label !== null && label !== undefined) labels.keep(label);
      summary.documents++;
      summary.tokens += n;
    });
    o.onProgress?.({ documents: summary.documents, tokens: summary.tokens, characters, seconds: (performance.now() - started) / 1000 });
  };

  // This thread's tokenizer, with the module's rules too: it encodes this thread's share of the jobs and
  // gives the rules version. Importing here also checks the module before any worker starts.
  const rulesUrl = o.rulesModule ? rulesModuleUrl(o.rulesModule) : null;
  const local = new Tokenizer({ ...o.tokenizer, ...(rulesUrl ? await importRules(rulesUrl) : {}) });
  const jobs = new EncodeJobs({
    workers: threads - 1,
    // Under 'auto' workers start only once the corpus has passed AUTO_WORKERS_AFTER characters (a few seconds
    // on one thread): measured on 2 cores, a worker's start and warm-up cost more than it gains on a corpus of
    // ten million characters, and repay it at corpus scale. Asked for by number, they start at once.
    startWorkersAfter: o.threads === 'auto' ? AUTO_WORKERS_AFTER : 0,
    init: {
      tokenizer: o.tokenizer as Record<string, unknown>,
      ...(rulesUrl ? { rulesModule: rulesUrl } : {}),
      ...(fixed ? { vocabulary: fixed.tokens } : {}),
    } satisfies WorkerInit,
    inline: new Encoder(local, fixed),
    merge,
  });

  try {
    for await (const job of textJobs(documents, o.jobCharacters, labels)) {
      characters += job.characters;
      await jobs.submit(job.texts, job.labels, characters);
    }
    await jobs.drain();
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    summary.threads = jobs.started ? threads : 1;
    await jobs.close();
  }

  if (summary.tokens === 0) {
    writer.abort();
    throw new DataError(`the corpus has no tokens (${summary.documents} documents, ${summary.emptySkipped} empty ones skipped)`);
  }
  let vocabulary = fixed;
  if (provisional) {
    const built = provisional.finish(o.vocabularyOptions, writer);
    vocabulary = built.vocabulary;
    summary.unknownTokens += built.unknownTokens;
    summary.distinctTokens = provisional.distinctTokens;
  }
  summary.spilled = writer.spilled;
  const store = writer.finish();
  const labelled = labels.finish();
  summary.seconds = (performance.now() - started) / 1000;
  summary.tokensPerSecond = summary.tokens / Math.max(summary.seconds, 1e-9);
  return {
    store,
    vocabulary: vocabulary!,
    rulesVersion: local.rulesVersion,
    labels: labelled?.classIds ?? null,
    classes: labelled?.classes ?? null,
    summary,
  };
}

/** Threads that tokenize (this one included), and why only this one does when more were asked for. */
function threadsFor(o: EncodeCorpusOptions): { threads: number; inlineReason: string | null } {
  const threads = threadCount(o.threads, o.alongsideTraining ?? (liveModelCount() > 0 ? getNumThreads() : 0));
  const hasFunctions = (o.tokenizer.preRules?.length ?? 0) + (o.tokenizer.postRules?.length ?? 0) > 0;
  if (threads > 1 && hasFunctions) {
    return { threads: 1, inlineReason: 'tokenizer rules given as functions cannot cross to worker threads (pass them as rulesModule)' };
  }
  return { threads, inlineReason: null };
}

function emptySummary(inlineReason: string | null): EncodeSummary {
  return {
    documents: 0,
    tokens: 0,
    emptySkipped: 0,
    distinctTokens: null,
    unknownTokens: 0,
    threads: 1,
    inlineReason,
    spilled: false,
    seconds: 0,
    tokensPerSecond: 0,
  };
}

/** The documents cut into jobs of about `jobCharacters` characters, each document checked and its label numbered. */
async function* textJobs(
  documents: AsyncIterable<InputDocument> | Iterable<InputDocument>,
  jobCharacters: number,
  labels: LabelTable,
): AsyncGenerator<{ texts: string[]; labels: (number | null)[]; characters: number }> {
  let job = { texts: [] as string[], labels: [] as (number | null)[], characters: 0 };
  for await (const doc of documents) {
    if (typeof doc?.text !== 'string') {
      throw new DataError(
        `a document must have a string "text", got ${doc === null ? 'null' : typeof doc?.text}`,
        doc?.source ?? null,
        doc?.line ?? null,
      );
    }
    job.labels.push(labels.idOf(doc));
    job.texts.push(doc.text);
    job.characters += doc.text.length;
    if (job.characters >= jobCharacters) {
      yield job;
      job = { texts: [], labels: [], characters: 0 };
    }
  }
  if (job.texts.length) yield job;
}
