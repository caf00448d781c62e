// One process of the data-parallel tests (test/distributed/data-parallel.test.ts), against the compiled
// package: trains a tiny language model or classifier through the stage functions, in a process group when
// WORLD_SIZE says so, with every dropout off, and prints its per-step losses, validation figures and final
// weights as one JSON line. Ctrl-C (SIGINT) stops it after the step in flight, as the CLI does.
// --alone-in-group: a group of one (MASTER_PORT), i.e. the data-parallel code path in a single process.
//   node data-parallel-worker.mjs lm|classifier <batchSize> [--dir DIR] [--epochs N] [--resume] [--checkpoint-every N] [--alone-in-group]
import { pretrainLanguageModel, ProcessGroup, trainClassifier } from '../../dist/index.js';

const args = process.argv.slice(2);
const [kind, batchSizeText] = args;
const flag = (name) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const batchSize = Number(batchSizeText);
const group = args.includes('--alone-in-group')
  ? await ProcessGroup.connect({ rank: 0, worldSize: 1, masterAddr: '127.0.0.1', masterPort: Number(process.env.MASTER_PORT) })
  : await ProcessGroup.fromEnvironment();
const controller = new AbortController();
process.on('SIGINT', () => controller.abort());

// Deterministic text: sentences over a small vocabulary, two classes told apart by their words.
const words = [
  ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'],
  ['golf', 'hotel', 'india', 'juliet', 'kilo', 'lima'],
];
const common = ['the', 'a', 'and', 'of', 'to', 'is'];
const sentence = (d, label) =>
  Array.from({ length: 6 + ((d * 5) % 9) }, (_, i) =>
    (d + i) % 3 === 0 ? common[(d * 3 + i) % 6] : words[label][(d * 7 + i * 5) % 6],
  ).join(' ');
const texts = Array.from({ length: 96 }, (_, d) => sentence(d, d % 2));
const validTexts = Array.from({ length: 16 }, (_, d) => sentence(d + 500, d % 2));
const tiny = { config: { embSize: 8, hiddenSize: 12, numLayers: 2, dropMult: 0 }, encode: { vocabularyOptions: { minFreq: 1 } }, seed: 3 };

const losses = [];
const run = {
  onStep: (e) => losses.push(e.loss),
  signal: controller.signal,
  ...(group ? { processGroup: group } : {}),
  ...(flag('--dir') ? { dir: flag('--dir'), checkpointEverySteps: Number(flag('--checkpoint-every') ?? 0) } : {}),
  ...(args.includes('--resume') ? { resume: true } : {}),
};
let trained;
if (kind === 'lm') {
  const epochs = Number(flag('--epochs') ?? 2);
  trained = await pretrainLanguageModel(texts, { ...tiny, batchSize, seqLen: 8, epochs, lr: 0.01, valid: validTexts, ...run });
} else {
  // The encoder: the same small LM in every process (trained alone, seeded), then the classifier in the group.
  const lm = await pretrainLanguageModel(texts, { ...tiny, batchSize: 8, seqLen: 8, epochs: 1 });
  const labelled = texts.map((text, d) => ({ text, label: d % 2 ? 'b' : 'a' }));
  const valid = validTexts.map((text, d) => ({ text, label: d % 2 ? 'b' : 'a' }));
  trained = await trainClassifier(lm, labelled, {
    config: { dropMult: 0, headDropouts: [0], seqLen: 8 },
    plan: [{ frozenBefore: 0, epochs: Number(flag('--epochs') ?? 2), lrs: 0.01 }],
    batchSize,
    minStepsPerEpoch: 0,
    valid,
    seed: 5,
    ...run,
  });
  lm.model.dispose();
}
const weights = {};
for (const p of trained.model.parameters().parameters) weights[p.name] = Array.from(trained.model.getTensor(p.name).data);
const valid = trained.history.map((h) => h.valid);
process.stdout.write(JSON.stringify({ rank: group?.rank ?? 0, aborted: controller.signal.aborted, losses, valid, weights }) + '\n');
trained.model.dispose();
group?.dispose();
