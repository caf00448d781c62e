// exportCheckpoint: a model directory as a safetensors file of fastai v2 key names. The round trip starts from
// checkpoints the real torch.save wrote (fixtures.py): import -> our model -> export must give back exactly the
// keys and values fastai's state dict had, and PyTorch (safetensors.torch.load_file into modules laid out as
// fastai's, strict load_state_dict, then the golden scripts' model) must compute what our engine computes,
// within the golden tolerance.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { exportCheckpoint, importCheckpoint, ModelDirectoryError, OptionsError } from '../../src/index.js';
import { decodeSafetensors } from '../../src/io/safetensors.js';
import { Classifier } from '../../src/model/classifier.js';
import { LanguageModel } from '../../src/model/language-model.js';
import { expectClose } from '../helpers/close.js';
import { torchFixtures, torchPythonPath, type Fixtures } from './fixtures.js';

const ROUNDTRIP = fileURLToPath(new URL('./pytorch_roundtrip.py', import.meta.url));
const VOCAB = ['xxunk', 'xxpad', 'xxbos', 'xxfld', 'xxmaj', 'xxup', 'xxrep', 'xxwrep', 'the', '.', 'a'];

let fx: Fixtures | null = null;
let tmp = '';
let pythonPath: string | null = null;
let pythonHasSafetensors = false;
beforeAll(() => {
  fx = torchFixtures();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-export-'));
  pythonPath = torchPythonPath();
  pythonHasSafetensors =
    !!pythonPath &&
    spawnSync('python3', ['-c', 'import safetensors.torch'], { env: { ...process.env, PYTHONPATH: pythonPath } }).status === 0;
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const at = (name: string) => path.join(tmp, name);

/** What fixtures.py's state dict held under `key`, as the raw little-endian bytes. */
function fixtureBytes(fixture: string, key: string): Buffer {
  const entry = fx!.manifest.fixtures[fixture]!.tensors[key]!;
  return Buffer.from(fx!.bytes(entry.bytes));
}

/** Reads an exported file's raw tensors (any dtype) and metadata, without our F32-only reader's checks. */
function readExport(file: string): {
  tensors: Map<string, { dtype: string; shape: number[]; bytes: Buffer }>;
  metadata: Record<string, string>;
} {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const tensors = new Map<string, { dtype: string; shape: number[]; bytes: Buffer }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    tensors.set(name, { dtype: e.dtype, shape: e.shape, bytes: bytes.subarray(8 + n + e.data_offsets[0], 8 + n + e.data_offsets[1]) });
  }
  return { tensors, metadata: header.__metadata__ as unknown as Record<string, string> };
}

/** The export holds exactly the fixture's keys, each with its dtype, shape and bytes. */
function expectSameAsFixture(file: string, fixture: string): void {
  const { tensors } = readExport(file);
  const want = fx!.manifest.fixtures[fixture]!.tensors;
  expect([...tensors.keys()].sort()).toEqual(Object.keys(want).sort());
  for (const [name, t] of tensors) {
    expect(t.dtype, name).toBe(want[name]!.dtype === 'int64' ? 'I64' : 'F32');
    expect(t.shape, name).toEqual(want[name]!.shape);
    expect(t.bytes.equals(fixtureBytes(fixture, name)), `${fixture}: ${name}`).toBe(true);
  }
}

/** Runs pytorch_roundtrip.py on `file` with `input`; returns what PyTorch computed. */
function inPyTorch(
  file: string,
  input: unknown,
): { kind: string; keys: string[]; itos: string[]; logits?: number[]; probabilities?: number[] } {
  const inFile = `${file}.in.json`;
  const outFile = `${file}.out.json`;
  fs.writeFileSync(inFile, JSON.stringify(input));
  const r = spawnSync('python3', [ROUNDTRIP, file, inFile, outFile], {
    env: { ...process.env, PYTHONPATH: pythonPath! },
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(fs.readFileSync(outFile, 'utf8'));
}

describe('exportCheckpoint: fastai v2 names, back to PyTorch', () => {
  it("a language model: the fixture's own keys and values, tied copies included; PyTorch gives our logits", async ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    importCheckpoint({ weights: path.join(fx.dir, 'lm_v2.pth'), vocab: VOCAB, out: at('lm') });
    const r = exportCheckpoint({ from: at('lm'), out: at('lm.safetensors') });
    expect(r.kind).toBe('awd-lstm-lm');
    expect(r.keys).toEqual(expect.arrayContaining(['0.encoder.weight', '0.encoder_dp.emb.weight', '1.decoder.weight', '1.decoder.bias']));
    expectSameAsFixture(at('lm.safetensors'), 'lm_v2.pth');
    const { metadata } = readExport(at('lm.safetensors'));
    expect(JSON.parse(metadata.itos!)).toEqual(VOCAB);
    expect(metadata['ulmfit.direction']).toBe('forward');

    if (!pythonHasSafetensors) return skip('python3 cannot import safetensors.torch');
    const rows = [
      [2, 8, 9, 10, 4, 8, 8, 9],
      [2, 10, 10, 9, 0, 5, 6, 7],
      [2, 9, 8, 10, 9, 8, 10, 3],
    ];
    const theirs = inPyTorch(at('lm.safetensors'), { tokens: rows });
    const { model } = LanguageModel.load(at('lm'));
    try {
      const ours = await model.nextTokenLogits(Int32Array.from(rows.flat()), rows.length);
      expectClose(ours.logits, theirs.logits!, 'logits after each row');
    } finally {
      model.dispose();
    }
  });

  it('a classifier: keys, BatchNorm buffers (num_batches_tracked as int64); PyTorch gives our probabilities over several BPT3C chunks', async ({
    skip,
  }) => {
    if (!fx) return skip('no python3 with torch');
    importCheckpoint({
      weights: path.join(fx.dir, 'classifier_v2.pth'),
      vocab: VOCAB,
      out: at('clas'),
      classes: ['neg', 'neutral', 'pos'],
    });
    const r = exportCheckpoint({ from: at('clas'), out: at('clas.safetensors') });
    expect(r.kind).toBe('awd-lstm-classifier');
    expectSameAsFixture(at('clas.safetensors'), 'classifier_v2.pth');
    expect(JSON.parse(readExport(at('clas.safetensors')).metadata.classes!)).toEqual(['neg', 'neutral', 'pos']);

    if (!pythonHasSafetensors) return skip('python3 cannot import safetensors.torch');
    // Three documents of 150, 100 and 30 tokens in the pipeline's layout (seqLen 72): longest first, each
    // front-padded by whole chunks, the rest padded at the end.
    const lengths = [150, 100, 30];
    const total = 150;
    const pad = 1;
    const rows = lengths.map((n, r) => {
      const front = Math.floor((total - n) / 72) * 72;
      const row = new Array<number>(total).fill(pad);
      for (let i = 0; i < n; i++) row[front + i] = 2 + ((i * (r + 3) + r) % 9);
      return row;
    });
    const theirs = inPyTorch(at('clas.safetensors'), { tokens: rows, lengths });
    const { model } = Classifier.load(at('clas'));
    try {
      const ours = await model.predict({
        tokens: Int32Array.from(rows.flat()),
        rows: rows.length,
        length: total,
        lengths: Int32Array.from(lengths),
      });
      expectClose(ours.probabilities, theirs.probabilities!, 'class probabilities');
    } finally {
      model.dispose();
    }
  });

  it("a fastai v1 classifier (flat head, Linear biases): exported under v2's block names with the biases; PyTorch gives our probabilities", async ({
    skip,
  }) => {
    if (!fx) return skip('no python3 with torch');
    importCheckpoint({ weights: path.join(fx.dir, 'classifier_v1_legacy.pth'), vocab: VOCAB, out: at('clas-v1') });
    const r = exportCheckpoint({ from: at('clas-v1'), out: at('clas-v1.safetensors') });
    expect(r.keys).toEqual(expect.arrayContaining(['1.layers.0.2.bias', '1.layers.1.2.bias', '0.module.encoder_dp.emb.weight']));
    expect(JSON.parse(readExport(at('clas-v1.safetensors')).metadata['ulmfit.model']!).headBias).toBe(true);
    if (!pythonHasSafetensors) return skip('python3 cannot import safetensors.torch');
    const rows = [
      [2, 8, 9, 10, 4, 8, 8, 9, 10, 2],
      [2, 10, 10, 9, 5, 1, 1, 1, 1, 1],
    ];
    const lengths = [10, 5];
    const theirs = inPyTorch(at('clas-v1.safetensors'), { tokens: rows, lengths });
    const { model } = Classifier.load(at('clas-v1'));
    try {
      const ours = await model.predict({ tokens: Int32Array.from(rows.flat()), rows: 2, length: 10, lengths: Int32Array.from(lengths) });
      expectClose(ours.probabilities, theirs.probabilities!, 'class probabilities');
    } finally {
      model.dispose();
    }
  });

  it('an encoder: save_encoder\'s keys (no "0."), loadable by strict load_state_dict', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    importCheckpoint({ weights: path.join(fx.dir, 'encoder_v2.pth'), vocab: VOCAB, out: at('enc') });
    exportCheckpoint({ from: at('enc'), out: at('enc.safetensors') });
    expectSameAsFixture(at('enc.safetensors'), 'encoder_v2.pth');
    if (!pythonHasSafetensors) return skip('python3 cannot import safetensors.torch');
    expect(inPyTorch(at('enc.safetensors'), { tokens: [[2]] }).keys).toContain('encoder_dp.emb.weight');
  });

  it('an exported file is still a safetensors file our reader takes (float32 tensors)', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    importCheckpoint({ weights: path.join(fx.dir, 'lm_v2.pth'), vocab: VOCAB, out: at('lm2') });
    exportCheckpoint({ from: at('lm2'), out: at('lm2.safetensors') });
    const { tensors } = decodeSafetensors(fs.readFileSync(at('lm2.safetensors')), 'lm2.safetensors');
    expect(tensors.get('1.decoder.weight')!.data).toEqual(tensors.get('0.encoder.weight')!.data);
  });
});

