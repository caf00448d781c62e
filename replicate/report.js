// docs/RESULTS.md from the study's result files (replicate/ablate.js, in replicate/ablation-results/) and
// the TF-IDF baseline's (replicate/tfidf_baseline.py, in replicate/baseline-results/): per task, the
// replication study's variants (a)-(d) against the targets, then every ablation setting; validation error
// per label count, mean ± standard deviation over seeds. Written by the study, never by hand.
//   node replicate/report.js      rewrites docs/RESULTS.md from the committed result files
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { SETTINGS, VARIANTS } from './ablation-settings.js';
import { LABEL_COUNTS, SEEDS } from './tasks.js';

function readAll(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

function stats(values) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, n: values.length };
}

const pct = (v) => (v * 100).toFixed(2);

function cellText(runs, labels) {
  if (!runs.length) return 'not run yet';
  const s = stats(runs.map((r) => r.errorRate));
  const wanted = labels === 'all' ? 1 : SEEDS.length;
  return `${pct(s.mean)}${s.n > 1 ? ` ± ${pct(s.sd)}` : ''}${s.n < wanted ? ` (${s.n} of ${wanted} seeds)` : ''}`;
}

const TASK_TEXT = {
  spam: "SpamAssassin, the demo's split (4,836 training / 1,210 held-out messages, ham or spam)",
  'spam-text':
    "SpamAssassin's messages as text: the same split, each message's Subject line and body, its mail headers dropped (what a language model of English can know)",
  party: 'State of the Union passages of at least 40 words -> Democratic or Republican, split by address (every fifth held out)',
};

// The last epoch's training and validation loss at the smallest label count, mean over seeds: underfitting
// (both near ln 2 for two classes) against fitting (training far below validation).
function curves(results, task, settings) {
  const labels = LABEL_COUNTS[0];
  const rows = Object.keys(settings).flatMap((name) => {
    const runs = results.filter((r) => r.task === task && r.setting === name && r.labels === labels && r.epochs?.length);
    if (!runs.length) return [];
    const last = runs.map((r) => r.epochs.at(-1));
    const mean = (key) => (last.reduce((a, e) => a + e[key], 0) / last.length).toFixed(3);
    const best = runs.map((r) => Math.min(...r.epochs.map((e) => e.validError)));
    return [
      `| ${name} | ${mean('trainLoss')} | ${mean('validLoss')} | ${pct(best.reduce((a, b) => a + b, 0) / best.length)} | ${runs[0].epochs.length} |`,
    ];
  });
  if (!rows.length) return '';
  return (
    `At ${labels} labels, the last epoch's mean training and validation loss, and the best validation error of any epoch:\n\n` +
    `| setting | training loss | validation loss | best epoch's error | epochs |\n|---|---|---|---|---|\n${rows.join('\n')}\n`
  );
}

const runsOf = (results, task, setting, labels) =>
  results.filter((r) => r.task === task && r.setting === setting && String(r.labels) === String(labels));
const meanOf = (runs) => (runs.length ? stats(runs.map((r) => r.errorRate)).mean : null);

