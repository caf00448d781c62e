// Every checkpoint fixtures.py wrote with the real torch.save, read back and compared with what Python wrote
// down: each tensor's dtype, view and bytes exactly, which tensors share a storage, and the plain values.
import fs from 'node:fs';
import path from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, readTorchCheckpoint, TorchTensor, type TensorData, type TorchCheckpoint } from '../../src/index.js';
import { OpaqueObject } from '../../src/interop/pickle.js';
import { TorchDtypeValue } from '../../src/interop/torch-values.js';
import { torchFixtures, type Fixtures } from './fixtures.js';

let fx: Fixtures | null = null;
beforeAll(() => {
  fx = torchFixtures();
});

const SKIP_FOR = { 'learner.pth': ['opt'] } as Record<string, string[]>;

function read(name: string, skip = SKIP_FOR[name] ?? []): TorchCheckpoint {
  return readTorchCheckpoint(fx!.bytes(name), name, { skip });
}

const asBytes = (a: ArrayBufferView) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Bit for bit, except that any NaN matches any NaN (torch's own fp16 -> fp32 turns NaN into 0x7fffffff). */
function expectSameElements(data: TensorData, expected: Buffer, what: string): void {
  if (asBytes(data).equals(expected)) return;
  if (!(data instanceof Float32Array || data instanceof Float64Array)) expect.fail(`${what}: bytes differ`);
  const copy = new Uint8Array(expected); // aligned
  const want = data instanceof Float32Array ? new Float32Array(copy.buffer) : new Float64Array(copy.buffer);
  expect(want.length, what).toBe(data.length);
  for (let i = 0; i < data.length; i++) {
    if (!Object.is(data[i], want[i]) && !(Number.isNaN(data[i]) && Number.isNaN(want[i])))
      expect.fail(`${what}[${i}]: ${data[i]} vs ${want[i]}`);
  }
}

describe('readTorchCheckpoint on torch.save output', () => {
  it('reads every fixture, every tensor exactly as Python saw it', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const names = Object.keys(fx.manifest.fixtures);
    expect(names.length).toBeGreaterThanOrEqual(8);
    for (const name of names) {
      const expected = fx.manifest.fixtures[name]!;
      const ckpt = read(name);
      expect(ckpt.format, name).toBe(expected.format);
      expect([...ckpt.tensors.keys()].sort(), name).toEqual(Object.keys(expected.tensors).sort());
      for (const [tensorName, want] of Object.entries(expected.tensors)) {
        const t = ckpt.tensors.get(tensorName)!;
        const what = `${name}: ${tensorName}`;
        expect(t, what).toBeInstanceOf(TorchTensor);
        expect(ckpt.tensors.get(t.name), what).toBe(t); // its first name, when it has several
        expect(t.dtype, what).toBe(want.dtype);
        expect(t.shape, what).toEqual(want.shape);
        expect(t.stride, what).toEqual(want.stride);
        expect(t.storageOffset, what).toBe(want.storageOffset);
        expect(t.requiresGrad, what).toBe(want.requiresGrad);
        expect(t.data.length, what).toBe(want.shape.reduce((a, b) => a * b, 1));
        expectSameElements(t.data, fs.readFileSync(path.join(fx.dir, want.bytes)), what);
      }
      const shared = ckpt.sharedStorages.map((s) => [...s.tensors].sort()).sort();
      expect(shared, `${name}: shared storages`).toEqual(expected.shared);
    }
  });

  it('reports the tied embedding of a fastai v2 language model and shares its array', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const ckpt = read('lm_v2.pth');
    expect(ckpt.root).toBeInstanceOf(Map);
    expect([...(ckpt.root as Map<string, unknown>).keys()]).toContain('0.rnns.0.module.weight_ih_l0');
    const tied = ckpt.sharedStorages.find((s) => s.tensors.includes('0.encoder.weight'))!;
    expect(tied.tensors).toEqual(['0.encoder.weight', '0.encoder_dp.emb.weight', '1.decoder.weight']);
    expect(ckpt.tensors.get('1.decoder.weight')!.data).toBe(ckpt.tensors.get('0.encoder.weight')!.data);
    expect(ckpt.tensors.get('0.encoder.weight')!.data).toBeInstanceOf(Float32Array);
    expect(ckpt.warnings).toEqual([]);
  });

  it('reads fastai v1 (weight_hh_l0 beside _raw) and 0.7 (legacy format) names', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const v1 = read('lm_v1.pth');
    expect(v1.tensors.has('0.rnns.0.module.weight_hh_l0')).toBe(true);
    expect(v1.tensors.has('0.rnns.0.weight_hh_l0_raw')).toBe(true);
    const v07 = read('lm_v07_legacy.pth');
    expect(v07.format).toBe('legacy');
    expect(v07.sharedStorages.map((s) => s.tensors)).toEqual([
      ['0.encoder.weight', '0.encoder_with_dropout.embed.weight', '1.decoder.weight'],
    ]);
  });

  it("learn.save: 'opt' holds an unknown fastcore class, kept opaque with a warning when skipped, refused otherwise", ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const ckpt = read('learner.pth', ['opt']);
    expect(ckpt.warnings).toEqual([
      "learner.pth: 'opt' holds fastcore.foundation.L, which this reader does not know; it is left as an opaque placeholder",
    ]);
    const opt = (ckpt.root as Map<string, Map<string, unknown>>).get('opt')!;
    const state = opt.get('state') as OpaqueObject;
    expect(state).toBeInstanceOf(OpaqueObject);
    expect(state.global.qualifiedName).toBe('fastcore.foundation.L');
    expect((state.state as Map<string, unknown[]>).get('items')!.length).toBe(2);
    expect(ckpt.tensors.get('model.1.decoder.weight')!.data).toBe(ckpt.tensors.get('model.0.encoder.weight')!.data);

    expect(() => read('learner.pth', [])).toThrow(
      /learner\.pth: learner\/data\.pkl byte \d+: the pickle names fastcore\.foundation\.L, which a checkpoint never needs; refusing to load/,
    );
    expect(() => read('learner_bad.pth', ['opt'])).toThrow(
      /the pickle names fastcore\.foundation\.L outside the parts it was asked to skip \(opt\)/,
    );
  });

  it("a callable in 'opt' is inert when skipped: a placeholder, never called", ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    expect(() => read('evil_in_opt.pth', [])).toThrow(/names posix\.system, which a checkpoint never needs/);
    const ckpt = read('evil_in_opt.pth', ['opt']);
    const opt = (ckpt.root as Map<string, unknown>).get('opt') as OpaqueObject;
    expect(opt.global.qualifiedName).toBe('posix.system');
    expect(opt.args).toEqual(['echo pwned']);
    expect(ckpt.warnings[0]).toMatch(/'opt' holds posix\.system/);
  });

  it('keeps dtypes, views, parameters and plain values (zip and legacy alike)', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const plain = fx.json('plain.json') as Record<string, unknown>;
    for (const name of ['dtypes.pth', 'dtypes_legacy.pth']) {
      const ckpt = read(name);
      const root = ckpt.root as Map<string, unknown>;
      const t = (key: string) => ckpt.tensors.get(key)!;
      expect(t('i64').data).toBeInstanceOf(BigInt64Array);
      expect([...(t('i64').data as BigInt64Array)]).toEqual([0n, -1n, 2n ** 62n, -(2n ** 63n), 2n ** 63n - 1n, 42n]);
      expect(t('f16').data).toBeInstanceOf(Float32Array);
      expect(t('bf16').data).toBeInstanceOf(Float32Array);
      expect(t('f64').data).toBeInstanceOf(Float64Array);
      expect([...t('bool').data]).toEqual([1, 0, 1]);
      expect([...t('u16').data]).toEqual([0, 1, 65535]);
      expect(t('transposed').stride).toEqual([1, 5]);
      expect(t('sliced').storageOffset).toBe(5);
      expect(t('expanded').stride).toEqual([1, 0]);
      expect(t('scalar').shape).toEqual([]);
      expect([...t('scalar').data]).toEqual([3.5]);
      expect(t('empty').data.length).toBe(0);
      expect(t('param').isParameter).toBe(true);
      expect(t('param_with_state').isParameter).toBe(true);
      expect(t('f32').isParameter).toBe(false);
      const values = root.get('plain') as Map<string, unknown>;
      expect(values.get('list')).toEqual(plain.list);
      expect(values.get('tuple')).toEqual(plain.tuple);
      expect(values.get('big')).toBe(2n ** 70n);
      expect(values.get('negative_big')).toBe(-(2n ** 65n));
      expect(values.get('negative')).toBe(-5);
      expect(values.get('int_keys')).toEqual(
        new Map([
          [1, 'a'],
          [300, 'b'],
          [70000, 'c'],
        ]),
      );
      expect(values.get('dtype')).toEqual(new TorchDtypeValue('float16'));
    }
  });

  it('one tensor saved three times (one memo entry) is one object with three names', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const ckpt = read('top_list.pth');
    const root = ckpt.root as [TorchTensor, TorchTensor, Map<string, TorchTensor>];
    expect(root[0]).toBe(root[1]);
    expect(root[2].get('again')).toBe(root[0]);
    expect(root[0].name).toBe('0');
    expect([...ckpt.tensors.keys()]).toEqual(['0', '1', '2.again']);
    expect(ckpt.sharedStorages).toEqual([{ storage: root[0].storage.key, tensors: ['0', '1', '2.again'] }]);
  });

  it('validates its options', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    expect(() => readTorchCheckpoint(fx!.bytes('lm_v2.pth'), 'lm_v2.pth', { skip: 'opt' } as never)).toThrow(
      /readTorchCheckpoint options: skip/,
    );
    expect(() => readTorchCheckpoint(new Uint8Array(10), 'x.pth')).toThrow(CheckpointError);
  });
});
