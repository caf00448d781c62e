// docs/ABLATION.md from the ablation's result files (replicate/ablate.js, in replicate/ablation-results/)
// and the TF-IDF baseline's (replicate/tfidf_baseline.py, in replicate/baseline-results/): per task,
// validation error for each setting and label count, mean ± standard deviation over seeds. Written by the
// study, never by hand.
//   node replicate/ablation-report.js      rewrites docs/ABLATION.md from the committed result files
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { SETTINGS } from './ablation-settings.js';
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
  spam: 'SpamAssassin, the demo\'s split (4,836 training / 1,210 held-out messages, ham or spam)',
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
    return [`| ${name} | ${mean('trainLoss')} | ${mean('validLoss')} | ${pct(best.reduce((a, b) => a + b, 0) / best.length)} | ${runs[0].epochs.length} |`];
  });
  if (!rows.length) return '';
  return `At ${labels} labels, the last epoch's mean training and validation loss, and the best validation error of any epoch:\n\n` +
    `| setting | training loss | validation loss | best epoch's error | epochs |\n|---|---|---|---|---|\n${rows.join('\n')}\n`;
}

export function writeAblation(resultsDir, target, { size, settings }) {
  const results = readAll(resultsDir);
  const baseline = readAll(path.join(path.dirname(resultsDir), 'baseline-results'));
  const header = `| setting | ${LABEL_COUNTS.map((c) => `${c} labels`).join(' | ')} |\n|---|${LABEL_COUNTS.map(() => '---').join('|')}|`;
  const sections = Object.keys(TASK_TEXT).map((task) => {
    const rows = Object.keys(settings).map((name) => {
      const cells = LABEL_COUNTS.map((c) => cellText(results.filter((r) => r.task === task && r.setting === name && String(r.labels) === String(c)), c));
      return `| ${name} | ${cells.join(' | ')} |`;
    });
    const tfidf = LABEL_COUNTS.map((c) => cellText(baseline.filter((r) => r.task === task && String(r.labels) === String(c)), c));
    return `## ${task}: ${TASK_TEXT[task]}\n\n${header}\n${rows.join('\n')}\n| TF-IDF + logistic regression | ${tfidf.join(' | ')} |\n\n${curves(results, task, settings)}`;
  });
  const minutes = results.reduce((a, r) => a + r.seconds, 0) / 60;
  const text = `# Ablation: what the classifier's training choices do

Written by \`node replicate/ablate.js\` from its own result files; do not edit by hand.

Validation error (%), mean ± standard deviation over seeds (100 and 500 labels: labels drawn with seeds
${SEEDS.join(', ')}); size \`${size}\` (the demo's CPU model), bf16 where the CPU has it. Each setting changes one choice
away from the baseline (see Settings); the language models read the task's unlabelled training text
(never a held-out document). TF-IDF: word 1-2 grams and character 2-5 grams, logistic regression with C
chosen by 3-fold cross-validation on the same labels (\`replicate/tfidf_baseline.py\`).

${sections.join('\n')}
## Settings
${Object.entries(settings).map(([name, s]) => `- ${name}: ${s.why}.`).join('\n')}

Classifier training time, all runs together: ${minutes.toFixed(1)} minutes.
`;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.writeFileSync(target, text);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
  writeAblation(path.join(root, 'replicate', 'ablation-results'), path.join(root, 'docs', 'ABLATION.md'), { size: process.argv[2] ?? 'cpu', settings: SETTINGS });
}