// Each target of the study, checked against the means it names; a target with a missing run says so.
function targets(results, baseline, task) {
  const full = (c) => meanOf(runsOf(results, task, VARIANTS['(a) full ULMFiT'], c));
  const scratch = (c) => meanOf(runsOf(results, task, VARIANTS['(d) classifier from scratch'], c));
  // The larger of the two variants' standard deviations over seeds: a gap smaller than it is noise.
  const spread = (c) =>
    Math.max(
      ...['(a) full ULMFiT', '(d) classifier from scratch'].map((v) => {
        const runs = runsOf(results, task, VARIANTS[v], c);
        return runs.length > 1 ? stats(runs.map((r) => r.errorRate)).sd : 0;
      }),
    );
  const tfidf = (c) => meanOf(baseline.filter((r) => r.task === task && String(r.labels) === String(c)));
  const check = (what, ours, theirs, name, met, verdicts = ['met', '**missed**']) => {
    if (ours === null || theirs === null) return `- ${what}: not run yet.`;
    return `- ${what}: ${met(ours, theirs) ? verdicts[0] : verdicts[1]} (${pct(ours)}% against ${name}'s ${pct(theirs)}%).`;
  };
  const below = (a, b) => a < b;
  const lines = LABEL_COUNTS.map((c) => {
    const line = check(`target: (a) below (d) from scratch at ${c} labels`, full(c), scratch(c), '(d)', below);
    const gap = full(c) !== null && scratch(c) !== null ? Math.abs(full(c) - scratch(c)) : Infinity;
    return gap < spread(c) ? line.replace(/\.$/, `, but the gap is within the seeds' spread (${pct(spread(c))} points).`) : line;
  });
  if (task === 'party') {
    lines.push(check('target: (a) at 100 labels at or below TF-IDF + LR at 500', full(100), tfidf(500), 'TF-IDF', (a, b) => a <= b));
    lines.push(check('target: (a) at all labels below TF-IDF + LR at all', full('all'), tfidf('all'), 'TF-IDF', below));
  }
  // The general LM's target: (a') below (b) at 100 labels by more than the larger of their seeds' deviations.
  const pretrainingPays = (() => {
    const [general, none] = ["(a') full ULMFiT from the general LM", '(b) no general-domain pretraining'].map((v) =>
      runsOf(results, task, VARIANTS[v], 100),
    );
    const what =
      "target: (a') from the general LM below (b) without general-domain pretraining at 100 labels, by more than a standard deviation";
    if (!general?.length || !none?.length) return `- ${what}: not run yet.`;
    const [a, b] = [general, none].map((runs) => stats(runs.map((r) => r.errorRate)));
    const sd = Math.max(a.sd, b.sd);
    // The seeds draw the same labels for both, so the gap seed by seed shows what the label draw's spread hides.
    const paired = general
      .map((g) => [g, none.find((n) => n.seed === g.seed)])
      .filter(([, n]) => n)
      .sort(([x], [y]) => x.seed - y.seed)
      .map(([g, n]) => `${(n.errorRate - g.errorRate >= 0 ? '+' : '') + pct(n.errorRate - g.errorRate)} (seed ${g.seed})`);
    return `- ${what}: ${b.mean - a.mean > sd ? 'met' : '**missed**'} (${pct(a.mean)}% against ${pct(b.mean)}%, a gap of ${pct(b.mean - a.mean)} points; the larger deviation ${pct(sd)}; the gap on the same labels: ${paired.join(', ')}).`;
  })();
  if (VARIANTS["(a') full ULMFiT from the general LM"]) lines.push(pretrainingPays);
  const side = ['below', '**above**'];
  lines.push(
    ...LABEL_COUNTS.map((c) =>
      check(`(a) against TF-IDF + LR at ${c} labels (the paper's comparison, not a target here)`, full(c), tfidf(c), 'TF-IDF', below, side),
    ),
  );
  return lines.join('\n');
}

function table(results, baseline, task, rows, first = 'setting') {
  const header = `| ${first} | ${LABEL_COUNTS.map((c) => `${c} labels`).join(' | ')} |\n|---|${LABEL_COUNTS.map(() => '---').join('|')}|`;
  const body = rows.map(
    ([label, setting]) => `| ${label} | ${LABEL_COUNTS.map((c) => cellText(runsOf(results, task, setting, c), c)).join(' | ')} |`,
  );
  const tfidf = LABEL_COUNTS.map((c) =>
    cellText(
      baseline.filter((r) => r.task === task && String(r.labels) === String(c)),
      c,
    ),
  );
  return `${header}\n${body.join('\n')}\n| TF-IDF + logistic regression | ${tfidf.join(' | ')} |`;
}

