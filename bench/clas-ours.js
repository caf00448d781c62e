// ulmfit's side of the classifier benchmark, in its own process (so peak RSS is its own):
//   node bench/clas-ours.js '{"mode": "train", "docLen": 250, "bs": 32, "precision": "fp32", ...}'
// Documents of docLen +-10% tokens go through the data pipeline's batching (longest first, fastai's layout),
// one fresh batch per step. Prints one JSON line: { docsPerSecond, stepSeconds, peakRssMB }.
import { Classifier, classifierBatches, Random, setNumThreads, setSeed, TokenStore } from '../dist/index.js';

const cell = JSON.parse(process.argv[2]);
setNumThreads(cell.threads);
setSeed(0);
const model = new Classifier(
  {
    vocabSize: cell.vocab,
    numClasses: 2,
    embSize: cell.emb,
    hiddenSize: cell.hidden,
    numLayers: cell.layers,
    seqLen: cell.seqLen,
    maxLen: cell.maxLen,
  },
  { precision: cell.precision, device: cell.device ?? 'cpu' },
);
const total = cell.warmup + cell.steps;
const random = new Random(1);
const docs = Array.from({ length: cell.bs * total }, () => {
  const n = Math.floor(0.9 * cell.docLen) + random.int(Math.floor(0.2 * cell.docLen) + 1);
  return Int32Array.from({ length: n }, () => 2 + random.int(cell.vocab - 2));
});
const labels = Int32Array.from(docs, () => random.int(2));
// Batches in document order (each step its own documents), each laid out longest first.
const batches = [];
for (let s = 0; s < total; s++) {
  const part = TokenStore.fromDocuments(docs.slice(s * cell.bs, (s + 1) * cell.bs));
  batches.push(...classifierBatches(part, labels.slice(s * cell.bs, (s + 1) * cell.bs), { batchSize: cell.bs, seqLen: cell.seqLen }));
}
const groups = [0, 1, 2, 3, 4].map((g) => ({ lr: 1e-3 / 2.6 ** (4 - g), beta1: 0.7, beta2: 0.99, weightDecay: 0.01 }));
const times = [];
for (let step = 0; step < total; step++) {
  const start = performance.now();
  if (cell.mode === 'train') await model.trainStep(batches[step], { groups, clip: 0.1 });
  else await model.predict(batches[step]);
  if (step >= cell.warmup) times.push((performance.now() - start) / 1000);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(JSON.stringify({ docsPerSecond: cell.bs / median, stepSeconds: times, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
