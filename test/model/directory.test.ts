import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeSafetensors, encodeSafetensors, toBf16 } from '../../src/io/safetensors.js';
import { LanguageModel, setSeed, type LmBatch } from '../../src/index.js';

const config = { vocabSize: 12, embSize: 4, hiddenSize: 6, numLayers: 2 };
const vocab = Array.from({ length: 12 }, (_, i) => `tok${i}`);
const groups = Array.from({ length: 3 }, () => ({ lr: 1e-2 }));
const batch: LmBatch = {
  input: Int32Array.from({ length: 8 }, (_, i) => i % 12),
  target: Int32Array.from({ length: 8 }, (_, i) => (i + 1) % 12),
  batchSize: 2,
  seqLen: 4,
};

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-modeldir-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const tensors = (m: LanguageModel) => Object.fromEntries(m.parameters().parameters.map((p) => [p.name, [...m.getTensor(p.name).data]]));

describe('model directory', () => {
  it('saves and loads weights, config and vocabulary; the tied weight is stored once', () => {
    const model = new LanguageModel({ ...config, dropMult: 0.5 });
    const dir = path.join(scratch, 'roundtrip');
    model.save(dir, { vocab, rulesVersion: 'test-1' });
    expect(fs.readdirSync(dir).sort()).toEqual(['config.json', 'vocab.json', 'weights.safetensors']);
    expect(fs.readdirSync(scratch).filter((n) => n.startsWith('.'))).toEqual([]); // no staging left behind

    const { tensors: stored, metadata } = decodeSafetensors(fs.readFileSync(path.join(dir, 'weights.safetensors')), 'weights');
    expect([...stored.keys()]).toContain('0.encoder.weight');
    expect([...stored.keys()]).not.toContain('1.decoder.weight');
    expect(JSON.parse(metadata.aliases!)).toEqual({
      '0.encoder_dp.emb.weight': '0.encoder.weight',
      '1.decoder.weight': '0.encoder.weight',
    });

    const loaded = LanguageModel.load(dir);
    expect(loaded.vocab).toEqual(vocab);
    expect(loaded.config.model).toEqual(model.config);
    expect(loaded.config.vocabulary).toMatchObject({ size: 12, direction: 'forward', rulesVersion: 'test-1' });
    expect(tensors(loaded.model)).toEqual(tensors(model));
    loaded.model.dispose();
    model.dispose();
  });

  it('saves bf16 weights in half the bytes, read back as the weights rounded to bfloat16; never with the optimizer', () => {
    const model = new LanguageModel({ ...config, embSize: 16, hiddenSize: 32 });
    const full = path.join(scratch, 'fp32');
    const half = path.join(scratch, 'bf16');
    model.save(full, { vocab });
    model.save(half, { vocab, weightsPrecision: 'bf16' });
    const bytes = (dir: string) => fs.statSync(path.join(dir, 'weights.safetensors')).size;
    expect(bytes(half)).toBeLessThan(0.52 * bytes(full));
    const loaded = LanguageModel.load(half);
    for (const p of model.parameters().parameters) {
      const rounded = new Float32Array(new Uint32Array(Array.from(toBf16(model.getTensor(p.name).data), (b) => b << 16)).buffer);
      expect(loaded.model.getTensor(p.name).data, p.name).toEqual(rounded);
    }
    expect(() => model.save(half, { vocab, weightsPrecision: 'bf16', optimizer: true })).toThrow(
      /weightsPrecision bf16 rounds the weights/,
    );
    loaded.model.dispose();
    model.dispose();
  });

  it('resumes training exactly with the optimizer state and the frozen groups', async () => {
    setSeed(3);
    const model = new LanguageModel({ ...config, dropMult: 0 });
    model.freezeTo(1);
    for (let i = 0; i < 2; i++) await model.trainStep(batch, { groups });
    const dir = path.join(scratch, 'resume');
    model.save(dir, { vocab, optimizer: true });
    const { model: resumed } = LanguageModel.load(dir);
    expect(resumed.groups().map((g) => g.trainable)).toEqual([false, true, true]);
    model.resetState();
    await model.trainStep(batch, { groups });
    await resumed.trainStep(batch, { groups });
    expect(tensors(resumed)).toEqual(tensors(model));
    model.dispose();
    resumed.dispose();
  });

  it("replaces the model's files as a whole, keeping the other files there (a report, the user's notes)", () => {
    const dir = path.join(scratch, 'replace');
    const a = new LanguageModel(config);
    a.save(dir, { vocab, optimizer: true });
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x');
    fs.mkdirSync(path.join(dir, 'plots'));
    fs.writeFileSync(path.join(dir, 'plots', 'loss.svg'), '<svg/>');
    const b = new LanguageModel(config);
    b.save(dir, { vocab, optimizer: false });
    expect(fs.readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('x');
    expect(fs.readFileSync(path.join(dir, 'plots', 'loss.svg'), 'utf8')).toBe('<svg/>');
    expect(fs.existsSync(path.join(dir, 'optimizer.safetensors'))).toBe(false); // ours, dropped by this save
    const { model } = LanguageModel.load(dir);
    expect(tensors(model)).toEqual(tensors(b));
    for (const m of [a, b, model]) m.dispose();
  });

  it('after a save killed midway: leftovers removed by the next save, a directory moved aside put back by a load', () => {
    const dir = path.join(scratch, 'killed');
    const a = new LanguageModel(config);
    a.save(dir, { vocab });
    // A save killed while filling its staging directory (by a process that is gone: pid 2^22 + 1 is above
    // Linux's pid_max default) and one killed after moving the old directory aside.
    const gone = 4194305;
    const staging = path.join(scratch, `.killed.tmp-${gone}-0000`);
    fs.mkdirSync(staging);
    fs.writeFileSync(path.join(staging, 'weights.safetensors'), 'partial');
    const movedAside = path.join(scratch, `.killed.old-${gone}-0001`);
    fs.renameSync(dir, movedAside);
    // A partial moved-aside copy (killed while being deleted) is never chosen, even when newer.
    const partial = path.join(scratch, `.killed.old-${gone}-0002`);
    fs.mkdirSync(partial);
    fs.writeFileSync(path.join(partial, 'config.json'), '{}');
    const { model } = LanguageModel.load(dir);
    expect(tensors(model)).toEqual(tensors(a));
    expect(fs.existsSync(movedAside)).toBe(false);
    a.save(dir, { vocab });
    expect(fs.readdirSync(scratch).filter((n) => n.startsWith('.killed.'))).toEqual([]);
    for (const m of [a, model]) m.dispose();
  });

  it('names what is wrong with a directory that does not fit', () => {
    const model = new LanguageModel(config);
    const dir = path.join(scratch, 'bad');
    const fresh = () => {
      model.save(dir, { vocab });
      return JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    };
    const writeConfig = (c: unknown) => fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));

    const c1 = fresh();
    writeConfig({ ...c1, formatVersion: 2 });
    expect(() => LanguageModel.load(dir)).toThrow(`${path.join(dir, 'config.json')}: format version 2; this ulmfit reads version 1`);

    const c2 = fresh();
    writeConfig({ ...c2, model: { ...c2.model, embSize: 5 } });
    expect(() => LanguageModel.load(dir)).toThrow(
      `${path.join(dir, 'weights.safetensors')}: "0.rnns.0.module.weight_ih_l0" has shape [24, 4], the model expects [24, 5]`,
    );

    fresh();
    const weights = path.join(dir, 'weights.safetensors');
    const bytes = fs.readFileSync(weights);
    fs.writeFileSync(weights, bytes.subarray(0, bytes.length - 10));
    expect(() => LanguageModel.load(dir)).toThrow(`${weights} is corrupt or truncated`);

    fresh();
    fs.rmSync(path.join(dir, 'vocab.json'));
    expect(() => LanguageModel.load(dir)).toThrow(`${path.join(dir, 'vocab.json')} is missing`);

    expect(() => LanguageModel.load(path.join(scratch, 'nothing-here'))).toThrow(
      'config.json is missing: is this a ulmfit model directory?',
    );
    expect(() => model.save(dir, { vocab: vocab.slice(1) })).toThrow('save: the vocabulary has 11 tokens, the model 12');
    model.dispose();
  });

  it('rejects unexpected and missing tensors by name', () => {
    const model = new LanguageModel(config);
    const dir = path.join(scratch, 'keys');
    model.save(dir, { vocab });
    const file = path.join(dir, 'weights.safetensors');
    const { tensors: stored } = decodeSafetensors(fs.readFileSync(file), file);
    const rewrite = (list: { name: string; shape: number[]; data: Float32Array }[]) => {
      const bytes = encodeSafetensors(list);
      fs.writeFileSync(file, bytes);
      const c = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
      c.files['weights.safetensors'] = { sha256: crypto.createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
    };
    rewrite([...stored.values()].filter((t) => t.name !== '1.decoder.bias'));
    expect(() => LanguageModel.load(dir)).toThrow(`${file}: missing tensor "1.decoder.bias"`);
    rewrite([...stored.values(), { name: '2.extra', shape: [1], data: new Float32Array(1) }]);
    expect(() => LanguageModel.load(dir)).toThrow(`${file}: unexpected tensor "2.extra" (not part of this model)`);
    model.dispose();
  });
});

