// The corpus-scale benchmark, in its own process (so its peak RSS is the pipeline's): reads a
// one-paragraph-per-line corpus file, tokenizes it on worker threads into an LM stream with a new
// vocabulary, then times epoch reshuffles, reading batches, and saving the stream and opening it again.
//   node bench/data-stream.js '{"file": "/tmp/corpus.txt", "threads": "auto", "bs": 64, "seqLen": 72}'
// Prints one JSON line.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { encodeCorpus, LmBatches, openTokenStore, readCorpus, saveTokenStore } from '../dist/index.js';

const cell = JSON.parse(process.argv[2]);
const start = performance.now();
const { store, vocabulary, summary } = await encodeCorpus(readCorpus({ path: cell.file, format: 'lines' }), {
  threads: cell.threads,
  ...(cell.memoryTokens ? { memoryTokens: cell.memoryTokens } : {}),
});
const buildSeconds = (performance.now() - start) / 1000;
const buildPeakRssMB = process.resourceUsage().maxRSS / 1024;

const lm = new LmBatches(store, { batchSize: cell.bs, seqLen: cell.seqLen, seed: 1 });
const reshuffles = [];
for (let epoch = 1; epoch <= 3; epoch++) {
  const t = performance.now();
  const first = lm.epoch(epoch).next().value; // the order, its prefix sums, the row cursors, one batch
  if (!first || first.input.length !== cell.bs * cell.seqLen) throw new Error('no first batch');
  reshuffles.push((performance.now() - t) / 1000);
}
// Reading batches: the stream's throughput for training.
const t = performance.now();
let batches = 0;
for (const batch of lm.epoch(4)) {
  if (++batches === 2000 || !batch) break;
}
const batchSeconds = (performance.now() - t) / 1000;

// Saving the stream and opening it again (checksums verified): what a second run pays instead of tokenizing.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-bench-store-'));
let saveSeconds;
let openSeconds;
try {
  let t0 = performance.now();
  saveTokenStore(store, path.join(dir, 'corpus'), { vocabularySize: vocabulary.size });
  saveSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const reopened = openTokenStore(path.join(dir, 'corpus')).store;
  openSeconds = (performance.now() - t0) / 1000;
  if (reopened.tokenCount !== store.tokenCount) throw new Error('the reopened store differs');
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}

console.log(
  JSON.stringify({
    tokens: summary.tokens,
    documents: summary.documents,
    vocabulary: vocabulary.size,
    distinctTokens: summary.distinctTokens,
    threads: summary.threads,
    backing: store.backing,
    buildSeconds,
    tokensPerSecond: summary.tokens / buildSeconds,
    buildPeakRssMB,
    reshuffleSeconds: reshuffles.sort((a, b) => a - b)[1],
    batchesPerSecond: batches / batchSeconds,
    saveSeconds,
    openSeconds,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
