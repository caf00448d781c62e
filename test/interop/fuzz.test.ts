// The seeded fuzzer over every reader: a short pass with `npm test`, and a long one on demand:
//   ULMFIT_FUZZ_CASES=10000 npx vitest run test/interop/fuzz.test.ts   (ULMFIT_FUZZ_SEED to vary it)
import { unzipSync, zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';

import { fastaiState, readItos, readTorchCheckpoint } from '../../src/index.js';
import { torchFixtures } from './fixtures.js';
import { fuzzReaders, type FuzzResult, type FuzzTarget } from './fuzz.js';
import { floats, legacyCheckpoint, PickleBuilder, stateDictPickle, zipCheckpoint } from './pickle-builder.js';

const SHORT_CASES = 300;
const longCases = Number(process.env.ULMFIT_FUZZ_CASES ?? 0);
const seed = Number(process.env.ULMFIT_FUZZ_SEED ?? 20240611);

let targets: FuzzTarget[] = [];

beforeAll(() => {
  // Hand-made ones always (no torch needed); torch.save's own where python3 has torch.
  const weights = stateDictPickle([
    ['w', (p) => p.tensor('FloatStorage', '0', 6, 1, [2, 2], [1, 2])],
    ['b', (p) => p.tensor('HalfStorage', '1', 2, 0, [2], [1])],
  ]);
  const storages = { 0: floats(1, 2, 3, 4, 5, 6), 1: new Uint8Array([0, 0x3c, 0, 0xc0]) };
  const itos = new PickleBuilder().proto(2).emptyList().mark().str('xxunk').str('the').str('ü').raw(0x65).stop().bytes();
  targets = [
    { name: 'hand-made zip', bytes: zipCheckpoint(weights, storages), read: (b) => readTorchCheckpoint(b, 'fuzz.pth') },
    {
      name: 'hand-made legacy',
      bytes: legacyCheckpoint(weights, [
        { key: '0', count: 6n, data: storages[0] },
        { key: '1', count: 2n, data: storages[1] },
      ]),
      read: (b) => readTorchCheckpoint(b, 'fuzz.pth'),
    },
    { name: 'hand-made itos', bytes: itos, read: (b) => readItos(b, 'fuzz.pkl') },
  ];
  const fx = torchFixtures();
  if (!fx) return;
  const checkpoint = (name: string, skip: string[] = []): FuzzTarget => ({
    name,
    bytes: fx.bytes(name),
    read: (b) => readTorchCheckpoint(b, name, { skip }),
  });
  // A fastai model's checkpoint goes on through the key mapping the import uses: it too must read or refuse.
  const model = (name: string, skip: string[] = []): FuzzTarget => ({
    name: `${name} mapped`,
    bytes: fx.bytes(name),
    read: (b) => fastaiState(readTorchCheckpoint(b, name, { skip }).tensors, name),
  });
  // The object pickle of a real checkpoint, mutated and then zipped again: the zip stays valid, so every
  // case reaches the pickle interpreter and the tensor checks.
  const pickleInZip = (name: string, skip: string[] = []): FuzzTarget => {
    const entries = unzipSync(fx.bytes(name));
    const pkl = Object.keys(entries).find((n) => n.endsWith('/data.pkl'))!;
    return {
      name: `${name} data.pkl`,
      bytes: entries[pkl]!,
      wrap: (mutated) => zipSync({ ...entries, [pkl]: mutated }, { level: 0 }),
      read: (b) => readTorchCheckpoint(b, name, { skip }),
    };
  };
  targets.push(
    checkpoint('lm_v2.pth'),
    model('lm_v1.pth'),
    model('classifier_v2.pth'),
    model('classifier_v1_legacy.pth'),
    model('encoder_v2.pth'),
    checkpoint('dtypes_legacy.pth'),
    checkpoint('lm_v07_legacy.pth'),
    model('learner.pth', ['opt']),
    pickleInZip('dtypes.pth'),
    pickleInZip('learner.pth', ['opt']),
    pickleInZip('classifier.pth'),
    { name: 'itos.pkl', bytes: fx.bytes('itos.pkl'), read: (b) => readItos(b, 'itos.pkl') },
  );
});

function report(result: FuzzResult): void {
  const { cases, failures, refused, read, seconds, slowestMs } = result;
  console.log(
    `fuzz: ${cases} cases (seed ${result.seed}, ${targets.length} targets): ${failures.length} failures, ` +
      `${refused} refused, ${read} read, ${seconds.toFixed(1)} s (slowest case ${slowestMs.toFixed(0)} ms)`,
  );
  for (const f of result.failures.slice(0, 10)) console.log(`  case ${f.index} ${f.target} [${f.mutations.join('; ')}]: ${f.error}`);
}

describe('fuzzing the readers', () => {
  it(`${SHORT_CASES} seeded cases: each reads or throws CheckpointError`, () => {
    const result = fuzzReaders(targets, { seed, cases: SHORT_CASES });
    report(result);
    expect(result.cases).toBe(SHORT_CASES);
    expect(result.failures).toEqual([]);
  });

  it.runIf(longCases > 0)(`ULMFIT_FUZZ_CASES=${longCases}: the long run`, { timeout: 60_000 + longCases * 200 }, () => {
    const result = fuzzReaders(targets, { seed: seed + 1, cases: longCases });
    report(result);
    expect(result.cases).toBe(longCases);
    expect(result.failures).toEqual([]);
  });
});
