// What a frozen encoder hands the classifier, for the fine-tuned language model of each task against an
// untrained one with the same vocabulary and sizes: the pooled features' scale, saturation and effective
// rank, and a linear probe (logistic regression on the frozen features) trained on the task's labels.
// The transferred encoder must win its own task's probe; if it does not, the hand-over or the LM is at fault.
// Reads the language models replicate/ablate.js trained (ablate-out/<task>/lm-<variant>: the study's variants
// (a), (b) and (a'), each read with its own vocabulary); writes docs/PROBE.md.
//   node replicate/probe.js [--out ablate-out] [--tasks spam,party,spam-text] [--labels 100,2000] [--lms target,target-only,...]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Classifier, classifierBatches, encodeLabelled, LanguageModel, Random, setSeed } from '../dist/index.js';
import { DEMO_SIZES } from '../dist/cli/demo.js';
import { TASKS } from './tasks.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const out = path.resolve(flag('out', path.join(root, 'ablate-out')));
const tasks = flag('tasks', Object.keys(TASKS).join(',')).split(',');
// The language models probed, by their directory under OUT/<task>/ (replicate/ablate.js's LM variants).
const ENCODERS = {
  target: '(a) LM fine-tuned from the small general LM',
  'target-only': "(b) LM trained on the task's text alone",
  'target-from-shipped': "(a') LM fine-tuned from the shipped general LM",
  'target-from-shipped-as-b': "(a') fine-tuned with (b)'s schedule",
  'target-from-shipped-random-rows': "(a') with (b)'s schedule, random new rows",
  'target-from-shipped-unfrozen': "(a') without the frozen LM epoch",
};
const lms = flag('lms', Object.keys(ENCODERS).join(',')).split(',');
for (const name of lms) if (!ENCODERS[name]) throw new Error(`--lms: unknown "${name}" (${Object.keys(ENCODERS).join(', ')})`);
const labelCounts = flag('labels', '100,2000').split(',').map(Number);
const trainCount = Math.max(...labelCounts);
const size = DEMO_SIZES.cpu;

// Pooled features and labels of every document, in batches laid out as the classifier reads them.
async function featuresOf(classifier, encoded) {
  const rows = [];
  const labels = [];
  const index = [];
  for (const batch of classifierBatches(encoded.store, encoded.labels, { batchSize: 64, seqLen: size.seqLen, maxTokens: size.maxTokens })) {
    const f = await classifier.features(batch);
    for (let r = 0; r < f.rows; r++) rows.push(f.features.subarray(r * f.width, (r + 1) * f.width));
    labels.push(...batch.labels);
    index.push(...batch.indices);
  }
  return { rows, labels, index };
}

// Scale, saturation of the last and max blocks (LSTM outputs live in (-1, 1)), and the participation ratio
// (trace C)^2 / trace(C^2) of the covariance C: how many directions the features really use.
function statistics(rows) {
  const width = rows[0].length;
  const mean = new Float64Array(width);
  for (const r of rows) for (let j = 0; j < width; j++) mean[j] += r[j] / rows.length;
  const cov = new Float64Array(width * width);
  let absSum = 0;
  let saturated = 0;
  for (const r of rows) {
    for (let i = 0; i < width; i++) {
      absSum += Math.abs(r[i]);
      if (i < (2 * width) / 3 && Math.abs(r[i]) > 0.95) saturated++;
      const di = r[i] - mean[i];
      for (let j = i; j < width; j++) cov[i * width + j] += (di * (r[j] - mean[j])) / rows.length;
    }
  }
  let trace = 0;
  let squares = 0;
  for (let i = 0; i < width; i++) {
    trace += cov[i * width + i];
    for (let j = i; j < width; j++) squares += (i === j ? 1 : 2) * cov[i * width + j] ** 2;
  }
  return {
    meanAbs: absSum / (rows.length * width),
    std: Math.sqrt(trace / width),
    saturated: saturated / ((rows.length * (2 * width)) / 3),
    effectiveRank: trace ** 2 / squares,
  };
}

