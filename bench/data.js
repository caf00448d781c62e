// The data-pipeline benchmark: `npm run bench -- data [--json] [--rounds 3] [--tokens 100000000]
// [--threads N] [--memory-tokens N] [--skip-tokenize] [--skip-stream] [--keep-file]`.
//  1. Tokenization + numericalization of the real SOTU corpus (no repetition: repeated text flatters the
//     tokenizer's cache), on one thread and on every core (the calling thread and worker threads); and the reference, fastai's
//     rules with spaCy in Python (test/golden/tokenizer_golden.py's), when python3 can import spacy
//     (ULMFIT_TEST_PYTHONPATH or PYTHONPATH).
//  2. A corpus of about --tokens tokens (the real paragraphs of SOTU, Moby-Dick and SpamAssassin, repeated
//     until it is that long) turned from a text file into an LM stream: time and peak RSS; then an epoch's
//     reshuffle of it. --memory-tokens below the corpus size makes the stream spill to a mapped file.
// Each measurement runs in its own process; medians over rounds.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { encodeCorpus } from '../dist/index.js';
import { paragraphs } from './corpora.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    rounds: { type: 'string', default: '3' },
    tokens: { type: 'string', default: '100000000' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    'skip-tokenize': { type: 'boolean', default: false },
    'skip-stream': { type: 'boolean', default: false },
    'memory-tokens': { type: 'string' },
    'keep-file': { type: 'boolean', default: false },
  },
});

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rows = [];
const emit = (row) => {
  rows.push(row);
  if (values.json) console.log(JSON.stringify(row));
};

