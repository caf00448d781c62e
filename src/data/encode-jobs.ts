// The jobs of an encoding run: batches of texts tokenized and numericalized by worker threads or by this
// thread, merged back strictly in submission order. A job goes to a worker while the workers have fewer than
// two jobs each, else this thread encodes it: the share adapts to the threads' speeds, and this thread keeps
// working while the workers start. Results wait at most MAX_QUEUED jobs for their turn.
import type { Encoder, EncodedTexts } from '../text/encoder.js';
import { TokenizePool, type WorkerInit } from '../text/tokenize-pool.js';

const MAX_QUEUED = 32;

/** Hands a finished job's texts (thread `worker`'s numbering) and its documents' labels back, in order. */
export type MergeJob = (encoded: EncodedTexts, worker: number, labels: (number | null)[]) => void;

interface Job {
  done: { encoded: EncodedTexts; worker: number } | null;
  result: Promise<unknown>;
  labels: (number | null)[];
}

export interface EncodeJobsOptions {
  /** Worker threads besides this one (0: this thread does everything). */
  workers: number;
  /** Characters read before the workers start (their start costs more than they repay on a small corpus). */
  startWorkersAfter: number;
  init: WorkerInit;
  /** This thread's encoder; its results are numbered as thread `workers`. */
  inline: Encoder;
  merge: MergeJob;
}

export class EncodeJobs {
  readonly #o: EncodeJobsOptions;
  readonly #queue: Job[] = [];
  #pool: TokenizePool | null = null;

  constructor(options: EncodeJobsOptions) {
    this.#o = options;
  }

  /** Whether worker threads have started. */
  get started(): boolean {
    return this.#pool !== null;
  }

  /** Queues a job of texts; `charactersRead` so far decides when the workers start. */
  async submit(texts: string[], labels: (number | null)[], charactersRead: number): Promise<void> {
    const { workers, startWorkersAfter, init, inline } = this.#o;
    if (!this.#pool && workers > 0 && charactersRead >= startWorkersAfter) this.#pool = new TokenizePool(workers, init);
    const pool = this.#pool;
    if (pool && pool.inFlight < 2 * workers) {
      const job: Job = { done: null, result: Promise.resolve(), labels };
      job.result = pool.encode(texts).then((r) => {
        job.done = { encoded: r, worker: r.worker };
      });
      job.result.catch(() => undefined); // awaited in order by #mergeHead; no unhandled rejection meanwhile
      this.#queue.push(job);
    } else {
      this.#queue.push({ done: { encoded: inline.encode(texts), worker: workers }, result: Promise.resolve(), labels });
      // Let worker replies in (they arrive as events), so that idle workers get the next jobs.
      if (pool) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    while (this.#queue.length && this.#queue[0]!.done) await this.#mergeHead();
    while (this.#queue.length > MAX_QUEUED) await this.#mergeHead();
  }

  /** Waits for every queued job and merges it. */
  async drain(): Promise<void> {
    while (this.#queue.length) await this.#mergeHead();
  }

  async close(): Promise<void> {
    await this.#pool?.close();
  }

  async #mergeHead(): Promise<void> {
    const head = this.#queue[0]!;
    await head.result;
    this.#queue.shift();
    this.#o.merge(head.done!.encoded, head.done!.worker, head.labels);
  }
}
