// A tokenization worker thread: builds its own Tokenizer and Encoder from what the pool sends (functions do
// not cross threads: extra rules come as a module to import), then encodes jobs of texts, sending the ids
// back without copying (transferred buffers).
import { parentPort, workerData } from 'node:worker_threads';

import { Encoder } from './encoder.js';
import { importRules } from './rules-module.js';
import type { WorkerInit, WorkerReply, WorkerJob } from './tokenize-pool.js';
import { Tokenizer } from './tokenizer.js';
import { Vocabulary } from './vocabulary.js';

const init = workerData as WorkerInit;
const port = parentPort!;

let encoder: Encoder | null = null;
let failure: string | null = null;
try {
  const extra = init.rulesModule ? await importRules(init.rulesModule) : {};
  const tokenizer = new Tokenizer({ ...init.tokenizer, ...extra });
  encoder = new Encoder(tokenizer, init.vocabulary ? new Vocabulary(init.vocabulary) : null);
} catch (error) {
  failure = `a tokenization worker could not start: ${(error as Error).message}`;
}

port.on('message', (job: WorkerJob) => {
  let reply: WorkerReply;
  if (!encoder) {
    reply = { id: job.id, error: failure ?? 'no encoder' };
    port.postMessage(reply);
    return;
  }
  try {
    const encoded = encoder.encode(job.texts);
    reply = { id: job.id, ...encoded };
    port.postMessage(reply, [encoded.ids.buffer as ArrayBuffer, encoded.lengths.buffer as ArrayBuffer]);
  } catch (error) {
    reply = { id: job.id, error: (error as Error).message };
    port.postMessage(reply);
  }
});
