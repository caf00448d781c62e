// The ablation study (hours on a CPU, never part of CI): ULMFiT's classifier on both tasks of
// replicate/tasks.js, with each questioned training choice flipped one at a time away from the baseline
// (trainClassifier's defaults when the study began), at 100 / 500 / all labels, seeds 1-3.
// Every finished run is a JSON file in replicate/ablation-results/ (committed: a stopped study continues
// where it was, on this machine or another); the language models live under OUT (trained once per task and
// variant, resumed from their directories); docs/RESULTS.md is rewritten from the result files after each
// run, never by hand.
//   node replicate/ablate.js [--out ablate-out] [--size cpu] [--tasks spam,party,spam-text] [--only name,... | --variants] [--labels 100,500,all] [--seeds 1,2,3]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import {
  cpuFeatures,
  encodeTexts,
  evaluate,
  fineTuneLanguageModel,
  LanguageModel,
  load,
  pretrainLanguageModel,
  shippedModel,
  trainClassifier,
  transferVocabulary,
} from '../dist/index.js';
import { DEMO_SIZES } from '../dist/cli/demo.js';
import { writeResults } from './report.js';
import { SETTINGS, VARIANTS } from './ablation-settings.js';
import { mobyDickChapters } from './general-text.js';
import { labelledSubset, LABEL_COUNTS, SEEDS, TASKS } from './tasks.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const out = path.resolve(flag('out', path.join(root, 'ablate-out')));
const sizeName = flag('size', 'cpu');
const size = DEMO_SIZES[sizeName];
if (!size) throw new Error(`--size must be one of ${Object.keys(DEMO_SIZES).join(', ')}, got ${sizeName}`);

// --variants: the replication study's four variants only (npm run replicate).
const only = args.includes('--variants') ? Object.values(VARIANTS) : flag('only', Object.keys(SETTINGS).join(',')).split(',');
const tasks = flag('tasks', Object.keys(TASKS).join(',')).split(',');
const labelCounts = flag('labels', LABEL_COUNTS.join(','))
  .split(',')
  .map((n) => (n === 'all' ? n : Number(n)));
const seeds = flag('seeds', SEEDS.join(',')).split(',').map(Number);
for (const n of labelCounts) if (!LABEL_COUNTS.includes(n)) throw new Error(`--labels: "${n}" is not one of ${LABEL_COUNTS.join(', ')}`);
for (const s of seeds) if (!SEEDS.includes(s)) throw new Error(`--seeds: "${s}" is not one of ${SEEDS.join(', ')}`);
for (const name of only) if (!SETTINGS[name]) throw new Error(`--only: unknown setting "${name}" (${Object.keys(SETTINGS).join(', ')})`);
for (const name of tasks) if (!TASKS[name]) throw new Error(`--tasks: unknown task "${name}" (${Object.keys(TASKS).join(', ')})`);

const log = (text) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const precision = cpuFeatures().bf16 ? 'bf16' : 'fp32';
const lmOptions = { batchSize: size.batchSize, seqLen: size.seqLen, seed: 0, precision, resume: true };
const vocabularyOptions = { encode: { vocabularyOptions: { maxVocab: 30_000 } } };
const cut = (texts, chars) => texts.map((t) => (Number.isFinite(chars) && t.length > chars ? t.slice(0, chars) : t));

// The general-domain text of each task: never the task's own text, and for the party task never a State of
// the Union address (its held-out addresses must stay out of every language model).
async function generalTexts(task) {
  if (task === 'spam' || task === 'spam-text') {
    const { demoCorpora } = await import('../dist/cli/demo-data.js');
    return cut(demoCorpora().speeches, size.speechChars);
  }
  return [...mobyDickChapters(), ...cut(TASKS.spam().unlabelled, size.messageChars)];
}

