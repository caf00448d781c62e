// The corpus-scale benchmark, in its own process (so its peak RSS is the pipeline's): reads a
// one-paragraph-per-line corpus file, tokenizes it on worker threads into an LM stream with a new
// vocabulary, then times epoch reshuffles.
//   node bench/data-stream.js '{"file": "/tmp/corpus.txt", "threads": "auto", "bs": 64, "seqLen": 72}'
// Prints one JSON line.
import { encodeCorpus, LmBatches, readCorpus } from '../dist/index.js';

const cell = JSON.parse(process.argv[2]);
const start = performance.now();
const { store, vocabulary, summary } = await encodeCorpus(readCorpus({ path: cell.file, format: 'lines' }), { threads: cell.threads, ...(cell.memoryTokens ? { memoryTokens: cell.memoryTokens } : {}) });
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
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
