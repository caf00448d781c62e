// The LM training-step benchmark. Each cell runs ulmfit and the plain PyTorch reference in their own
// processes, interleaved (rounds), and reports medians and their ratio: a table for people, or with --json
// one JSON object per line.
//   npm run bench -- lm [--json] [--vocab 10000,60000] [--precision fp32,bf16] [--rounds 3] [--warmup 2]
//                       [--steps 5] [--bs 64] [--seq 70] [--threads N] [--device cpu|cuda] [--chunk ROWS]
//                       [--emb 400] [--hidden 1152] [--layers 3]
// --bs takes a list (64,256); --chunk is ulmfit's lossChunkRows (0: its default).
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { fmt, pythonEnv, runCell } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    vocab: { type: 'string', default: '10000,60000' },
    precision: { type: 'string', default: 'fp32,bf16' },
    rounds: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '2' },
    steps: { type: 'string', default: '5' },
    bs: { type: 'string', default: '64' },
    seq: { type: 'string', default: '70' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    device: { type: 'string', default: 'cpu' },
    chunk: { type: 'string', default: '0' },
    emb: { type: 'string', default: '400' },
    hidden: { type: 'string', default: '1152' },
    layers: { type: 'string', default: '3' },
  },
});

const name = 'lm';

function lmCells() {
  const cells = [];
  for (const bs of values.bs.split(',').map(Number)) {
    for (const vocab of values.vocab.split(',').map(Number)) {
      for (const precision of values.precision.split(',')) {
        cells.push({
          vocab,
          precision,
          bs,
          seq: Number(values.seq),
          emb: Number(values.emb),
          hidden: Number(values.hidden),
          layers: Number(values.layers),
          warmup: Number(values.warmup),
          steps: Number(values.steps),
          threads: Number(values.threads),
          device: values.device,
          lossChunkRows: Number(values.chunk),
        });
      }
    }
  }
  return { cells, ours: path.join(here, 'lm-ours.js'), reference: path.join(here, 'reference', 'lm_reference.py') };
}

const { cells, ours, reference } = lmCells();
const env = pythonEnv();
if (!env && !values.json) console.error('bench: python3 cannot import torch from the LibTorch in use; reference columns stay empty');
const rows = [];
for (const cell of cells) {
  const result = runCell({ cell, ours, reference, env, rounds: Number(values.rounds), metric: 'tokensPerSecond' });
  const row = {
    bench: name,
    config: {
      vocab: cell.vocab,
      bs: cell.bs,
      seq: cell.seq,
      emb: cell.emb,
      hidden: cell.hidden,
      layers: cell.layers,
      threads: cell.threads,
      lossChunkRows: cell.lossChunkRows,
    },
    precision: cell.precision,
    device: cell.device,
    unit: 'tokens/s',
    ...result,
  };
  rows.push(row);
  if (values.json) console.log(JSON.stringify(row));
}

if (!values.json) {
  console.log('bench  device  vocab   bs  seq  precision  ours tok/s  reference tok/s  ratio  ours RSS MB  ref RSS MB');
  for (const r of rows) {
    console.log(
      [
        r.bench.padEnd(5),
        r.device.padEnd(6),
        String(r.config.vocab).padEnd(6),
        String(r.config.bs).padStart(3),
        String(r.config.seq).padStart(4),
        r.precision.padEnd(9),
        fmt(r.ours).padStart(10),
        fmt(r.reference).padStart(16),
        fmt(r.ratio, 2).padStart(6),
        fmt(r.peakRssMB.ours).padStart(12),
        fmt(r.peakRssMB.reference).padStart(11),
      ].join('  '),
    );
  }
  console.log(
    `(${values.rounds} interleaved rounds of ${values.warmup} warm-up + ${values.steps} timed steps per side; medians; ${cells[0]?.threads} threads)`,
  );
}
