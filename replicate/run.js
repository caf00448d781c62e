// The replication study (`npm run replicate`; hours on a CPU, never part of CI): on the demo's SpamAssassin
// split, validation error of
//   (a) full ULMFiT: general-domain LM (State of the Union) -> fine-tuned on every message's text -> classifier
//   (b) no general-domain pretraining: an LM trained on the messages alone -> classifier
//   (c) no target LM fine-tuning: the general-domain LM -> classifier
//   (d) a classifier trained from scratch (random encoder)
// each with 100, 500 and all training labels (100 and 500 drawn with three seeds). The language models
// always see every message's text (the paper's semi-supervised setting). Every finished run is a JSON file
// under replicate-out/results: a stopped study continues where it was (models resume from their training
// state). docs/RESULTS.md is written from those files after each run, never by hand.
//   node replicate/run.js [--out replicate-out] [--size cpu|paper] [--only a,b,c,d]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cpuFeatures, encodeTexts, evaluate, fineTuneLanguageModel, LanguageModel, pretrainLanguageModel, Random, trainClassifier } from '../dist/index.js';
import { demoCorpora } from '../dist/cli/demo-data.js';
import { DEMO_SIZES } from '../dist/cli/demo.js';
import { writeResults } from './results.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const out = path.resolve(flag('out', path.join(root, 'replicate-out')));
const sizeName = flag('size', 'cpu');
const only = flag('only', 'a,d,c,b').split(',');
const size = DEMO_SIZES[sizeName];
if (!size) throw new Error(`--size must be cpu or paper, got ${sizeName}`);

// Labels per training run: how many, the seeds, and the batch size and final epochs that suit that many.
export const LABEL_RUNS = [
  { labels: 100, seeds: [1, 2, 3], batchSize: 16, epochs: 12 },
  { labels: 500, seeds: [1, 2, 3], batchSize: 32, epochs: 6 },
  { labels: 'all', seeds: [1], batchSize: size.batchSize, epochs: size.classifier.epochs },
];

const corpora = demoCorpora();
const cut = (texts, chars) => texts.map((t) => (t.length > chars ? t.slice(0, chars) : t));
const speeches = cut(corpora.speeches, size.speechChars);
const messageTexts = cut([...corpora.train, ...corpora.valid].map((m) => m.text), size.messageChars);
const valid = corpora.valid.map(({ text, label }) => ({ text, label }));
const resultsDir = path.join(out, 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const log = (text) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const precision = cpuFeatures().bf16 ? 'bf16' : 'fp32';
const lmOptions = { batchSize: size.batchSize, seqLen: size.seqLen, seed: 0, precision, resume: true };

// The training labels of one run: the first n of a seeded permutation of the training split.
function trainingLabels(labels, seed) {
  const all = corpora.train.map(({ text, label }) => ({ text, label }));
  if (labels === 'all') return all;
  const order = new Random(seed, 0x4c41).permutation(all.length);
  return Array.from(order.subarray(0, labels), (i) => all[i]);
}

const languageModels = new Map();
async function languageModel(name) {
  if (languageModels.has(name)) return languageModels.get(name);
  const dir = path.join(out, `lm-${name}`);
  const started = performance.now();
  let lm;
  if (name === 'general') {
    lm = await pretrainLanguageModel(speeches, { ...lmOptions, config: size.config, ...size.pretrain, dir, encode: { vocabularyOptions: { maxVocab: 30_000 } } });
  } else if (name === 'target') {
    lm = await fineTuneLanguageModel(await languageModel('general'), messageTexts, { ...lmOptions, ...size.finetune, dir, encode: { vocabularyOptions: { maxVocab: 30_000 } } });
  } else if (name === 'messages-only') {
    // As much training on the messages as (a)'s two LM stages together.
    lm = await pretrainLanguageModel(messageTexts, {
      ...lmOptions, config: size.config, epochs: size.finetune.epochs + 1, lr: size.pretrain.lr, dir, encode: { vocabularyOptions: { maxVocab: 30_000 } },
    });
  } else {
    // A language model never trained: a classifier on it is trained from scratch.
    const { vocabulary } = await encodeTexts(messageTexts, { encode: { vocabularyOptions: { maxVocab: 30_000 } } });
    const model = new LanguageModel({ ...size.config, vocabSize: vocabulary.size });
    lm = { kind: 'language-model', model, vocab: vocabulary.tokens, direction: 'forward', rulesVersion: null, history: [], initialValid: null, lrFinder: null };
  }
  log(`language model ${name}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  languageModels.set(name, lm);
  return lm;
}

const VARIANTS = { a: 'target', b: 'messages-only', c: 'general', d: 'untrained' };

for (const variant of only) {
  if (!VARIANTS[variant]) throw new Error(`--only: unknown variant ${variant} (a, b, c, d)`);
  for (const run of LABEL_RUNS) {
    for (const seed of run.seeds) {
      const file = path.join(resultsDir, `${variant}-${run.labels}-${seed}.json`);
      if (fs.existsSync(file)) continue;
      const lm = await languageModel(VARIANTS[variant]);
      const started = performance.now();
      const classifier = await trainClassifier(lm, trainingLabels(run.labels, seed), {
        valid, classes: ['ham', 'spam'], batchSize: run.batchSize, seed, precision, maxTokens: size.maxTokens,
        config: { seqLen: size.seqLen }, lr: size.classifier.lr, epochs: run.epochs,
      });
      const metrics = await evaluate(classifier, valid, { maxTokens: size.maxTokens });
      classifier.model.dispose();
      const result = { variant, labels: run.labels, seed, errorRate: metrics.errorRate, count: metrics.count, seconds: (performance.now() - started) / 1000, size: sizeName };
      fs.writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
      log(`${variant} ${run.labels} labels seed ${seed}: ${(metrics.errorRate * 100).toFixed(2)}% error (${result.seconds.toFixed(0)} s)`);
      writeResults(resultsDir, path.join(root, 'docs', 'RESULTS.md'), size, LABEL_RUNS);
    }
  }
}
for (const lm of languageModels.values()) lm.model.dispose();
writeResults(resultsDir, path.join(root, 'docs', 'RESULTS.md'), size, LABEL_RUNS);
log(`done: ${path.join(root, 'docs', 'RESULTS.md')}`);

