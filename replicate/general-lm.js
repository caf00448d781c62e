// Stage 1 at the largest scale 2 cores allow: the general-domain language model pretrained on the corpus of
// replicate/general-corpus.js through the command line a user would type (`ulmfit pretrain`), resumable
// across runs (a checkpoint every 500 steps; rerunning this script continues the run). The weights stay in
// OUT (not committed); each finished epoch (training loss, held-out loss and perplexity, the wall time and
// throughput so far) goes to replicate/general-lm-results.json, which is.
// --continue-from DIR trains a finished run further (`ulmfit finetune` on the same corpus and vocabulary, every
// group at one rate, a new one-cycle schedule) into its own record (--results), which keeps the record of the
// run it continues (replicate/general-lm-results.json, the shipped LM's) as `previous`; ship-general-lm.js
// makes it the shipped LM's record when it ships that run.
//   node replicate/general-lm.js [--corpus general-corpus-out] [--out general-corpus-out/lm-cpu] [--size cpu] [--epochs 2]
//   node replicate/general-lm.js --continue-from general-corpus-out/lm-cpu --epochs 1 --lr 5e-3 --out general-corpus-out/lm-cpu-2 \
//     --results replicate/general-lm-continued-results.json
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const corpus = path.resolve(flag('corpus', path.join(root, 'general-corpus-out')));
const size = flag('size', 'cpu');
const out = path.resolve(flag('out', path.join(corpus, `lm-${size}`)));
const epochs = Number(flag('epochs', '2'));
const continueFrom = flag('continue-from', null) && path.resolve(flag('continue-from'));
const lr = Number(flag('lr', '5e-3'));
const shippedRecord = path.join(root, 'replicate', 'general-lm-results.json');
const resultsFile = path.resolve(flag('results', shippedRecord));
// The tasks' vocabularies are capped at 30,000 tokens too: the decoder's softmax is most of a small model's time.
const maxVocab = 30_000;

for (const file of ['train.jsonl', 'valid.jsonl', 'manifest.json'])
  if (!fs.existsSync(path.join(corpus, file)))
    throw new Error(`${path.join(corpus, file)} is missing: run node replicate/general-corpus.js first`);

const manifest = JSON.parse(fs.readFileSync(path.join(corpus, 'manifest.json'), 'utf8'));
const relative = (p) => path.relative(root, p);
const run = {
  size,
  epochs,
  maxVocab,
  precision: 'bf16',
  corpusTokens: manifest.totals.tokens,
  ...(continueFrom ? { continues: relative(continueFrom), lr, schedule: 'oneCycle' } : {}),
};
const recorded = fs.existsSync(resultsFile) ? JSON.parse(fs.readFileSync(resultsFile, 'utf8')) : null;
const sameRun = recorded && JSON.stringify(recorded.run) === JSON.stringify(run);
const resuming = fs.existsSync(path.join(out, 'training-state.json'));
if (resuming && !sameRun) throw new Error(`${out} holds another run than ${resultsFile} describes: remove one of them`);
// The record of the run continued: the shipped LM's, which must describe that run's finished epochs.
let previous;
if (continueFrom && !(sameRun && resuming)) {
  if (resultsFile === shippedRecord) throw new Error(`--continue-from needs --results: a record of its own beside ${shippedRecord}`);
  const state = JSON.parse(fs.readFileSync(path.join(continueFrom, 'training-state.json'), 'utf8'));
  if (!state.finished) throw new Error(`${continueFrom}: its run has not finished (rerun it first)`);
  previous = JSON.parse(fs.readFileSync(shippedRecord, 'utf8'));
  if (previous.epochs.length !== previous.run.epochs)
    throw new Error(`${shippedRecord} does not describe a finished run (the one in ${continueFrom})`);
}
// A run that starts over (its checkpoints gone, say on another machine) starts its record over too.
const results = sameRun && resuming ? recorded : { run, command: '', segments: [], epochs: [], ...(previous ? { previous } : {}) };
// Epochs and seconds of the runs a record continues, and of its own finished segments.
const epochsOf = (record) => (record ? [...epochsOf(record.previous), ...record.epochs] : []);
const secondsOf = (record) => (record ? secondsOf(record.previous) + record.segments.reduce((sum, s) => sum + s.seconds, 0) : 0);
const epochsBefore = epochsOf(results.previous).length;

const configFile = `${out}.config.json`;
// A continuation keeps the corpus's vocabulary and trains every group at one rate (it is pretraining, not transfer).
const plan = [{ frozenBefore: 0, epochs, lrs: lr, schedule: 'oneCycle' }];
fs.writeFileSync(configFile, JSON.stringify({ encode: { vocabularyOptions: { maxVocab } }, ...(continueFrom ? { plan } : {}) }));
const stageArgs = continueFrom
  ? ['finetune', '--from', continueFrom, '--vocabulary', 'pretrained']
  : ['pretrain', '--epochs', String(epochs)];
const cliArgs = [
  ...[...stageArgs, path.join(corpus, 'train.jsonl'), '--valid', path.join(corpus, 'valid.jsonl')],
  ...['--size', size, '--precision', run.precision, '--config', configFile],
  ...['--checkpoint-every-steps', '500', '--out', out, '--json', ...(resuming ? ['--resume'] : [])],
];
results.command =
  `ulmfit ${cliArgs.join(' ')}`.replaceAll(root + '/', '') +
  ` (${path.relative(root, configFile)}: ${fs.readFileSync(configFile, 'utf8')})`;

const log = (text) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${text}\n`);
const save = () => fs.writeFileSync(resultsFile, JSON.stringify(results, null, 1) + '\n');
const segment = { started: new Date().toISOString(), seconds: 0, steps: 0, tokensPerSecond: null };
results.segments.push(segment);
const started = performance.now();
const secondsBefore = secondsOf(results) - segment.seconds;

const child = spawn(process.execPath, [path.join(root, 'bin', 'ulmfit.js'), ...cliArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
process.on('SIGINT', () => child.kill('SIGINT'));
process.on('SIGTERM', () => child.kill('SIGINT'));
for await (const line of readline.createInterface({ input: child.stdout })) {
  let event;
  try {
    event = JSON.parse(line);
  } catch {
    continue;
  }
  segment.seconds = (performance.now() - started) / 1000;
  if (event.event === 'step') {
    segment.steps++;
    segment.tokensPerSecond = Math.round(event.tokensPerSecond);
    if (event.step % 100 === 0)
      log(`step ${event.step}/${event.total}, epoch ${event.epoch}, loss ${event.loss.toFixed(3)}, ${segment.tokensPerSecond} tok/s`);
    if (event.step % 500 === 0) save();
  } else if (event.event === 'epoch') {
    const entry = {
      epoch: epochsBefore + event.epoch,
      trainLoss: event.trainLoss,
      validLoss: event.valid?.loss ?? null,
      validPerplexity: event.valid?.loss != null ? Math.exp(event.valid.loss) : null,
      skippedSteps: event.skippedSteps,
      wallSeconds: Math.round(secondsBefore + segment.seconds),
    };
    results.epochs = [...results.epochs.filter((e) => e.epoch !== entry.epoch), entry];
    log(`epoch ${entry.epoch}: train loss ${entry.trainLoss.toFixed(3)}, held-out perplexity ${entry.validPerplexity?.toFixed(1)}`);
    save();
  } else if (event.event === 'message') log(event.text);
}
const code = await new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve)));
segment.seconds = (performance.now() - started) / 1000;
save();
log(code === 0 ? `done: ${out}` : `ulmfit ${stageArgs[0]} ended with code ${code}; rerun this script to continue`);
process.exitCode = code ?? 1;
