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
import { Encoder, type EncodedTexts } from '../text/encoder.js';
import { importRules, rulesModuleUrl } from '../text/rules-module.js';
import { threadCount, TokenizePool, type WorkerInit } from '../text/tokenize-pool.js';
import { Tokenizer, TokenizerOptionsSchema } from '../text/tokenizer.js';
import { Vocabulary, VocabularyOptionsSchema } from '../text/vocabulary.js';
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

// Growable typed arrays, for per-token-type and per-document tables of unknown final size.
class GrowableInt32 {
  data = new Int32Array(1024);
  length = 0;
  push(v: number): void {
    if (this.length === this.data.length) this.grow(this.length + 1);
    this.data[this.length++] = v;
  }
  grow(min: number): void {
    const next = new Int32Array(Math.max(min, this.data.length * 2));
    next.set(this.data.subarray(0, this.length));
    this.data = next;
  }
}

class GrowableFloat64 {
  data = new Float64Array(1024);
  ensure(n: number): void {
    if (n <= this.data.length) return;
    const next = new Float64Array(Math.max(n, this.data.length * 2));
    next.set(this.data);
    this.data = next;
  }
}

export async function encodeCorpus(
  documents: AsyncIterable<InputDocument> | Iterable<InputDocument>,
  options: EncodeCorpusOptionsInput = {},
): Promise<EncodedCorpus> {
  const o = validate(EncodeCorpusOptionsSchema, options, 'encodeCorpus options');
  const started = performance.now();
  const fixed = o.vocabulary ?? null;
  const hasFunctions = (o.tokenizer.preRules?.length ?? 0) + (o.tokenizer.postRules?.length ?? 0) > 0;
  let threads = threadCount(o.threads, o.alongsideTraining ?? (liveModelCount() > 0 ? getNumThreads() : 0));
  let inlineReason: string | null = null;
  if (threads > 1 && hasFunctions) {
    inlineReason = 'tokenizer rules given as functions cannot cross to worker threads (pass them as rulesModule)';
    threads = 1;
  }
  const workers = threads - 1;

  // Provisional numbering: global ids in first-seen order, counts, and per-worker local -> global maps.
  const globalIds = new Map<string, number>();
  const globalTokens: string[] = [];
  const counts = new GrowableFloat64();
  const localToGlobal: GrowableInt32[] = [];

  const labelIds = new Map<string, number>();
  const labelNames: string[] = [];
  const labels = new GrowableInt32();
  let labelled: boolean | null = null;

  const writer = new TokenStoreWriter({ memoryTokens: o.memoryTokens, ...(o.spillDir ? { spillDir: o.spillDir } : {}) });
  const summary: EncodeSummary = {
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
  let characters = 0;

  const merge = (encoded: EncodedTexts, worker: number, jobLabels: (number | null)[]): void => {
    const { ids, lengths } = encoded;
    if (!fixed) {
      const map = (localToGlobal[worker] ??= new GrowableInt32());
      for (const t of encoded.newTokens) {
        let g = globalIds.get(t);
        if (g === undefined) {
          g = globalTokens.length;
          globalIds.set(t, g);
          globalTokens.push(t);
        }
        map.push(g);
      }
      counts.ensure(globalTokens.length);
      const table = map.data;
      const c = counts.data;
      for (let i = 0; i < ids.length; i++) {
        const g = table[ids[i]!]!;
        ids[i] = g;
        c[g]!++;
      }
    } else {
      for (let i = 0; i < ids.length; i++) if (ids[i] === 0) summary.unknownTokens++;
    }
    let at = 0;
    for (let d = 0; d < lengths.length; d++) {
      const n = lengths[d]!;
      if (n === 0) {
        summary.emptySkipped++;
        continue;
      }
      writer.append(ids.subarray(at, at + n));
      at += n;
      const label = jobLabels[d];
      if (label !== null && label !== undefined) labels.push(label);
      summary.documents++;
      summary.tokens += n;
    }
    o.onProgress?.({ documents: summary.documents, tokens: summary.tokens, characters, seconds: (performance.now() - started) / 1000 });
  };

  const labelOf = (doc: InputDocument): number | null => {
    const isLabelled = doc.label !== undefined;
    if (labelled === null) labelled = isLabelled;
    else if (labelled !== isLabelled) {
      throw new DataError('some documents have a label and some do not', doc.source ?? null, doc.line ?? null);
    }
    if (!isLabelled) return null;
    const label = doc.label!;
    if (o.classes && !o.classes.includes(label)) {
      throw new DataError(`label "${label}" is not one of the classes ${JSON.stringify(o.classes)}`, doc.source ?? null, doc.line ?? null);
    }
    let id = labelIds.get(label);
    if (id === undefined) {
      id = labelNames.length;
      labelIds.set(label, id);
      labelNames.push(label);
    }
    return id;
  };

  // This thread's tokenizer, with the module's rules too: it encodes this thread's share of the jobs and
  // gives the rules version. Importing here also checks the module before any worker starts.
  const rulesUrl = o.rulesModule ? rulesModuleUrl(o.rulesModule) : null;
  const local = new Tokenizer({ ...o.tokenizer, ...(rulesUrl ? await importRules(rulesUrl) : {}) });
  // Workers start at once when asked for by number; under 'auto' only once the corpus has passed
  // AUTO_WORKERS_AFTER characters (a few seconds on one thread): measured on 2 cores, a worker's start and
  // warm-up cost more than it gains on a corpus of ten million characters, and repay it at corpus scale.
  const startWorkersAfter = o.threads === 'auto' ? AUTO_WORKERS_AFTER : 0;
  let pool: TokenizePool | null = null;
  const startPool = (): void => {
    summary.threads = threads;
    pool = new TokenizePool(workers, {
      tokenizer: o.tokenizer as Record<string, unknown>,
      ...(rulesUrl ? { rulesModule: rulesUrl } : {}),
      ...(fixed ? { vocabulary: fixed.tokens } : {}),
    } satisfies WorkerInit);
  };
  const inline = new Encoder(local, fixed);
  // Jobs in submission order, merged in that order. A job goes to a worker while the workers have fewer
  // than two jobs each, else this thread encodes it: the share adapts to the threads' speeds, and this
  // thread keeps working while the workers start. Results wait at most MAX_QUEUED jobs for their turn.
  type Job = { done: { encoded: EncodedTexts; worker: number } | null; result: Promise<unknown>; labels: (number | null)[] };
  const queue: Job[] = [];
  const MAX_QUEUED = 32;
  const mergeHead = async (): Promise<void> => {
    const head = queue[0]!;
    await head.result;
    queue.shift();
    merge(head.done!.encoded, head.done!.worker, head.labels);
  };

  try {
    let texts: string[] = [];
    let jobLabels: (number | null)[] = [];
    let jobChars = 0;
    const submit = async (): Promise<void> => {
      if (!texts.length) return;
      if (!pool && workers > 0 && characters >= startWorkersAfter) startPool();
      if (pool && pool.inFlight < 2 * workers) {
        const job: Job = { done: null, result: Promise.resolve(), labels: jobLabels };
        job.result = pool.encode(texts).then((r) => {
          job.done = { encoded: r, worker: r.worker };
        });
        job.result.catch(() => undefined); // awaited in order by mergeHead; no unhandled rejection meanwhile
        queue.push(job);
      } else {
        queue.push({ done: { encoded: inline.encode(texts), worker: workers }, result: Promise.resolve(), labels: jobLabels });
        // Let worker replies in (they arrive as events), so that idle workers get the next jobs.
        if (pool) await new Promise<void>((resolve) => setImmediate(resolve));
      }
      while (queue.length && queue[0]!.done) await mergeHead();
      while (queue.length > MAX_QUEUED) await mergeHead();
      texts = [];
      jobLabels = [];
      jobChars = 0;
    };
    for await (const doc of documents) {
      if (typeof doc?.text !== 'string') {
        throw new DataError(
          `a document must have a string "text", got ${doc === null ? 'null' : typeof doc?.text}`,
          doc?.source ?? null,
          doc?.line ?? null,
        );
      }
      jobLabels.push(labelOf(doc));
      texts.push(doc.text);
      jobChars += doc.text.length;
      characters += doc.text.length;
      if (jobChars >= o.jobCharacters) await submit();
    }
    await submit();
    while (queue.length) {
      await mergeHead();
    }
  } catch (error) {
    writer.abort();
    throw error;
  } finally {
    await (pool as TokenizePool | null)?.close();
  }

  if (summary.tokens === 0) {
    writer.abort();
    throw new DataError(`the corpus has no tokens (${summary.documents} documents, ${summary.emptySkipped} empty ones skipped)`);
  }

  let vocabulary = fixed;
  if (!vocabulary) {
    vocabulary = Vocabulary.fromCounts(globalTokens, counts.data, o.vocabularyOptions);
    const table = new Int32Array(globalTokens.length);
    for (let g = 0; g < globalTokens.length; g++) {
      table[g] = vocabulary.id(globalTokens[g]!);
      if (table[g] === 0) summary.unknownTokens += counts.data[g]!;
    }
    writer.remap(table);
    summary.distinctTokens = globalTokens.length;
  }
  summary.spilled = writer.spilled;
  const store = writer.finish();

  let classes: string[] | null = null;
  let classIds: Int32Array | null = null;
  if (labelled) {
    classes = o.classes ? [...o.classes] : [...labelNames].sort();
    if (classes.length < 2) {
      throw new DataError(`a labelled set needs at least two classes; found ${classes.length}: ${JSON.stringify(classes)}`);
    }
    const toClass = labelNames.map((name) => classes!.indexOf(name));
    classIds = Int32Array.from(labels.data.subarray(0, labels.length), (l) => toClass[l]!);
  }
  summary.seconds = (performance.now() - started) / 1000;
  summary.tokensPerSecond = summary.tokens / Math.max(summary.seconds, 1e-9);
  return { store, vocabulary, rulesVersion: local.rulesVersion, labels: classIds, classes, summary };
}
