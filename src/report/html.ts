// report.html: one self-contained page per run (inline CSS and SVG, no scripts, nothing fetched when it is
// viewed): a summary per stage, then each stage's loss curves (training per step, validation per epoch),
// every layer group's learning rate and the momentum over steps, the LR finder's curve when it ran, the
// classifier's confusion matrix, and the run's config and environment.
import type { RunRecord, StageRecord, StepRecord } from './run-record.js';
import { confusionChart, escapeXml, lineChart, type Series } from './svg.js';

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1340px; color: #222; padding: 0 16px; }
h1 { font-size: 22px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: 8px 0; } td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: right; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
.plots { display: flex; flex-wrap: wrap; gap: 12px; }
svg { background: #fff; border: 1px solid #eee; font-size: 11px; }
svg .title { font-size: 13px; font-weight: 600; } svg .grid { stroke: #eee; } svg .frame { fill: none; stroke: #999; }
pre { background: #f7f7f7; padding: 8px; overflow: auto; max-height: 360px; }
`;

function fmt(v: unknown, digits = 4): string {
  if (typeof v !== 'number') return v === null || v === undefined ? '–' : escapeXml(String(v));
  if (!Number.isFinite(v)) return String(v);
  return Math.abs(v) >= 1000 ? v.toFixed(0) : Number(v.toPrecision(digits)).toString();
}

// The headline validation metric of a stage: error rate for a classifier, perplexity for a language model.
function headline(s: StageRecord, valid: Record<string, unknown> | null | undefined): string {
  if (!valid) return '–';
  return s.kind === 'classifier' ? `${fmt((valid.errorRate as number) * 100, 3)}% error` : `perplexity ${fmt(valid.perplexity)}`;
}

function summary(record: RunRecord): string {
  const rows = record.stages.map((s) => {
    const tokens = s.steps.reduce((a, t) => a + t.tokens, 0);
    const seconds = s.steps.reduce((a, t) => a + t.seconds, 0);
    const last = s.epochs.at(-1)?.valid;
    return `<tr><td>${escapeXml(s.name)} (${s.direction})</td><td>${s.epochs.length}</td><td>${s.steps.length}</td><td>${fmt(seconds, 3)} s</td><td>${fmt(seconds ? tokens / seconds : NaN, 3)}</td><td>${headline(s, s.initialValid)}</td><td>${headline(s, last)}</td><td>${fmt(last?.loss)}</td></tr>`;
  });
  return `<table><tr><th>stage</th><th>epochs</th><th>steps</th><th>training time</th><th>tokens/s</th><th>validation before</th><th>validation after</th><th>validation loss</th></tr>${rows.join('')}</table>`;
}

// Training loss per step (a moving average over ~2% of the steps beside the raw values), validation per epoch.
function lossChart(s: StageRecord): string {
  const raw = s.steps.map((t, i) => [i + 1, t.skipped ? NaN : t.loss] as const);
  const window = Math.max(1, Math.round(s.steps.length / 50));
  const smooth = raw.map(([x], i) => {
    const slice = raw
      .slice(Math.max(0, i - window + 1), i + 1)
      .map(([, y]) => y)
      .filter(Number.isFinite);
    return [x, slice.length ? slice.reduce((a, b) => a + b, 0) / slice.length : NaN] as const;
  });
  const valid: [number, number][] = [];
  if (s.initialValid && typeof s.initialValid.loss === 'number') valid.push([0, s.initialValid.loss]);
  for (const e of s.epochs) if (e.valid && typeof e.valid.loss === 'number') valid.push([e.atStep, e.valid.loss]);
  const series: Series[] = [
    { name: 'training (per step)', points: raw },
    { name: `training (mean of ${window})`, points: smooth },
    { name: 'validation (per epoch)', points: valid, dashed: true, dots: true },
  ];
  return lineChart(series, { title: `${s.name} (${s.direction}): loss`, xLabel: 'step', yLabel: 'cross-entropy' });
}

function lrChart(s: StageRecord): string {
  const groups = s.groupNames.length ? s.groupNames : (s.steps[0]?.lrs ?? []).map((_, g) => `group ${g}`);
  const series = groups.map((name, g) => ({ name, points: s.steps.map((t, i) => [i + 1, t.lrs[g] ?? NaN] as const) }));
  return lineChart(series, {
    title: `${s.name} (${s.direction}): learning rate per layer group`,
    xLabel: 'step',
    yLabel: 'lr (log)',
    logY: true,
  });
}

function momentumChart(s: StageRecord): string {
  // A run.json written before the momentum term had its own name calls it beta1.
  const momentum = (t: StepRecord) => t.momentum ?? (t as { beta1?: number }).beta1 ?? NaN;
  return lineChart([{ name: 'momentum', points: s.steps.map((t, i) => [i + 1, momentum(t)] as const) }], {
    title: `${s.name} (${s.direction}): momentum (Adam's beta1, SGD's momentum)`,
    xLabel: 'step',
    yLabel: 'momentum',
  });
}

function lrFinderChart(s: StageRecord): string {
  const f = s.lrFinder!;
  return lineChart(
    [
      { name: 'loss', points: f.lrs.map((lr, i) => [lr, f.losses[i]!] as const) },
      { name: 'smoothed', points: f.lrs.map((lr, i) => [lr, f.smoothed[i]!] as const) },
      {
        name: `valley ${fmt(f.suggestions.valley, 2)}, steepest ${fmt(f.suggestions.steepest, 2)}`,
        points: [[f.suggestions.valley, f.smoothed[f.lrs.indexOf(f.suggestions.valley)] ?? NaN]],
        dots: true,
      },
    ],
    { title: `${s.name} (${s.direction}): learning-rate finder`, xLabel: 'learning rate (log)', yLabel: 'loss', logX: true },
  );
}

function stageSection(s: StageRecord): string {
  const plots = [lossChart(s), lrChart(s), momentumChart(s)];
  if (s.lrFinder) plots.push(lrFinderChart(s));
  const confusion = s.epochs.at(-1)?.valid?.confusion as number[][] | undefined;
  if (s.kind === 'classifier' && confusion && s.classes)
    plots.push(confusionChart(confusion, s.classes, `${s.name} (${s.direction}): validation confusion`));
  const epochs = s.epochs
    .map(
      (e) =>
        `<tr><td>${e.epoch}</td><td>${e.stage}</td><td>${fmt(e.trainLoss)}</td><td>${fmt(e.valid?.loss)}</td><td>${headline(s, e.valid)}</td><td>${fmt(e.valid?.accuracy)}</td></tr>`,
    )
    .join('');
  return `<h2>${escapeXml(s.name)} (${s.direction})</h2>
<table><tr><th>epoch</th><th>stage</th><th>training loss</th><th>validation loss</th><th>validation</th><th>accuracy</th></tr>${epochs}</table>
<div class="plots">${plots.join('\n')}</div>`;
}

/** The whole page. */
export function renderReport(record: RunRecord): string {
  const ended = record.finishedAt ? ` – ${escapeXml(record.finishedAt)}` : ' (unfinished)';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(record.title)}</title><style>${STYLE}</style></head>
<body>
<h1>${escapeXml(record.title)}</h1>
<p>${escapeXml(record.startedAt)}${ended}</p>
${record.notes.map((n) => `<p>${escapeXml(n)}</p>`).join('\n')}
${summary(record)}
${record.stages.map(stageSection).join('\n')}
<h2>Configuration</h2><pre>${escapeXml(JSON.stringify(record.config, null, 2))}</pre>
<h2>Environment</h2><pre>${escapeXml(JSON.stringify(record.environment, null, 2))}</pre>
</body></html>
`;
}
