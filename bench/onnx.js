// Inference without LibTorch (`npm run bench -- onnx`): a classifier's predictions per second through the
// LibTorch engine (fp32 and bf16) and through ONNX Runtime's CPU provider on its exported graph (fp32), on
// the same token batches (tokenization excluded from both), in this one process, interleaved rounds,
// medians. Random weights: speed does not depend on them.
//   npm run bench -- onnx [--vocab 30000] [--emb 400] [--hidden 1152] [--layers 3] [--bs 64] [--docLen 250] [--threads N] [--json]
import os from 'node:os';

import * as ort from 'onnxruntime-node';

import { Classifier, classifierBatches, classifierToOnnx, Random, setNumThreads, setSeed, TokenStore } from '../dist/index.js';

const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const cell = {
  vocab: flag('vocab', 30_000),
  emb: flag('emb', 400),
  hidden: flag('hidden', 1152),
  layers: flag('layers', 3),
  bs: flag('bs', 64),
  docLen: flag('docLen', 250),
  threads: flag('threads', os.availableParallelism()),
  batches: flag('batches', 4),
  rounds: flag('rounds', 3),
};
setNumThreads(cell.threads);
setSeed(0);
const config = { vocabSize: cell.vocab, numClasses: 2, embSize: cell.emb, hiddenSize: cell.hidden, numLayers: cell.layers };
const models = { fp32: new Classifier(config), bf16: new Classifier(config, { precision: 'bf16' }) };
for (const p of models.fp32.parameters().parameters) models.bf16.setTensor(p.name, models.fp32.getTensor(p.name).data);
const textModel = {
  kind: 'classifier',
  model: models.fp32,
  vocab: Array.from({ length: cell.vocab }, (_, i) => `t${i}`),
  classes: ['a', 'b'],
  input: { maxTokens: null, textFields: null },
  direction: 'forward',
  rulesVersion: null,
};
const onnxBytes = classifierToOnnx(textModel);
const session = await ort.InferenceSession.create(onnxBytes, { intraOpNumThreads: cell.threads, interOpNumThreads: 1 });

const random = new Random(1);
const docs = Array.from({ length: cell.bs * cell.batches }, () => {
  const n = Math.floor(0.9 * cell.docLen) + random.int(Math.floor(0.2 * cell.docLen) + 1);
  return Int32Array.from({ length: n }, () => 2 + random.int(cell.vocab - 2));
});
const engineBatches = [...classifierBatches(TokenStore.fromDocuments(docs), null, { batchSize: cell.bs, seqLen: 72 })];
// The same documents, right-padded for the ONNX graph.
const onnxBatches = engineBatches.map((b) => {
  const rows = b.indices.length;
  const time = Math.max(...b.lengths);
  const tokens = new BigInt64Array(rows * time).fill(1n);
  Array.from(b.indices).forEach((d, r) => docs[d].forEach((id, p) => (tokens[r * time + p] = BigInt(id))));
  return {
    tokens: new ort.Tensor('int64', tokens, [rows, time]),
    lengths: new ort.Tensor('int64', BigInt64Array.from(b.lengths, BigInt), [rows]),
  };
});

const sides = {
  'ulmfit predict, fp32': async () => {
    for (const b of engineBatches) await models.fp32.predict(b);
  },
  'ulmfit predict, bf16': async () => {
    for (const b of engineBatches) await models.bf16.predict(b);
  },
  'ONNX Runtime CPU, fp32': async () => {
    for (const b of onnxBatches) await session.run(b);
  },
};
const times = Object.fromEntries(Object.keys(sides).map((k) => [k, []]));
for (const run of Object.values(sides)) await run(); // warm-up
for (let r = 0; r < cell.rounds; r++)
  for (const [name, run] of Object.entries(sides)) {
    const start = performance.now();
    await run();
    times[name].push((performance.now() - start) / 1000);
  }
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = Object.entries(times).map(([name, ts]) => ({ name, docsPerSecond: docs.length / median(ts) }));
const base = rows[0].docsPerSecond;
if (args.includes('--json')) console.log(JSON.stringify({ cell, onnxMB: onnxBytes.length / 2 ** 20, rows }));
else {
  console.log(
    `classifier ${cell.emb}/${cell.hidden}/${cell.layers}, vocab ${cell.vocab}, ${docs.length} documents of ~${cell.docLen} tokens in batches of ${cell.bs}, ${cell.threads} threads; ONNX file ${(onnxBytes.length / 2 ** 20).toFixed(1)} MB`,
  );
  console.log('| path | documents/s | vs ulmfit fp32 |');
  console.log('| --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.name} | ${r.docsPerSecond.toFixed(1)} | ${(r.docsPerSecond / base).toFixed(2)} |`);
}
for (const m of Object.values(models)) m.dispose();
await session.release();
