// The general-domain LM of replicate/general-lm.js made into the model shipped with the package: its finished
// run in OUT saved again with bfloat16 weights (half the bytes; no optimizer or training state) into
// models/general-lm/, with provenance.json beside it: the command that made it, the corpus, its held-out
// perplexity, what it cost, and the weights' SHA-256. `fineTuneLanguageModel('general', ...)`, `ulmfit
// finetune --from general` and `ulmfit demo` start from it.
// --results names the run's record when it is not replicate/general-lm-results.json (a continued run's); it
// becomes that file, the shipped LM's record, which docs/RESULTS.md reads.
//   node replicate/ship-general-lm.js [--from general-corpus-out/lm-cpu] [--to models/general-lm] [--results FILE]
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { dispose, load, save } from '../dist/index.js';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? path.resolve(args[i + 1]) : fallback;
};
const from = flag('from', path.join(root, 'general-corpus-out', 'lm-cpu'));
const to = flag('to', path.join(root, 'models', 'general-lm'));
const shippedRecord = path.join(root, 'replicate', 'general-lm-results.json');
const resultsFile = flag('results', shippedRecord);
const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'));
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'replicate', 'general-corpus-manifest.json'), 'utf8'));

const state = JSON.parse(fs.readFileSync(path.join(from, 'training-state.json'), 'utf8'));
if (!state.finished) throw new Error(`${from}: the run has not finished (rerun node replicate/general-lm.js to continue it)`);
if (results.epochs.length !== results.run.epochs) throw new Error(`${resultsFile} does not record the run's last epoch`);
// A continued run's record holds the runs before it: epochs, steps, seconds and commands of them all.
const chain = [];
for (let r = results; r; r = r.previous) chain.unshift(r);
const epochs = chain.flatMap((r) => r.epochs);
const segments = chain.flatMap((r) => r.segments);
const last = epochs.at(-1);

const model = load(from);
save(model, to, { weightsPrecision: 'bf16' });
dispose(model);
const config = JSON.parse(fs.readFileSync(path.join(to, 'config.json'), 'utf8'));
const provenance = {
  what: 'a general-domain English AWD-LSTM language model, the starting point of ULMFiT stage 2',
  reproduce: [
    'node replicate/general-corpus.js',
    ...chain.map((r) => r.command.replace(' --resume', '')),
    `node replicate/ship-general-lm.js --from ${path.relative(root, from)}` +
      (resultsFile === shippedRecord ? '' : ` --results ${path.relative(root, resultsFile)}`),
  ],
  corpus: {
    tokens: manifest.totals.tokens,
    sources: manifest.sources.map((s) => s.package),
    heldOut: manifest.heldOut,
    manifest: 'replicate/general-corpus-manifest.json',
  },
  model: config.model,
  vocabulary: { size: config.vocabulary.size, rulesVersion: config.vocabulary.rulesVersion },
  training: {
    epochs: epochs.length,
    steps: segments.reduce((a, s) => a + s.steps, 0),
    precision: results.run.precision,
    hours: Number((segments.reduce((a, s) => a + s.seconds, 0) / 3600).toFixed(2)),
    machine: '2 CPU cores (AVX512-BF16)',
    trainLoss: Number(last.trainLoss.toFixed(4)),
    heldOutLoss: Number(last.validLoss.toFixed(4)),
    heldOutPerplexity: Number(last.validPerplexity.toFixed(2)),
  },
  weights: { dtype: 'BF16', sha256: config.files['weights.safetensors'].sha256, bytes: config.files['weights.safetensors'].bytes },
};
fs.writeFileSync(path.join(to, 'provenance.json'), JSON.stringify(provenance, null, 2) + '\n');
if (resultsFile !== shippedRecord) fs.writeFileSync(shippedRecord, JSON.stringify(results, null, 1) + '\n');
const bytes = fs.readdirSync(to).reduce((a, f) => a + fs.statSync(path.join(to, f)).size, 0);
console.error(
  `wrote ${path.relative(root, to)}: ${(bytes / 2 ** 20).toFixed(1)} MiB, held-out perplexity ${provenance.training.heldOutPerplexity}`,
);
