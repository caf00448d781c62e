// The table bench/gpu.sh prints last, from what its steps left in the output folder:
//   node bench/gpu-summary.js DIR
// info.json (versions, GPU), cuda-report.json (the CUDA tests' relative errors), results.jsonl (benchmark
// rows), profile.json (where the reference step's device time goes), demo.log (the end-to-end run).
import fs from 'node:fs';
import path from 'node:path';

import { fmt } from './harness.js';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node bench/gpu-summary.js DIR');
  process.exit(2);
}
const read = (name) => {
  try {
    return fs.readFileSync(path.join(dir, name), 'utf8');
  } catch {
    return null;
  }
};
const json = (name) => {
  const text = read(name);
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
};
const lines = [];
const say = (line = '') => lines.push(line);

const info = json('info.json');
if (info) {
  say(
    `LibTorch ${info.libtorch.version} (${info.libtorch.variant}), CUDA runtime ${info.cuda.runtime ?? '-'}, cuDNN ${info.cuda.cudnn ?? '-'}, ` +
      `${info.cuda.deviceCount} GPU(s), node ${info.node}`,
  );
}

const report = json('cuda-report.json');
if (report) {
  for (const kind of ['fp32', 'bf16']) {
    const rows = report.filter((r) => r.check.startsWith(`${kind} `));
    if (!rows.length) continue;
    const worst = rows.reduce((a, b) => (b.relativeError / b.tolerance > a.relativeError / a.tolerance ? b : a));
    const over = rows.filter((r) => !(r.relativeError <= r.tolerance)).length;
    say(
      `CUDA tests, ${kind}: ${rows.length} comparisons, ${over} over tolerance; worst ${worst.relativeError.toExponential(2)} ` +
        `(tolerance ${worst.tolerance}) at ${worst.check.slice(kind.length + 1)}`,
    );
  }
}

const results = (read('results.jsonl') ?? '')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l));
if (results.length) {
  say();
  say('bench  mode   size                     precision  ours          reference     ratio  ref GPU MB');
  for (const r of results) {
    const chunk = r.config.lossChunkRows ? ` chunk ${r.config.lossChunkRows}` : '';
    const size = r.bench === 'lm' ? `bs ${r.config.bs} seq ${r.config.seq}${chunk}` : `bs ${r.config.bs} doc ${r.config.docLen}`;
    const mode = r.bench === 'lm' ? 'train' : r.config.mode;
    const digits = r.unit === 'docs/s' ? 1 : 0;
    say(
      [
        r.bench.padEnd(5),
        mode.padEnd(5),
        size.padEnd(24),
        r.precision.padEnd(9),
        `${fmt(r.ours, digits)} ${r.unit}`.padStart(13),
        `${fmt(r.reference, digits)}`.padStart(13),
        fmt(r.ratio, 2).padStart(6),
        fmt(r.peakDeviceMB?.reference).padStart(11),
      ].join('  '),
    );
  }
  const lm64 = results.find((r) => r.bench === 'lm' && r.config.bs === 64 && r.precision === 'bf16' && !r.config.lossChunkRows);
  if (lm64) {
    say(
      `LM bf16 bs 64: ${fmt(lm64.ours)} tokens/s: one WikiText-103 epoch (103 M tokens) in ${fmt(103e6 / lm64.ours / 60, 1)} min on one GPU` +
        ` (targets: >= 150,000 tokens/s, >= 1.5x the reference: ${fmt(lm64.ratio, 2)}x)`,
    );
  }
}

const profile = json('profile.json');
if (profile?.step) {
  say();
  const wall = profile.step.wallMsPerStep ? `${fmt(profile.step.wallMsPerStep, 1)} ms wall, ` : '';
  say(
    `reference step (${profile.gpu}, torch ${profile.torch}): ${wall}${fmt(profile.step.deviceMsPerStep, 1)} ms of kernel time (torch.profiler)`,
  );
  for (const k of profile.step.top.slice(0, 8))
    say(`  ${fmt(k.ms, 2).padStart(7)} ms  x${String(k.calls).padEnd(4)} ${k.name.slice(0, 90)}`);
  if (profile.lstmForwardBackwardMs) {
    say(
      `3-layer LSTM forward+backward (ms): ${Object.entries(profile.lstmForwardBackwardMs)
        .map(([k, v]) => `${k} ${fmt(v, 2)}`)
        .join(', ')}; ` + `cuDNN takes bf16: ${profile.cudnnTakesBf16}`,
    );
  }
}

const demo = read('demo.log');
if (demo) {
  say();
  const stages = demo.split('\n').filter((l) => /language model: \d+ s|validation error|^time:|tok\/s$/.test(l));
  const lastRate = new Map();
  for (const l of stages) {
    const m = /^(\w+)[^:]*:.* (\d+) tok\/s$/.exec(l);
    if (m) lastRate.set(m[1], m[2]);
  }
  say(`demo: ${stages.filter((l) => !/tok\/s$/.test(l)).join('; ')}`);
  if (lastRate.size) say(`demo tokens/s per stage: ${[...lastRate].map(([s, r]) => `${s} ${r}`).join(', ')}`);
}

console.log(lines.join('\n'));
