// The classifier benchmark: training steps and inference (documents/s) of the paper-size classifier on
// documents of about 250 and 2,000 tokens, ulmfit against the plain PyTorch reference of the same
// classifier (bench/reference/clas_reference.py), on the LM benchmark's harness: a table, or with --json
// one JSON object per line. The last column compares with the fp32 reference of the same cell (the bf16 target).
//   npm run bench -- clas [--json] [--mode train,infer] [--docLen 250,2000] [--precision fp32,bf16] [--rounds 1]
//                         [--warmup 1] [--steps 2] [--bs 32] [--vocab 10000] [--threads N] [--device cpu|cuda]
//                         [--emb 400] [--hidden 1152] [--layers 3]
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { fmt, pythonEnv, runCell } from './harness.js';

const here = path.dirname(fileURLToPath(import.meta.url));

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    mode: { type: 'string', default: 'train,infer' },
    docLen: { type: 'string', default: '250,2000' },
    precision: { type: 'string', default: 'fp32,bf16' },
    rounds: { type: 'string', default: '1' },
    warmup: { type: 'string', default: '1' },
    steps: { type: 'string', default: '2' },
    bs: { type: 'string', default: '32' },
    vocab: { type: 'string', default: '10000' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    device: { type: 'string', default: 'cpu' },
    emb: { type: 'string', default: '400' },
    hidden: { type: 'string', default: '1152' },
    layers: { type: 'string', default: '3' },
  },
});

const ours = path.join(here, 'clas-ours.js');
const reference = path.join(here, 'reference', 'clas_reference.py');
const env = pythonEnv();
if (!env && !values.json) console.error('bench: python3 cannot import torch from the LibTorch in use; reference columns stay empty');

const rows = [];
for (const mode of values.mode.split(',')) {
  for (const docLen of values.docLen.split(',').map(Number)) {
    let fp32Reference = null;
    for (const precision of values.precision.split(',')) {
      const cell = {
        mode,
        docLen,
        precision,
        bs: Number(values.bs),
        vocab: Number(values.vocab),
        emb: Number(values.emb),
        hidden: Number(values.hidden),
        layers: Number(values.layers),
        seqLen: 72,
        maxLen: 1440,
        warmup: Number(values.warmup),
        steps: Number(values.steps),
        threads: Number(values.threads),
        device: values.device,
      };
      const result = runCell({ cell, ours, reference, env, rounds: Number(values.rounds), metric: 'docsPerSecond' });
      if (precision === 'fp32') fp32Reference = result.reference;
      const row = {
        bench: 'clas',
        config: {
          mode,
          docLen,
          bs: cell.bs,
          vocab: cell.vocab,
          emb: cell.emb,
          hidden: cell.hidden,
          layers: cell.layers,
          seqLen: 72,
          maxLen: 1440,
          threads: cell.threads,
        },
        precision,
        device: cell.device,
        unit: 'docs/s',
        ...result,
        vsFp32Reference: fp32Reference ? result.ours / fp32Reference : null,
      };
      rows.push(row);
      if (values.json) console.log(JSON.stringify(row));
    }
  }
}

if (!values.json) {
  console.log('bench  device  mode   docLen  bs  precision  ours docs/s  reference docs/s  ratio  vs fp32 ref  ours RSS MB  ref RSS MB');
  for (const r of rows) {
    console.log(
      [
        r.bench.padEnd(5),
        r.device.padEnd(6),
        r.config.mode.padEnd(5),
        String(r.config.docLen).padStart(6),
        String(r.config.bs).padStart(3),
        r.precision.padEnd(9),
        fmt(r.ours, 2).padStart(11),
        fmt(r.reference, 2).padStart(16),
        fmt(r.ratio, 2).padStart(6),
        fmt(r.vsFp32Reference, 2).padStart(11),
        fmt(r.peakRssMB.ours).padStart(12),
        fmt(r.peakRssMB.reference).padStart(11),
      ].join('  '),
    );
  }
  console.log(
    `(${values.rounds} interleaved round(s) of ${values.warmup} warm-up + ${values.steps} timed steps per side; medians; ${rows[0]?.config.threads} threads)`,
  );
}
