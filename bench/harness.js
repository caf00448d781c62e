// The model benchmarks' harness: each cell runs ulmfit and the plain PyTorch reference in their own
// processes (so peak RSS is each side's own), interleaved in rounds, alternating which side goes first so
// that drift in machine speed hits both; medians and their ratio.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { discover } from '../scripts/libtorch.js';

// The reference imports torch from the LibTorch ulmfit uses (a pip-installed torch package), so both sides
// run the same kernels; null where python3 cannot import it.
export function pythonEnv() {
  const root = discover().root;
  const site = path.dirname(root);
  const env = { ...process.env, PYTHONPATH: [site, process.env.PYTHONPATH].filter(Boolean).join(':') };
  const ok = spawnSync('python3', ['-c', 'import torch'], { env }).status === 0;
  return ok ? env : null;
}

function runSide(command, args, env) {
  const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0)
    throw new Error(`${path.basename(args[0])} failed (${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * Runs one cell: `ours` (a node script) and `reference` (a python script) each get the cell as JSON and print
 * one JSON line holding `metric`. Returns the medians, their ratio and each side's peak RSS.
 */
export function runCell({ cell, ours, reference, env, rounds, metric }) {
  const oursRuns = [];
  const refRuns = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? ['ours', 'ref'] : ['ref', 'ours'];
    for (const side of order) {
      if (side === 'ours') oursRuns.push(runSide(process.execPath, [ours, JSON.stringify(cell)], process.env));
      else if (env) refRuns.push(runSide('python3', [reference, JSON.stringify(cell)], env));
    }
  }
  const oursValue = median(oursRuns.map((r) => r[metric]));
  const refValue = refRuns.length ? median(refRuns.map((r) => r[metric])) : null;
  return {
    ours: oursValue,
    reference: refValue,
    ratio: refValue ? oursValue / refValue : null,
    peakRssMB: {
      ours: Math.max(...oursRuns.map((r) => r.peakRssMB)),
      reference: refRuns.length ? Math.max(...refRuns.map((r) => r.peakRssMB)) : null,
    },
    // GPU memory the reference's allocator held at its peak (ulmfit's is not measured from JS).
    peakDeviceMB: { reference: refRuns.length && refRuns[0].peakDeviceMB != null ? Math.max(...refRuns.map((r) => r.peakDeviceMB)) : null },
  };
}

export const fmt = (x, d = 0) => (x === null || x === undefined ? '-' : x.toFixed(d));