describe('exportCheckpoint: what it refuses', () => {
  it('names the option, the missing directory, a pair, a directory as --out', () => {
    expect(() => exportCheckpoint({ from: at('x'), out: at('x.pt') })).toThrow(OptionsError);
    expect(() => exportCheckpoint({ from: at('x'), out: at('x.pt') })).toThrow(/out: must name a \.safetensors file/);
    expect(() => exportCheckpoint({ from: at('nothing-here'), out: at('n.safetensors') })).toThrow(/nothing-here.*config\.json is missing/);
    fs.mkdirSync(path.join(at('pair'), 'forward'), { recursive: true });
    fs.writeFileSync(path.join(at('pair'), 'forward', 'config.json'), '{}');
    expect(() => exportCheckpoint({ from: at('pair'), out: at('p.safetensors') })).toThrow(ModelDirectoryError);
    expect(() => exportCheckpoint({ from: at('pair'), out: at('p.safetensors') })).toThrow(/pair of models.*each direction/);
    expect(() => exportCheckpoint({ from: at('pair'), out: at('p.safetensors'), format: 'onnx' as never })).toThrow(/format/);
  });

  it('refuses a directory as the file to write, and leaves no temporary file behind', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    importCheckpoint({ weights: path.join(fx.dir, 'lm_v2.pth'), vocab: VOCAB, out: at('lm3') });
    fs.mkdirSync(at('taken.safetensors'));
    expect(() => exportCheckpoint({ from: at('lm3'), out: at('taken.safetensors') })).toThrow(/taken\.safetensors is a directory/);
    expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });
});
