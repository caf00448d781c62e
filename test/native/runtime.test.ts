import { Worker } from 'node:worker_threads';

import { describe, expect, it } from 'vitest';

import { benchmarkMatmul, getNumThreads, info, matmul, parseDevice, setNumThreads, setSeed } from '../../src/index.js';
import { randn } from '../../src/ops.js';

describe('native core', () => {
  it('reports what it runs on', () => {
    const i = info();
    expect(i.torch.builtWith).toBe(i.libtorch.version?.split('+')[0]);
    expect(i.torch.cxx11Abi).toBe(1);
    expect(i.cuda.built).toBe(i.libtorch.variant !== 'cpu');
    expect(i.threads.intraOp).toBeGreaterThan(0);
    expect(i.binary.builtFor).toBe(i.libtorch.version);
    expect(typeof i.cpu.avx2).toBe('boolean');
  });

  it('multiplies matrices with LibTorch', async () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const b = new Float32Array([1, 0, 0, 1, 1, 1]);
    const out = await matmul({ a, aShape: [2, 3], b, bShape: [3, 2] });
    expect(out.shape).toEqual([2, 2]);
    expect([...out.data]).toEqual([4, 5, 10, 11]);
  });

  it('turns a LibTorch error into a JS Error naming the shapes, without a C++ backtrace', async () => {
    const err = await matmul({ a: new Float32Array(6), aShape: [2, 3], b: new Float32Array(20), bShape: [4, 5] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error & { code: string }).code).toBe('ERR_ULMFIT_TORCH');
    expect((err as Error).message).toContain('mat1 and mat2 shapes cannot be multiplied (2x3 and 4x5)');
    expect((err as Error).message).not.toMatch(/Exception raised from|frame #/);
  });

  it('names the argument when data and shape disagree', async () => {
    await expect(matmul({ a: new Float32Array(5), aShape: [2, 3], b: new Float32Array(6), bShape: [3, 2] })).rejects.toThrow(
      'a has 5 values but its shape [2, 3] needs 6',
    );
    await expect(
      matmul({ a: new Float64Array(6) as unknown as Float32Array, aShape: [2, 3], b: new Float32Array(6), bShape: [3, 2] }),
    ).rejects.toThrow(/^matmul: a: /);
  });

  it('repeats random numbers after setSeed', async () => {
    setSeed(1234);
    const first = await randn({ shape: [8] });
    const other = await randn({ shape: [8] });
    setSeed(1234n);
    const again = await randn({ shape: [8] });
    expect([...again.data]).toEqual([...first.data]);
    expect([...other.data]).not.toEqual([...first.data]);
    expect(() => setSeed(-1)).toThrow(/^seed: /);
  });

  it('applies setNumThreads on the worker thread that does the work', async () => {
    const before = getNumThreads();
    try {
      setNumThreads(1);
      expect(getNumThreads()).toBe(1);
      expect((await benchmarkMatmul({ size: 64, iterations: 1 })).threads).toBe(1);
      expect(info().threads.intraOp).toBe(1);
      expect(() => setNumThreads(0)).toThrow(/^numThreads: /);
    } finally {
      setNumThreads(before);
    }
  });

  it('validates device strings against this LibTorch', () => {
    expect(parseDevice('cpu')).toBe('cpu');
    expect(() => parseDevice('gpu')).toThrow('device: (value): must be "cpu", "cuda" or "cuda:N"');
    if (!info().cuda.built) {
      expect(() => parseDevice('cuda')).toThrow(/device "cuda": this LibTorch \(2\.\d+\.\d+\) was built without CUDA/);
      expect(() => parseDevice('cuda:1')).toThrow(/built without CUDA/);
    } else if (info().cuda.deviceCount > 0) {
      const count = info().cuda.deviceCount;
      expect(parseDevice('cuda:0')).toBe('cuda:0');
      expect(() => parseDevice(`cuda:${count}`)).toThrow(/there (is|are) \d+ CUDA device/);
    }
  });

  it('keeps the event loop turning during a long native call', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const started = performance.now();
    const result = await benchmarkMatmul({ size: 1024, iterations: 40 });
    const elapsed = performance.now() - started;
    clearInterval(timer);
    expect(result.seconds).toBeGreaterThan(0.1);
    // A blocked loop fires at most once; a free one close to elapsed/10 times.
    expect(ticks).toBeGreaterThan((elapsed / 10) * 0.5);
  });

  it('loads and runs in a worker thread (the addon is context-aware)', async () => {
    // vitest compiles TypeScript in this process only, so the worker loads the compiled package (dist/).
    const code = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(new URL('../../dist/index.js', import.meta.url).href)})
        .then((m) => m.matmul({ a: new Float32Array([2]), aShape: [1, 1], b: new Float32Array([21]), bShape: [1, 1] }))
        .then((r) => parentPort.postMessage(r.data[0]), (e) => parentPort.postMessage(String(e)));`;
    const worker = new Worker(code, { eval: true });
    const answer = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(answer).toBe(42);
  });
});
