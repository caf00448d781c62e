// BPT3C's memory is bounded by maxLen, not by document length: chunks outside every document's window run
// without autograd. Each case runs in its own process, so its peak RSS is its own.
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { DIST_INDEX, PACKAGE_ROOT } from '../helpers/child.js';

function peakGrowthMB(docLength: number): number {
  const code = `
    const { Classifier, classifierBatches, TokenStore } = await import(${JSON.stringify(DIST_INDEX)});
    const model = new Classifier({ vocabSize: 100, numClasses: 2, embSize: 32, hiddenSize: 64, seqLen: 72, maxLen: 1440 });
    const docs = Array.from({ length: 4 }, (_, d) => Int32Array.from({ length: ${docLength} }, (_, i) => 2 + ((i * 7 + d) % 98)));
    const [batch] = classifierBatches(TokenStore.fromDocuments(docs), Int32Array.from([0, 1, 0, 1]), { batchSize: 4 });
    const groups = Array.from({ length: 5 }, () => ({ lr: 1e-3 }));
    await model.trainStep(batch, { groups }); // warm: allocator pools, kernels
    const before = process.resourceUsage().maxRSS;
    const r = await model.trainStep(batch, { groups });
    console.log(JSON.stringify({ growthMB: (process.resourceUsage().maxRSS - before) / 1024, loss: r.loss }));`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { cwd: PACKAGE_ROOT, encoding: 'utf8', timeout: 300_000 });
  expect(run.status, run.stderr).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').pop()!).growthMB;
}

describe('classifier memory', () => {
  it('trains a batch of 20,000-token documents in about the memory of 1,440-token ones', () => {
    const long = peakGrowthMB(20_000);
    const short = peakGrowthMB(1_440);
    // Autograd over every chunk (maxLen Infinity) holds about 170 MB more for the long documents here.
    expect(long).toBeLessThan(short + 60);
  }, 300_000);
});
