// Memory soak: trains a small language model (CPU, fp32) for many steps on random tokens, with save / dispose /
// load cycles spread evenly through the run (each continues training on the loaded model, optimizer state
// included), and samples RSS as it goes. Fails (exit 1) when the end RSS is more than --tolerance above RSS at
// the reference step (default: after the first 10% of steps, once allocator pools and caches have warmed up).
//   node bench/soak.js [--steps 5000] [--cycles 50] [--sample-every 100] [--reference-step N] [--tolerance 0.05]
//                      [--malloc-arena-max 2|off] [--threads N] [--json]
// glibc gives each thread that allocates its own malloc arena (up to 8 per core), and LibTorch's intra-op
// pool plus libuv's workers touch many of them, so RSS creeps up from fragmentation alone. The variable is
// read when the process starts, so the script re-runs itself with MALLOC_ARENA_MAX set (default 2; "off"
// runs with it unset) and prints the value in effect.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import vm from 'node:vm';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '5000' },
    cycles: { type: 'string', default: '50' },
    'sample-every': { type: 'string', default: '100' },
    'reference-step': { type: 'string' },
    tolerance: { type: 'string', default: '0.05' },
    'malloc-arena-max': { type: 'string', default: '2' },
    threads: { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});

// MALLOC_ARENA_MAX only counts from process start: re-run this script with the environment asked for.
const arenaWanted = values['malloc-arena-max'] === 'off' ? undefined : values['malloc-arena-max'];
if (process.env.SOAK_CHILD !== '1' && process.env.MALLOC_ARENA_MAX !== arenaWanted) {
  const env = { ...process.env, SOAK_CHILD: '1' };
  if (arenaWanted === undefined) delete env.MALLOC_ARENA_MAX;
  else env.MALLOC_ARENA_MAX = arenaWanted;
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    env,
    stdio: 'inherit',
  });
  process.exit(child.status ?? 1);
}

const { LanguageModel, setNumThreads, getNumThreads, setSeed } = await import('../dist/index.js');

const steps = Number(values.steps);
const cycles = Number(values.cycles);
const sampleEvery = Number(values['sample-every']);
const tolerance = Number(values.tolerance);
const referenceStep =
  values['reference-step'] !== undefined
    ? Number(values['reference-step'])
    : Math.max(sampleEvery, Math.round((steps * 0.1) / sampleEvery) * sampleEvery);
if (
  ![steps, sampleEvery, referenceStep].every((n) => Number.isInteger(n) && n > 0) ||
  !Number.isInteger(cycles) ||
  cycles < 0 ||
  cycles > steps
) {
  console.error('soak: --steps, --sample-every, --reference-step must be positive integers and --cycles an integer in 0..steps');
  process.exit(2);
}
if (referenceStep % sampleEvery !== 0 || referenceStep >= steps) {
  console.error(`soak: --reference-step ${referenceStep} must be a multiple of --sample-every ${sampleEvery} and below --steps ${steps}`);
  process.exit(2);
}
if (values.threads !== undefined) setNumThreads(Number(values.threads));
setSeed(0);

// A full collection before each sample, so that RSS does not swing with when V8 last collected (garbage the
// loop drops, such as the save's and load's buffers, is freed; anything still referenced stays counted).
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const rssMB = () => process.memoryUsage().rss / 2 ** 20;

const config = { vocabSize: 2000, embSize: 64, hiddenSize: 128, numLayers: 2 };
const batchSize = 16;
const seqLen = 32;
const vocab = Array.from({ length: config.vocabSize }, (_, i) => `tok${i}`);
// A fixed random token stream, read in consecutive windows (the LM's own layout: target = input shifted by one).
let seed = 12345;
const nextRandom = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
const streamLength = batchSize * seqLen * 64 + 1;
const stream = Int32Array.from({ length: streamLength }, () => nextRandom() % config.vocabSize);
const windows = Math.floor((streamLength - 1) / (batchSize * seqLen));
function batchAt(step) {
  const start = (step % windows) * batchSize * seqLen;
  return {
    input: stream.slice(start, start + batchSize * seqLen),
    target: stream.slice(start + 1, start + 1 + batchSize * seqLen),
    batchSize,
    seqLen,
  };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-soak-'));
let model = new LanguageModel(config);
const groups = model.groups().map(() => ({ lr: 1e-3 }));
let cyclesDone = 0; // cycle k (1..cycles) runs after step round-down(k * steps / cycles)
const samples = [];
const started = performance.now();
let lastLoss = NaN;
try {
  gc();
  samples.push({ step: 0, rssMB: rssMB() });
  for (let step = 1; step <= steps; step++) {
    const r = await model.trainStep(batchAt(step), { groups, clip: 0.4 });
    lastLoss = r.crossEntropy;
    if (!Number.isFinite(lastLoss)) throw new Error(`step ${step}: cross-entropy is ${lastLoss}`);
    if (cyclesDone < Math.floor((step * cycles) / steps)) {
      model.save(dir, { vocab, optimizer: true });
      model.dispose();
      model = LanguageModel.load(dir).model;
      cyclesDone++;
    }
    if (step % sampleEvery === 0) {
      gc();
      samples.push({ step, rssMB: rssMB() });
    }
  }
} finally {
  model.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
}
const seconds = (performance.now() - started) / 1000;

const reference = samples.find((s) => s.step === referenceStep);
const end = samples.at(-1);
// The peak from the reference on: before it, RSS still climbs from first-use allocations that are not leaks.
const max = samples.filter((s) => s.step >= referenceStep).reduce((a, b) => (b.rssMB > a.rssMB ? b : a));
const ratio = end.rssMB / reference.rssMB;
const pass = ratio <= 1 + tolerance;
const result = {
  mallocArenaMax: process.env.MALLOC_ARENA_MAX ?? null,
  threads: getNumThreads(),
  config: { ...config, batchSize, seqLen, precision: 'fp32', device: 'cpu' },
  steps,
  cycles: cyclesDone,
  seconds: Number(seconds.toFixed(1)),
  lastCrossEntropy: Number(lastLoss.toFixed(3)),
  referenceStep,
  referenceRssMB: Number(reference.rssMB.toFixed(1)),
  endRssMB: Number(end.rssMB.toFixed(1)),
  maxRssMB: Number(max.rssMB.toFixed(1)),
  maxRssStep: max.step,
  ratio: Number(ratio.toFixed(4)),
  tolerance,
  pass,
  samples: samples.map((s) => ({ step: s.step, rssMB: Number(s.rssMB.toFixed(1)) })),
};

if (values.json) {
  console.log(JSON.stringify(result));
} else {
  console.log(
    `MALLOC_ARENA_MAX=${result.mallocArenaMax ?? '(unset)'}  LibTorch threads=${result.threads}  ${steps} steps, ${cyclesDone} save/load cycles, ${result.seconds} s`,
  );
  console.log('  step   RSS MB');
  for (const s of result.samples)
    console.log(`${String(s.step).padStart(6)} ${s.rssMB.toFixed(1).padStart(8)}${s.step === referenceStep ? '  <- reference' : ''}`);
  console.log(
    `end ${result.endRssMB} MB / reference (step ${referenceStep}) ${result.referenceRssMB} MB = ${result.ratio} (tolerance ${1 + tolerance}); max from the reference on ${result.maxRssMB} MB at step ${max.step}`,
  );
  console.log(pass ? 'PASS' : 'FAIL: RSS grew beyond the tolerance');
}
process.exit(pass ? 0 : 1);