function run(command, args, env = process.env) {
  const r = spawnSync(command, args, { env, encoding: 'utf8', maxBuffer: 1 << 24 });
  if (r.status !== 0)
    throw new Error(`${path.basename(args[0])} failed (${r.status}): ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

function pythonEnv() {
  const extra = process.env.ULMFIT_TEST_PYTHONPATH;
  const env = { ...process.env, PYTHONPATH: [extra, process.env.PYTHONPATH].filter(Boolean).join(':') };
  return spawnSync('python3', ['-c', 'import spacy'], { env }).status === 0 ? env : null;
}

// 1. Tokenization.
const all = Number(values.threads);
const modes = [{ label: '1 thread', threads: 1 }, ...(all > 1 ? [{ label: `${all} threads`, threads: all }] : [])];
const py = values['skip-tokenize'] ? null : pythonEnv();
if (!py && !values['skip-tokenize'] && !values.json)
  console.error('bench: python3 cannot import spacy (set ULMFIT_TEST_PYTHONPATH): no reference column');
const runs = new Map(modes.map((m) => [m.label, []]));
const refRuns = [];
for (let round = 0; round < (values['skip-tokenize'] ? 0 : Number(values.rounds)); round++) {
  for (const m of modes)
    runs.get(m.label).push(run(process.execPath, [path.join(here, 'data-tokenize.js'), JSON.stringify({ threads: m.threads })]));
  if (py) refRuns.push(run('python3', [path.join(here, 'reference', 'tokenize_reference.py')], py));
}
const reference = refRuns.length ? median(refRuns.map((r) => r.tokensPerSecond)) : null;
const single = values['skip-tokenize'] ? null : median(runs.get('1 thread').map((r) => r.tokensPerSecond));
for (const m of values['skip-tokenize'] ? [] : modes) {
  const r = runs.get(m.label);
  const tps = median(r.map((x) => x.tokensPerSecond));
  emit({
    bench: 'data.tokenize',
    corpus: 'sotu',
    mode: m.label,
    threads: m.threads,
    tokens: r[0].tokens,
    ours: tps,
    unit: 'tokens/s',
    reference,
    ratio: reference ? tps / reference : null,
    vsOneThread: tps / single,
    peakRssMB: Math.max(...r.map((x) => x.peakRssMB)),
  });
}

// 2. The corpus-scale stream.
if (!values['skip-stream']) {
  const target = Number(values.tokens);
  const paras = paragraphs();
  const sample = paras.slice(0, 4000);
  const { summary } = await encodeCorpus(
    sample.map((text) => ({ text })),
    { threads: 1 },
  );
  const charsPerToken = sample.reduce((n, p) => n + p.length + 1, 0) / summary.tokens;
  const file = path.join(os.tmpdir(), `ulmfit-bench-corpus-${process.pid}.txt`);
  const fd = fs.openSync(file, 'w');
  try {
    const targetChars = target * charsPerToken;
    let chars = 0;
    let pass = 0;
    while (chars < targetChars) {
      for (const p of paras) {
        // A pass number on repeated paragraphs keeps the copies from being byte-identical lines.
        const line = pass ? `${p} (${pass})\n` : `${p}\n`;
        fs.writeSync(fd, line);
        chars += line.length;
        if (chars >= targetChars) break;
      }
      pass++;
    }
    fs.closeSync(fd);
    const bytes = fs.statSync(file).size;
    for (const threads of modes.map((m) => m.threads)) {
      const r = run(process.execPath, [
        path.join(here, 'data-stream.js'),
        JSON.stringify({
          file,
          threads,
          bs: 64,
          seqLen: 72,
          memoryTokens: values['memory-tokens'] ? Number(values['memory-tokens']) : undefined,
        }),
      ]);
      emit({ bench: 'data.stream', fileMB: bytes / 2 ** 20, ...r });
    }
  } finally {
    if (!values['keep-file']) fs.rmSync(file, { force: true });
  }
}

if (!values.json) {
  const fmt = (x, d = 0) => (x === null || x === undefined ? '-' : x.toFixed(d));
  if (!values['skip-tokenize']) {
    console.log('tokenization + numericalization, real SOTU text (one pass, no repetition)');
    console.log('mode           tokens     tokens/s  vs 1 thread  reference tok/s  ratio  peak RSS MB');
    for (const r of rows.filter((x) => x.bench === 'data.tokenize')) {
      console.log(
        [
          r.mode.padEnd(12),
          String(r.tokens).padStart(9),
          fmt(r.ours).padStart(11),
          fmt(r.vsOneThread, 2).padStart(11),
          fmt(r.reference).padStart(15),
          fmt(r.ratio, 1).padStart(6),
          fmt(r.peakRssMB).padStart(11),
        ].join('  '),
      );
    }
    console.log(`(reference: fastai's rules and spacy.blank('en') in Python, one process; ${values.rounds} rounds, medians)`);
  }
  const streams = rows.filter((x) => x.bench === 'data.stream');
  if (streams.length) {
    const s = streams[0];
    console.log(`\nLM stream from a ${fmt(s.fileMB)} MB text file (one paragraph per line):`);
    console.log(
      `  ${s.tokens} tokens, ${s.documents} documents, vocabulary ${s.vocabulary} (of ${s.distinctTokens} distinct), ${s.backing}`,
    );
    console.log('  threads  text -> stream s  tokens/s  vs 1 thread  peak RSS MB  reshuffle ms  batches/s (64 x 72)');
    for (const r of streams) {
      console.log(
        [
          String(r.threads).padStart(9),
          fmt(r.buildSeconds, 1).padStart(16),
          fmt(r.tokensPerSecond).padStart(9),
          fmt(r.tokensPerSecond / s.tokensPerSecond, 2).padStart(12),
          fmt(r.buildPeakRssMB).padStart(12),
          fmt(r.reshuffleSeconds * 1000, 1).padStart(13),
          fmt(r.batchesPerSecond).padStart(20),
        ].join(''),
      );
    }
    console.log("  (reshuffle: a new epoch's document order, its prefix sums, the row cursors and the first batch)");
    console.log(`  saveTokenStore: ${fmt(s.saveSeconds, 1)} s; openTokenStore with checksums: ${fmt(s.openSeconds, 1)} s`);
  }
}