// The fine-tuning plan of an LM variant over n groups [rnn0, ..., embedding+decoder]: a frozen epoch on the
// embedding and decoder, then every group at the variant's rates.
function fineTunePlan(variant, n) {
  // (b)'s schedule (pretrainLanguageModel's: every group at the pretraining rate, one-cycle) from other weights.
  if (variant === 'target-from-shipped-as-b')
    return [{ frozenBefore: 0, epochs: size.finetune.epochs + 1, lrs: size.pretrain.lr, schedule: 'oneCycle' }];
  // The paper's rates and STLR, but as many epochs as (b) with every group training from the start.
  if (variant === 'target-from-shipped-unfrozen')
    return [{ frozenBefore: 0, epochs: size.finetune.epochs + 1, lrs: { top: size.finetune.lr, factor: 2.6 }, schedule: 'stlr' }];
  const lr = size.finetune.lr;
  const frozen = { frozenBefore: n - 1, epochs: 1, lrs: lr, schedule: 'stlr' };
  if (variant === 'target-uniform-rates')
    return [frozen, { frozenBefore: 0, epochs: size.finetune.epochs, lrs: { lrs: Array(n).fill(lr) }, schedule: 'stlr' }];
  // The 0.7 scripts' [lr/6, lr/3, lr, lr/2] for 3 layers: the top LSTM at lr, each layer below it a step down that ladder.
  const ladder = [lr, lr / 3, lr / 6];
  const rnn = Array.from({ length: n - 1 }, (_, l) => ladder[Math.min(n - 2 - l, ladder.length - 1)]);
  return [frozen, { frozenBefore: 0, epochs: size.finetune.epochs, lrs: { lrs: [...rnn, lr / 2] }, schedule: 'stlr' }];
}