// What the shipped general LM cost to make, from replicate/general-lm-results.json (replicate/general-lm.js):
// a continued run's record holds the runs before it (`previous`), so epochs, hours and commands add up.
function generalLmCost(replicateDir) {
  const file = path.join(replicateDir, 'general-lm-results.json');
  if (!fs.existsSync(file)) return 'Not pretrained yet (`node replicate/general-lm.js`).\n';
  const chain = [];
  for (let r = JSON.parse(fs.readFileSync(file, 'utf8')); r; r = r.previous) chain.unshift(r);
  const r = chain.at(-1);
  const segments = chain.flatMap((c) => c.segments);
  const hours = segments.reduce((a, g) => a + g.seconds, 0) / 3600;
  const steps = segments.reduce((a, g) => a + g.steps, 0);
  const planned = chain.reduce((a, c) => a + c.run.epochs, 0);
  const epochs = chain.flatMap((c) =>
    c.epochs.map(
      (e) =>
        `| ${e.epoch + 1} | ${c.run.continues ? `continued at peak lr ${c.run.lr}` : 'pretrained'} | ${e.trainLoss.toFixed(3)} | ${e.validLoss?.toFixed(3) ?? '-'} | ${e.validPerplexity?.toFixed(1) ?? '-'} | ${(e.wallSeconds / 3600).toFixed(2)} |`,
    ),
  );
  const commands = chain.map((c) => `\`${c.command.replace(' --resume', '')}\``).join(', then ');
  return `The corpus: ${(r.run.corpusTokens / 1e6).toFixed(1)} M tokens of general English from Debian and npm text packages
(\`node replicate/general-corpus.js\`; sources, licences and sizes in \`replicate/general-corpus-manifest.json\`; 1% held
out), never the evaluation tasks' text. The model: size \`${r.run.size}\` (96/256/2), a ${r.run.maxVocab.toLocaleString('en-US')}-token vocabulary, ${r.run.precision},
${planned} epoch(s) planned; ${steps.toLocaleString('en-US')} steps so far in ${hours.toFixed(2)} hours on 2 CPU cores (${segments.length} run(s), resumed
from checkpoints). ${chain.length > 1 ? 'Commands' : 'Command'}: ${commands}.

| epoch | how | training loss | held-out loss | held-out perplexity | hours (cumulative) |
|---|---|---|---|---|---|
${epochs.join('\n') || '| (none finished yet) | | | | | |'}
`;
}

export function writeResults(resultsDir, target, { size, settings, variants = VARIANTS, notes = NOTES }) {
  const results = readAll(resultsDir);
  const baseline = readAll(path.join(path.dirname(resultsDir), 'baseline-results'));
  const studies = Object.keys(TASK_TEXT).map(
    (task) => `### ${task}: ${TASK_TEXT[task]}

${table(results, baseline, task, Object.entries(variants), 'variant')}

${targets(results, baseline, task)}
`,
  );
  const ablations = Object.keys(TASK_TEXT).map(
    (task) => `### ${task}

${table(
  results,
  baseline,
  task,
  Object.keys(settings).map((name) => [name, name]),
)}

${curves(results, task, settings)}`,
  );
  const minutes = results.reduce((a, r) => a + r.seconds, 0) / 60;
  const text = `# Results: ULMFiT's classifier on two real tasks

Written by \`node replicate/ablate.js\` (and \`node replicate/report.js\`) from the study's result files; do
not edit by hand.

Validation error (%), mean ± standard deviation over seeds (100 and 500 labels: labels drawn with seeds
${SEEDS.join(', ')}; all labels: seed 1); size \`${size}\` (the demo's CPU model: 2 LSTM layers of 256 units, 96-wide
embeddings, a classifier reading each document's first 256 tokens), bf16 where the CPU has it. The language
models read the task's unlabelled training text, never a held-out document. TF-IDF + logistic regression
(\`replicate/tfidf_baseline.py\`): word 1-2 grams, with or without character 2-5 grams, and C, chosen by
3-fold cross-validation on the same labels; it reads every word of every document.

## The replication study

(a) full ULMFiT: general-domain LM -> fine-tuned on the task's text -> classifier; (b) an LM trained on the
task's text alone; (c) the general-domain LM straight to the classifier; (d) a classifier on an untrained
encoder. All at trainClassifier's defaults. In (a) and (c) the general-domain LM is a small one pretrained
per task (SpamAssassin, both forms: the State of the Union addresses; party: Moby-Dick and the SpamAssassin messages);
(a') and (c') start instead from the general LM shipped with ulmfit (\`models/general-lm\`: 26.5 M tokens of
general English, one epoch; its cost below).

${studies.join('\n')}
### The general-domain LM: what it cost

${generalLmCost(path.dirname(resultsDir))}
${notes}
## The ablation: each training choice flipped

The first rows change one choice away from \`baseline\`, the defaults when the study began (one pass over
the labelled set per epoch, clipping at 0.1); the \`min 50 steps + ...\` rows change one choice away from
\`min 50 steps\` (the defaults when they ran: 50 steps an epoch, clipping at 0.1).

${ablations.join('\n')}
## Settings
${Object.entries(settings)
  .map(([name, s]) => `- ${name}: ${s.why}.`)
  .join('\n')}

Classifier training time, all runs together: ${minutes.toFixed(1)} minutes on 2 CPU cores.
`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
}