// .ci/run installs the safetensors Python package and points ULMFIT_TEST_PYTHONPATH at it, so there this
// never skips; elsewhere it runs where `python3 -c 'import safetensors'` works with that path.
const pythonPath = process.env.ULMFIT_TEST_PYTHONPATH ?? '';
const pythonHasSafetensors =
  spawnSync('python3', ['-c', 'import safetensors.numpy'], { env: { ...process.env, PYTHONPATH: pythonPath } }).status === 0;

describe('interchange', () => {
  it.skipIf(!pythonHasSafetensors && !process.env.ULMFIT_TEST_PYTHONPATH)(
    'weights.safetensors reads in Python with the safetensors package',
    () => {
      const model = new LanguageModel(config);
      const dir = path.join(scratch, 'python');
      model.save(dir, { vocab });
      const code = [
        'import json, sys',
        'from safetensors.numpy import load_file',
        'from safetensors import safe_open',
        'w = load_file(sys.argv[1])',
        "meta = safe_open(sys.argv[1], 'np').metadata()",
        "print(json.dumps({'keys': {k: [list(v.shape), float(v.sum())] for k, v in w.items()}, 'aliases': json.loads(meta['aliases'])}))",
      ].join('\n');
      const run = spawnSync('python3', ['-c', code, path.join(dir, 'weights.safetensors')], {
        env: { ...process.env, PYTHONPATH: pythonPath },
        encoding: 'utf8',
      });
      expect(run.status, run.stderr).toBe(0);
      const read = JSON.parse(run.stdout);
      for (const p of model.parameters().parameters) {
        const [shape, sum] = read.keys[p.name];
        expect(shape).toEqual(p.shape);
        expect(sum).toBeCloseTo(
          model.getTensor(p.name).data.reduce((a, b) => a + b, 0),
          3,
        );
      }
      expect(read.aliases['1.decoder.weight']).toBe('0.encoder.weight');
      model.dispose();
    },
  );
});