const languageModels = new Map();
async function languageModel(task, variant) {
  const key = `${task.name}/${variant}`;
  if (languageModels.has(key)) return languageModels.get(key);
  const dir = path.join(out, task.name, `lm-${variant}`);
  const started = performance.now();
  const unlabelled = cut(task.unlabelled, size.messageChars);
  let lm;
  if (variant === 'general') {
    lm = await pretrainLanguageModel(await generalTexts(task.name), {
      ...lmOptions,
      config: size.config,
      ...size.pretrain,
      dir,
      ...vocabularyOptions,
    });
  } else if (variant === 'target-only') {
    // As much training on the task's text as the general LM's fine-tuning: its frozen epoch and its own.
    lm = await pretrainLanguageModel(unlabelled, {
      ...lmOptions,
      config: size.config,
      epochs: size.finetune.epochs + 1,
      lr: size.pretrain.lr,
      dir,
      ...vocabularyOptions,
    });
  } else if (variant === 'shipped') {
    // The general-domain LM shipped with the package (replicate/general-lm.js, replicate/ship-general-lm.js).
    if (!shippedModel('general')) throw new Error('models/general-lm is missing: run node replicate/ship-general-lm.js first');
    lm = load('general', { precision });
  } else if (variant === 'untrained') {
    const { vocabulary } = await encodeTexts(unlabelled, vocabularyOptions);
    const model = new LanguageModel({ ...size.config, vocabSize: vocabulary.size });
    lm = {
      kind: 'language-model',
      model,
      vocab: vocabulary.tokens,
      direction: 'forward',
      rulesVersion: null,
      history: [],
      initialValid: null,
      lrFinder: null,
    };
  } else if (variant === 'target-from-shipped-random-rows') {
    // (a') with (b)'s schedule, but the tokens the general vocabulary lacks start from a fresh model's random
    // rows instead of the mean row (all alike): does their likeness cost the classifier?
    const shipped = await languageModel(task, 'shipped');
    const { vocabulary } = await encodeTexts(unlabelled, vocabularyOptions);
    const transfer = transferVocabulary(shipped.model, shipped.vocab, vocabulary.tokens, { precision });
    const fresh = new LanguageModel({ ...transfer.model.config }, { precision });
    const known = new Set(shipped.vocab);
    const weight = transfer.model.getTensor('0.encoder.weight').data;
    const random = fresh.getTensor('0.encoder.weight').data;
    const bias = transfer.model.getTensor('1.decoder.bias').data;
    const emb = transfer.model.config.embSize;
    vocabulary.tokens.forEach((token, i) => {
      if (known.has(token)) return;
      weight.set(random.subarray(i * emb, (i + 1) * emb), i * emb);
      bias[i] = 0;
    });
    transfer.model.setTensor('0.encoder.weight', weight);
    transfer.model.setTensor('1.decoder.bias', bias);
    fresh.dispose();
    log(`${key}: ${transfer.added} of ${vocabulary.size} tokens start from random rows`);
    const source = { ...shipped, model: transfer.model, vocab: vocabulary.tokens };
    lm = await fineTuneLanguageModel(source, unlabelled, {
      ...lmOptions,
      ...size.finetune,
      plan: fineTunePlan('target-from-shipped-as-b', transfer.model.groups().length),
      vocabulary: 'pretrained',
      dir,
      ...vocabularyOptions,
    });
    transfer.model.dispose();
  } else {
    const general = await languageModel(task, variant.startsWith('target-from-shipped') ? 'shipped' : 'general');
    const plan =
      variant === 'target' || variant === 'target-from-shipped' ? undefined : fineTunePlan(variant, general.model.groups().length);
    lm = await fineTuneLanguageModel(general, unlabelled, {
      ...lmOptions,
      ...size.finetune,
      ...(plan ? { plan } : {}),
      dir,
      ...vocabularyOptions,
    });
  }
  log(`${key}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
  languageModels.set(key, lm);
  return lm;
}

const resultsDir = path.join(root, 'replicate', 'ablation-results');
fs.mkdirSync(resultsDir, { recursive: true });
const report = () => writeResults(resultsDir, path.join(root, 'docs', 'RESULTS.md'), { size: sizeName, settings: SETTINGS });

for (const taskName of tasks) {
  const task = TASKS[taskName]();
  const valid = task.valid.map(({ text, label }) => ({ text, label }));
  for (const labels of labelCounts) {
    for (const seed of labels === 'all' ? [1] : seeds) {
      for (const name of only) {
        const setting = SETTINGS[name];
        const file = path.join(resultsDir, `${taskName}-${name.replace(/[^a-z0-9]+/gi, '_')}-${labels}-${seed}.json`);
        if (fs.existsSync(file)) continue;
        const lm = await languageModel(task, setting.lm ?? 'target');
        const train = labelledSubset(task.train.length, labels, seed).map((i) => ({
          text: task.train[i].text,
          label: task.train[i].label,
        }));
        const started = performance.now();
        const epochs = [];
        const classifier = await trainClassifier(lm, train, {
          valid,
          classes: task.classes,
          seed,
          precision,
          maxTokens: size.maxTokens,
          // The baseline pinned (the defaults when the study began), so that the study stays one experiment
          // whatever trainClassifier's defaults become: one pass per epoch, clipping at 0.1.
          minStepsPerEpoch: 0,
          ...setting.options,
          fit: { clip: 0.1, ...setting.options?.fit },
          config: { seqLen: size.seqLen, ...setting.options?.config },
          onEpoch: (e) =>
            void epochs.push({
              stage: e.stage,
              epoch: e.epoch,
              trainLoss: e.trainLoss,
              validLoss: e.valid?.loss ?? null,
              validError: e.valid ? 1 - e.valid.accuracy : null,
            }),
        });
        const metrics = await evaluate(classifier, valid, { maxTokens: size.maxTokens });
        const steps = classifier.history.length;
        classifier.model.dispose();
        const result = {
          task: taskName,
          setting: name,
          labels,
          seed,
          errorRate: metrics.errorRate,
          count: metrics.count,
          seconds: (performance.now() - started) / 1000,
          size: sizeName,
          epochs,
          epochCount: steps,
        };
        fs.writeFileSync(file, JSON.stringify(result, null, 1) + '\n');
        log(
          `${taskName} ${name} ${labels} labels seed ${seed}: ${(metrics.errorRate * 100).toFixed(2)}% error (${result.seconds.toFixed(0)} s)`,
        );
        report();
      }
    }
  }
}
for (const lm of languageModels.values()) lm.model.dispose();
report();
log(`done: ${path.join(root, 'docs', 'RESULTS.md')}`);