// Multinomial logistic regression on standardised features, full-batch gradient descent with L2 (1e-3).
function probe(train, valid, classes) {
  const width = train.rows[0].length;
  const mu = new Float64Array(width);
  const sd = new Float64Array(width);
  for (const r of train.rows) for (let j = 0; j < width; j++) mu[j] += r[j] / train.rows.length;
  for (const r of train.rows) for (let j = 0; j < width; j++) sd[j] += (r[j] - mu[j]) ** 2 / train.rows.length;
  for (let j = 0; j < width; j++) sd[j] = Math.sqrt(sd[j]) + 1e-6;
  const x = (r) => Float64Array.from(r, (v, j) => (v - mu[j]) / sd[j]);
  const xs = train.rows.map(x);
  const w = new Float64Array(classes * (width + 1));
  const scores = (v) =>
    Array.from({ length: classes }, (_, c) => v.reduce((a, vj, j) => a + vj * w[c * (width + 1) + j], w[c * (width + 1) + width]));
  for (let epoch = 0; epoch < 300; epoch++) {
    const grad = new Float64Array(w.length);
    xs.forEach((v, n) => {
      const s = scores(v);
      const m = Math.max(...s);
      const e = s.map((z) => Math.exp(z - m));
      const total = e.reduce((a, b) => a + b, 0);
      for (let c = 0; c < classes; c++) {
        const g = e[c] / total - (train.labels[n] === c ? 1 : 0);
        for (let j = 0; j < width; j++) grad[c * (width + 1) + j] += (g * v[j]) / xs.length;
        grad[c * (width + 1) + width] += g / xs.length;
      }
    });
    for (let k = 0; k < w.length; k++) w[k] -= 0.5 * (grad[k] + 1e-3 * w[k]);
  }
  let errors = 0;
  valid.rows.forEach((r, n) => {
    const s = scores(x(r));
    if (s.indexOf(Math.max(...s)) !== valid.labels[n]) errors++;
  });
  return errors / valid.rows.length;
}

const lines = ['# What the frozen encoder hands the classifier', '', 'Written by `node replicate/probe.js`; do not edit by hand.', ''];
// One encoder's row: feature statistics on the probe's training documents and the probes' held-out errors.
async function probeRow(label, classifier, trainSet, validSet, classes) {
  const train = await featuresOf(classifier, trainSet);
  const valid = await featuresOf(classifier, validSet);
  const s = statistics(train.rows);
  // Rows come in batch order; a probe on n labels takes the rows of the first n documents drawn.
  const order = [...train.rows.keys()].sort((a, b) => train.index[a] - train.index[b]);
  const errors = labelCounts.map((n) => {
    const first = order.slice(0, n);
    return probe({ rows: first.map((i) => train.rows[i]), labels: first.map((i) => train.labels[i]) }, valid, classes);
  });
  return `| ${label} | ${s.meanAbs.toFixed(3)} | ${s.std.toFixed(3)} | ${(s.saturated * 100).toFixed(1)}% | ${s.effectiveRank.toFixed(1)} of ${train.rows[0].length} | ${errors.map((e) => `${(e * 100).toFixed(2)}%`).join(' | ')} |`;
}

const classifierFor = (config, numClasses) => {
  setSeed(0);
  const { vocabSize, embSize, hiddenSize, numLayers, padId } = config;
  return new Classifier({ vocabSize, embSize, hiddenSize, numLayers, padId, numClasses, seqLen: size.seqLen });
};

for (const name of tasks) {
  const task = TASKS[name]();
  const found = lms.filter((lm) => fs.existsSync(path.join(out, name, `lm-${lm}`, 'config.json')));
  if (!found.length) {
    console.error(`${name}: no language model of ${lms.join(', ')} in ${path.join(out, name)}; run replicate/ablate.js first`);
    continue;
  }
  const pick = Array.from(
    new Random(7, 0x50).permutation(task.train.length).subarray(0, Math.min(trainCount, task.train.length)),
    (i) => task.train[i],
  );
  const strip = (list) => list.map(({ text, label }) => ({ text, label }));
  lines.push(
    `## ${name} (probes on the first ${labelCounts.join(' and ')} of a seeded draw of the training set, ${task.valid.length} held out)`,
    '',
  );
  lines.push(
    `| encoder | mean abs | std | saturated (last, max) | effective rank | ${labelCounts.map((n) => `probe error, ${n} labels`).join(' | ')} |`,
    `|---|---|---|---|---|${labelCounts.map(() => '---').join('|')}|`,
  );
  // Each LM reads the documents through its own vocabulary; the untrained encoder takes the first one's.
  for (const [k, lmName] of found.entries()) {
    const { model: lm, vocab } = LanguageModel.load(path.join(out, name, `lm-${lmName}`));
    const trainSet = await encodeLabelled(strip(pick), { vocabulary: vocab, classes: task.classes });
    const validSet = await encodeLabelled(strip(task.valid), { vocabulary: vocab, classes: task.classes });
    for (const trained of k === 0 ? [true, false] : [true]) {
      const classifier = classifierFor(lm.config, task.classes.length);
      if (trained) classifier.copyEncoder(lm);
      const label = trained ? ENCODERS[lmName] : 'untrained encoder';
      lines.push(await probeRow(label, classifier, trainSet, validSet, task.classes.length));
      classifier.dispose();
      console.error(`${name} ${label}: ${lines.at(-1)}`);
    }
    lm.dispose();
  }
  lines.push('');
}
fs.writeFileSync(path.join(root, 'docs', 'PROBE.md'), lines.join('\n') + '\n');