describe('safetensors reader', () => {
  const good = encodeSafetensors([{ name: 'a', shape: [2], data: new Float32Array([1, 2]) }]);

  it('rounds float32 to bfloat16 to nearest, ties to even; infinities and NaN kept', () => {
    const f = (bits: number) => new Float32Array(new Uint32Array([bits]).buffer)[0]!;
    const cases: [number, number][] = [
      [1, 0x3f80],
      [f(0x3f808000), 0x3f80], // a tie, to the even 0x3f80
      [f(0x3f818000), 0x3f82], // a tie, to the even 0x3f82
      [f(0x3f808001), 0x3f81], // above the tie
      [-2.5, 0xc020],
      [Infinity, 0x7f80],
      [-Infinity, 0xff80],
      [f(0x7f7fffff), 0x7f80], // the largest float32 rounds up to infinity, as IEEE rounding does
    ];
    for (const [x, bits] of cases) expect(toBf16(new Float32Array([x]))[0], String(x)).toBe(bits);
    expect(Number.isNaN(new Float32Array(new Uint32Array([toBf16(new Float32Array([NaN]))[0]! << 16]).buffer)[0])).toBe(true);
    const { tensors } = decodeSafetensors(
      encodeSafetensors([{ name: 'a', shape: [3], data: new Float32Array([1, -2.5, 0.1]) }], {}, 'BF16'),
      'f',
    );
    expect([...tensors.get('a')!.data]).toEqual([1, -2.5, f(0x3dcd0000)]);
  });

  it('reads what it writes, data 8-byte aligned', () => {
    const { tensors: t } = decodeSafetensors(good, 'f');
    expect([...t.get('a')!.data]).toEqual([1, 2]);
    expect((8 + Number(good.readBigUInt64LE(0))) % 8).toBe(0);
  });

  it('refuses files that lie about their layout', () => {
    expect(() => decodeSafetensors(Buffer.alloc(4), 'f')).toThrow('f: too short for a safetensors file (4 bytes)');
    const huge = Buffer.from(good);
    huge.writeBigUInt64LE(10n ** 12n, 0);
    expect(() => decodeSafetensors(huge, 'f')).toThrow(/f: header length 1000000000000 does not fit/);
    const header = (h: object) => {
      const json = Buffer.from(JSON.stringify(h));
      const b = Buffer.alloc(8 + json.length + 8);
      b.writeBigUInt64LE(BigInt(json.length), 0);
      json.copy(b, 8);
      return b;
    };
    expect(() => decodeSafetensors(header({ a: { dtype: 'F64', shape: [1], data_offsets: [0, 8] } }), 'f')).toThrow(
      'only F32 and BF16 are read',
    );
    expect(() => decodeSafetensors(header({ a: { dtype: 'F32', shape: [3], data_offsets: [0, 8] } }), 'f')).toThrow('do not fit its shape');
    expect(() => decodeSafetensors(header({ a: { dtype: 'F32', shape: [4], data_offsets: [0, 16] } }), 'f')).toThrow('do not fit');
    expect(() =>
      decodeSafetensors(
        header({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }),
        'f',
      ),
    ).toThrow('tensors "a" and "b" overlap');
  });
});
