// ulmfit's side of the LM training-step benchmark, in its own process (so peak RSS is its own):
//   node bench/lm-ours.js '{"vocab": 10000, "bs": 64, "seq": 70, "precision": "fp32", "device": "cpu", ...}'
// Prints one JSON line: { tokensPerSecond, stepSeconds, peakRssMB }.
import { LanguageModel, setNumThreads, setSeed } from '../dist/index.js';

const cell = JSON.parse(process.argv[2]);
setNumThreads(cell.threads);
setSeed(0);
const model = new LanguageModel(
  { vocabSize: cell.vocab, embSize: cell.emb, hiddenSize: cell.hidden, numLayers: cell.layers },
  { precision: cell.precision, device: cell.device ?? 'cpu', lossChunkRows: cell.lossChunkRows ?? 0 },
);
const { bs, seq } = cell;
const total = cell.warmup + cell.steps;
const stream = Int32Array.from({ length: bs * (seq * total + 1) }, (_, i) => (Math.imul(i, 2654435761) >>> 0) % cell.vocab);
const rowLength = seq * total + 1;
const groups = [0, 1, 2, 3].map((g) => ({ lr: 1e-3 / 2.6 ** (3 - g), beta1: 0.7, beta2: 0.99, weightDecay: 0.01 }));
const times = [];
for (let step = 0; step < total; step++) {
  const input = new Int32Array(bs * seq);
  const target = new Int32Array(bs * seq);
  for (let r = 0; r < bs; r++) {
    input.set(stream.subarray(r * rowLength + step * seq, r * rowLength + (step + 1) * seq), r * seq);
    target.set(stream.subarray(r * rowLength + step * seq + 1, r * rowLength + (step + 1) * seq + 1), r * seq);
  }
  const start = performance.now();
  await model.trainStep({ input, target, batchSize: bs, seqLen: seq }, { groups, clip: 0.1 });
  if (step >= cell.warmup) times.push((performance.now() - start) / 1000);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(JSON.stringify({ tokensPerSecond: (bs * seq) / median, stepSeconds: times, peakRssMB: process.resourceUsage().maxRSS / 1024 }));