// What the numbers say, written when they came in (the tables above are regenerated; this is not).
const NOTES = `## What the study found (written when the numbers came in)

- **The classifier underfit small labelled sets; that, not the hand-over, was the first fault.** With one pass
  over 100 labels per epoch, a stage of the paper's plan has 2 steps at batch 64: the training loss ended at
  0.66 (ln 2 = 0.69) and SpamAssassin's error at 26.45%. An epoch that passes over a small set until it has 50
  steps (\`minStepsPerEpoch\`, the default since) took it to 9.20% (500 labels, seed 1: 10.99% to 5.62%); more epochs
  or a smaller batch help for the same reason, less. The hand-over is pinned by tests
  (\`test/stages/handover.test.ts\`: the encoder's tensors, the token ids against the LM's vocabulary), and a
  linear probe on the frozen fine-tuned encoder beats an untrained one's on SpamAssassin (\`docs/PROBE.md\`:
  11.07% against 12.31% at 100 labels, 3.97% against 6.20% at 2,000).
- **With 50 steps an epoch, transfer pays on SpamAssassin at 100 labels** ((a) 9.20% against (d) 17.22%) and
  by less than the seeds' spread at 500. With all labels, (d) from scratch (2.56%) and (a) (2.73%) are
  level: the general-domain LM (0.25 M tokens of State of the Union addresses, a 96/256/2 model, one epoch)
  has little to give once labels are plentiful. The general corpus of \`replicate/general-corpus.js\`
  (26.5 M tokens) is the next step.
- **The party task is at chance at 100 labels for every variant** (the majority class is 48.4% error;
  TF-IDF reaches 45.5%). The classifier fits its 100 passages (training loss 0.002) while the validation
  loss rises from 1.26 to 3.3; and a linear probe on the fine-tuned LM's frozen features is at chance even
  with 2,000 labels (\`docs/PROBE.md\`: 48.4%), where TF-IDF + LR reaches 40% with 500: the small LM
  (held-out perplexity 117 on the passages) does not encode what tells the parties apart. That is a
  limit of the language model, not of the classifier's training. With 500 labels transfer pays ((a) 43.89%
  against (d) 48.87%, beyond the seeds' spread); with all 20,516, (a) 31.36% and (d) 30.23% are level and
  TF-IDF + LR (26.80%) is ahead of both: the same story as SpamAssassin's with all labels.
- **From the general LM of 26.5 M tokens ((a') and (c'), one epoch, held-out perplexity 53.8), general-domain
  pretraining still does not pay by the target's measure.** At 100 labels (a') is 10.63% on SpamAssassin
  against (b)'s 9.81% and 47.12% on the party task against 48.09% (a gap inside the seeds' deviation); at
  500, 6.31% against 5.87% and 42.84% against 43.94%. What it does change: the general LM straight to the
  classifier ((c') against (c)) gains 5.3 points on SpamAssassin at 100 labels and 2.6 on the party task,
  the party task's (a') is the best of the variants at 100 and 500 labels (2.4 points above TF-IDF at 500,
  where (a) was 3.5 above), and the demo (all labels) reaches 1.49% from it. With all labels (a') is
  3.72% on SpamAssassin (the study's 2 final epochs, clipping at 0.1; the demo's schedule, 10 final epochs
  unclipped, gives 1.49%) and 30.55% on the party task, level with (a), (b) and (d). The corpus is mostly
  dictionaries, scripture and manuals (docs/RESULTS.md's cost section; the manifest), one epoch of a
  96/256/2 model: far from WikiText-103's 103 M tokens of encyclopedic prose at 400/1152/3, which the
  paper's gains come from. A larger model and corpus need a GPU (the GPU issue).
- **On \`spam\` the models read mail headers, which no English corpus prepares for.** At the cpu size the
  language models read a message's first 800 characters and the classifier its first 256 tokens; the header
  block is longer than 800 characters in 95.3% of the messages (median 1,993 characters), so both read
  headers alone (the fine-tuned LMs' held-out perplexity on them: 1.9 to 2.3). \`spam-text\` is the same split
  with the headers dropped (each message's Subject line and body).
- **On \`spam-text\`, the LM trained on the task's text alone wins, and the general LM costs the classifier.**
  At 100 labels (b) is 8.76%, 4.5 points below TF-IDF (13.22%); (a') is 12.34%, behind (b) on every seed (by
  2.2 to 4.6 points, the same labels). The general weights make the better language model of the task's text
  (held-out perplexity 51.9 after (a')'s fine-tuning against (b)'s 60.8) but the worse encoder: a linear probe
  on the frozen encoders (\`docs/PROBE.md\`, 100 / 2,000 labels) gives (b) 5.62% / 3.31%, (a') 9.09% / 4.55%,
  an untrained one 18.02% / 7.19%. Most of the gap is the fine-tuning recipe (the frozen epoch, below):
  trained exactly as (b) trains (every group at the pretraining rate, one cycle, no frozen epoch; perplexity
  46.3), (a') reaches 10.17% (probe 6.61% / 3.55%), 1.4 points behind (b); with the frozen epoch alone
  replaced by a second full one, 9.61%, 0.85 behind. Some of it is the 6,432 of 15,000 task tokens the general vocabulary
  lacks (274 of the 2,000 most frequent: HTML, list names), which all start from the mean row (fastai's
  choice): started from random rows instead they gain 0.4 to 0.9 points on every seed (9.45%), still 0.7
  behind (b).
  At 500 labels (a') and (b) are level (3.75% and 3.58%; TF-IDF 2.92%). What remains at 100 labels after
  these controls, 0.7 to 0.85 points, is inside the seeds' deviation (0.9 to 1.7); one reading, not
  measured: a 96/256/2 encoder trained on the task's text alone spends its small hidden state on what varies
  in that text (HTML against plain mail), which is what tells spam from ham. The paper's gains came from a
  400/1152/3 model on 103 M tokens of encyclopedic prose; whether that size turns this around needs a GPU.
- **The party task: a gain on every seed, smaller than the label draw's spread.** (a') is below (b) by 1.04,
  1.12 and 0.74 points on seeds 1 to 3 (the same labels), a mean of 0.97 against the seeds' deviation of
  1.27, which is the spread between label draws. With the LM fine-tuned as (b) trains its own (every group
  at the pretraining rate, one cycle, no frozen epoch) (a') reaches 46.37%: 1.72 points below (b), more than
  either deviation (1.18, 1.07), and below it on every seed by 1.58 to 1.80, 0.85 from TF-IDF (45.52%). So on
  the party task general-domain pretraining pays by the target's measure with that LM schedule, not with
  (a')'s (ulmfit's fine-tuning default: fastai's frozen epoch on the embedding and decoder, then the
  paper's discriminative rates and STLR), which at one epoch adapts the LM less (perplexity on the passages
  79.4 against 76.6); on both text tasks (b)'s schedule beat (a')'s from the general LM (party 46.37% against 47.12%, spam-text 10.17% against 12.34%; on \`spam\`'s headers 10.14%
  against 10.63%, level with (b)'s 9.81%). The part that does it is the frozen epoch: with the paper's rates
  and STLR but both epochs training every group (no frozen epoch first), (a') reaches 9.61% on spam-text
  (perplexity 45.9) and 46.49% on the party task (below (b) on every seed, by 0.66 to 2.12; a mean gap of
  1.60 against that row's own deviation of 1.83), within 0.6 points of (b)'s schedule on both. At the cpu
  size's one-epoch budget, an epoch spent on the embedding and decoder alone is an epoch the LSTMs do not
  adapt to the task.
- **The second round, each choice flipped away from \`min 50 steps\` at 100 labels (3 seeds, both tasks):**
  AR/TAR in the classifier costs SpamAssassin 1.9 points (11.07% against 9.20%, every seed worse) and does
  nothing for the party task: it stays off. \`dropMult\` 1 costs 1.9 points: 0.5 stays. No clipping is level with clipping at 0.1 on both
  tasks (9.42% / 48.34% against 9.20% / 48.66%); the classifier's default is now no clipping, fastai's and
  in effect the paper's (25), because the hidden short-text task underfit with 0.1 and Adam's updates
  shrink under it (docs/fidelity.md). The variants above ran with clipping at 0.1 (the study pins it).
- **At 500 labels** (seed 1, both tasks) no second-round flip moves beyond the seeds' spread of \`min 50 steps\`
  itself: SpamAssassin 4.79-5.95% against its 5.62% on the same seed (its spread over 3 seeds: 0.63), the party
  task 42.92-44.61% against 43.69% (0.51). The defaults chosen at 100 labels stand at 500.
- In the first round (one pass per epoch), clipping, masks per chunk, \`dropMult\` and the LM fine-tuning
  rates moved nothing beyond the seeds' spread; lr 0.03 and fastai's plan were worse.
`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  writeResults(path.join(root, 'replicate', 'ablation-results'), path.join(root, 'docs', 'RESULTS.md'), {
    size: process.argv[2] ?? 'cpu',
    settings: SETTINGS,
  });
}
