// A pool of tokenization workers. Jobs go to the least busy worker; every reply says which worker encoded
// it, because provisional token ids are numbered per worker (the caller merges them in document order).
import os from 'node:os';
import { Worker } from 'node:worker_threads';

import type { EncodedTexts } from './encoder.js';

/** What a worker is started with: all of it must survive structured cloning. */
export interface WorkerInit {
  tokenizer: Record<string, unknown>;
  /** A module (path or file: URL) exporting extra `preRules` / `postRules` arrays. */
  rulesModule?: string;
  /** A fixed vocabulary's tokens; absent for provisional numbering. */
  vocabulary?: readonly string[];
}

export interface WorkerJob {
  id: number;
  texts: string[];
}

export type WorkerReply = ({ id: number } & EncodedTexts) | { id: number; error: string };

export interface PoolResult extends EncodedTexts {
  worker: number;
}

interface Slot {
  worker: Worker;
  pending: Map<number, { resolve: (r: PoolResult) => void; reject: (e: Error) => void }>;
  dead: Error | null;
}

export class TokenizePool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private closed = false;

  constructor(size: number, init: WorkerInit) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`TokenizePool: size must be a positive integer, got ${size}`);
    const script = new URL('./tokenize-worker.js', import.meta.url);
    for (let w = 0; w < size; w++) {
      const worker = new Worker(script, { workerData: init, name: `ulmfit-tokenize-${w}` });
      const slot: Slot = { worker, pending: new Map(), dead: null };
      worker.on('message', (reply: WorkerReply) => {
        const waiter = slot.pending.get(reply.id);
        if (!waiter) return;
        slot.pending.delete(reply.id);
        if ('error' in reply) waiter.reject(new Error(reply.error));
        else waiter.resolve({ ...reply, worker: w });
      });
      const fail = (error: Error): void => {
        slot.dead = error;
        for (const waiter of slot.pending.values()) waiter.reject(error);
        slot.pending.clear();
      };
      worker.on('error', (error) => fail(new Error(`tokenization worker ${w} failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (!this.closed) fail(new Error(`tokenization worker ${w} exited with code ${code}`));
      });
      this.slots.push(slot);
    }
  }

  get size(): number {
    return this.slots.length;
  }

  /** Jobs sent and not answered yet. */
  get inFlight(): number {
    return this.slots.reduce((n, s) => n + s.pending.size, 0);
  }

  encode(texts: string[]): Promise<PoolResult> {
    if (this.closed) return Promise.reject(new Error('TokenizePool: closed'));
    let best = this.slots[0]!;
    for (const s of this.slots) if (s.pending.size < best.pending.size) best = s;
    if (best.dead) return Promise.reject(best.dead);
    const id = this.nextId++;
    return new Promise<PoolResult>((resolve, reject) => {
      best.pending.set(id, { resolve, reject });
      best.worker.postMessage({ id, texts } satisfies WorkerJob);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}

/**
 * How many threads tokenize, the calling thread included. 'auto' takes every core when nothing else runs;
 * alongside training it takes only the cores LibTorch's threads leave free (at least the calling thread),
 * because an oversubscribed core slows a training step far more than it speeds tokenization.
 */
export function threadCount(requested: number | 'auto', torchThreads: number): number {
  if (requested !== 'auto') return requested;
  return Math.max(1, os.availableParallelism() - torchThreads);
}
