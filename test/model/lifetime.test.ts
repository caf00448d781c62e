// Native memory follows the JS object: dispose() frees it at once, garbage collection frees a dropped
// model, and neither pulls memory from under a step in flight. Run in a child process with --expose-gc.
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { DIST_INDEX, PACKAGE_ROOT } from '../helpers/child.js';

function runWithGc(code: string) {
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
    cwd: PACKAGE_ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

const prelude = `
  const { LanguageModel } = await import(${JSON.stringify(DIST_INDEX)});
  const rssMB = () => process.memoryUsage().rss / 2 ** 20;
  const settle = async () => { for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setTimeout(r, 20)); } };
  // About 100 MB of weights: a 60,000-word embedding of 400 plus small LSTMs.
  const big = () => new LanguageModel({ vocabSize: 60000, embSize: 400, hiddenSize: 64, numLayers: 2 });
`;

describe('model lifetime', () => {
  it('frees native memory on dispose() and when a dropped model is garbage-collected', () => {
    const out = runWithGc(`${prelude}
      new LanguageModel({ vocabSize: 10, embSize: 2, hiddenSize: 2, numLayers: 1 }).dispose(); // LibTorch loaded
      await settle();
      const base = rssMB();
      let m = big();
      const withModel = rssMB();
      m.dispose();
      await settle();
      const afterDispose = rssMB();
      m = big();
      m = null;
      await settle();
      const afterGc = rssMB();
      console.log(JSON.stringify({ base, withModel, afterDispose, afterGc }));`);
    expect(out.withModel - out.base).toBeGreaterThan(80);
    expect(out.afterDispose - out.base).toBeLessThan(40);
    expect(out.afterGc - out.base).toBeLessThan(40);
  });

  it('keeps a model alive while its step runs, even when the last reference is dropped', () => {
    const out = runWithGc(`${prelude}
      let m = big();
      const n = 4 * 70;
      const batch = { input: new Int32Array(n).fill(5), target: new Int32Array(n).fill(6), batchSize: 4, seqLen: 70 };
      const step = m.trainStep(batch, { groups: [{ lr: 1e-3 }, { lr: 1e-3 }, { lr: 1e-3 }] });
      m = null;
      await settle();
      const r = await step;
      await settle();
      console.log(JSON.stringify({ loss: r.loss, skipped: r.skipped }));`);
    expect(Number.isFinite(out.loss)).toBe(true);
    expect(out.skipped).toBe(false);
  });
});
