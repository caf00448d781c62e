// One rank of the data-parallel benchmark (bench/ddp.js), in its own process: a language model's training
// steps on a synthetic token stream, attached to the process group when WORLD_SIZE says so, then the
// all-reduce of one step's gradients (every parameter, fp32) timed on its own.
//   node bench/ddp-worker.js '{"vocab": 30000, "emb": 96, "hidden": 256, "layers": 2, "bs": 32, "seq": 70, "threads": 1, ...}'
// Rank 0 prints one JSON line: { stepSeconds, tokensPerSecond (all ranks), allReduceSeconds, gradientMB }.
import { LanguageModel, ProcessGroup, setNumThreads, setSeed } from '../dist/index.js';

const cell = JSON.parse(process.argv[2]);
setNumThreads(cell.threads);
setSeed(0);
const group = await ProcessGroup.fromEnvironment();
const ranks = group?.worldSize ?? 1;
const rank = group?.rank ?? 0;
const model = new LanguageModel(
  { vocabSize: cell.vocab, embSize: cell.emb, hiddenSize: cell.hidden, numLayers: cell.layers },
  { precision: cell.precision },
);
if (group) {
  await group.broadcastModel(model);
  group.attach(model);
}
const { bs, seq } = cell;
const total = cell.warmup + cell.steps;
const rowLength = seq * total + 1;
// This rank's rows of one stream, as the LM batches would give it.
const token = (row, col) => (Math.imul(row * rowLength + col, 2654435761) >>> 0) % cell.vocab;
const groups = Array.from({ length: cell.layers + 1 }, (_, g) => ({ lr: 1e-3 / 2.6 ** (cell.layers - g), beta1: 0.7, beta2: 0.99 }));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = [];
for (let step = 0; step < total; step++) {
  const input = new Int32Array(bs * seq);
  const target = new Int32Array(bs * seq);
  for (let r = 0; r < bs; r++)
    for (let c = 0; c < seq; c++) {
      input[r * seq + c] = token(rank * bs + r, step * seq + c);
      target[r * seq + c] = token(rank * bs + r, step * seq + c + 1);
    }
  const start = performance.now();
  await model.trainStep({ input, target, batchSize: bs, seqLen: seq }, { groups, clip: 0.1 });
  if (step >= cell.warmup) times.push((performance.now() - start) / 1000);
}
const parameters = model.parameters().parameters.reduce((n, p) => n + p.shape.reduce((a, b) => a * b, 1), 0);
const reduceTimes = [];
if (group) {
  const gradients = new Float32Array(parameters);
  for (let i = 0; i < cell.warmup + cell.steps; i++) {
    const start = performance.now();
    await group.allReduce(gradients);
    if (i >= cell.warmup) reduceTimes.push((performance.now() - start) / 1000);
  }
}
const stepSeconds = median(times);
if (rank === 0) {
  const result = {
    stepSeconds,
    tokensPerSecond: (ranks * bs * seq) / stepSeconds,
    allReduceSeconds: group ? median(reduceTimes) : 0,
    gradientMB: (parameters * 4) / 2 ** 20,
  };
  console.log(JSON.stringify(result));
}
model.dispose();
group?.dispose();
