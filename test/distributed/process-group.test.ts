// Process groups across real processes: two ranks on this machine join through rank 0's store (the
// environment torchrun sets), get rank 0's weights by broadcast, and a training step of an attached model
// sees the mean of the two ranks' gradients, leaving both ranks with the same weights. A rank whose peers never
// come is told which.
import { spawn } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { native } from '../../src/native/loader.js';
import { processGroupOptionsFromEnv } from '../../src/index.js';
import { DIST_INDEX, PACKAGE_ROOT } from '../helpers/child.js';
import { freePort } from '../helpers/free-port.js';

// CI sets ULMFIT_REQUIRE_GLOO=1: there an addon without process groups fails these tests instead of skipping them.
const hasGloo = native().info().distributed.gloo || process.env.ULMFIT_REQUIRE_GLOO === '1';

/** Runs `code` as rank `rank` of `worldSize`; resolves with its stdout, or rejects with its stderr. */
function rank(code: string, rank: number, worldSize: number, port: number): Promise<string> {
  const env = { ...process.env, RANK: String(rank), WORLD_SIZE: String(worldSize), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) };
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env, cwd: PACKAGE_ROOT });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) => child.on('close', (status) => (status === 0 ? resolve(out) : reject(new Error(err)))));
}

const worker = `
import { LanguageModel, ProcessGroup, setSeed } from '${DIST_INDEX}';
const group = await ProcessGroup.connect({ timeoutMs: 60000 });
setSeed(100 + group.rank); // each rank starts from its own weights
const config = { vocabSize: 30, embSize: 6, hiddenSize: 8, numLayers: 2, dropMult: 0 };
const model = new LanguageModel(config);
await group.broadcastModel(model);
const name = '0.rnns.1.module.weight_ih_l0';
const start = Array.from(model.getTensor(name).data);
const n = 10;
const batch = { input: Int32Array.from({ length: n }, (_, i) => (i * 7 + 5 * group.rank) % 30), target: Int32Array.from({ length: n }, (_, i) => (i * 7 + 5 * group.rank + 1) % 30), batchSize: 2, seqLen: 5 };
const hyper = { groups: Array.from({ length: 3 }, () => ({ lr: 0.1 })), clip: 0 };
// This rank's own gradient, from a copy with the same weights that is not in the group.
const local = new LanguageModel(config);
for (const p of model.parameters().parameters) local.setTensor(p.name, model.getTensor(p.name).data);
await local.trainStep(batch, hyper);
const own = Array.from(local.getGrad(name).data);
group.attach(model);
await model.trainStep(batch, hyper);
const mean = Array.from(model.getGrad(name).data);
const sum = Array.from(await group.allReduce(Float32Array.of(group.rank + 1, 10)));
console.log(JSON.stringify({ rank: group.rank, start, own, mean, after: Array.from(model.getTensor(name).data), sum }));
// Detached, a step waits for no one: rank 1 trains alone (attached, it would wait for rank 0 until the timeout).
group.detach(model);
if (group.rank === 1) await model.trainStep(batch, hyper);
group.dispose();
`;

describe.skipIf(!hasGloo)('process groups (Gloo)', () => {
  it('two ranks: broadcast weights, averaged gradients, the same weights after a step', async () => {
    const port = await freePort();
    const [a, b] = (await Promise.all([rank(worker, 0, 2, port), rank(worker, 1, 2, port)])).map((o) => JSON.parse(o));
    expect(b.start).toEqual(a.start);
    expect(a.own).not.toEqual(b.own); // different batches, different gradients
    for (let i = 0; i < a.mean.length; i++) {
      expect(a.mean[i]).toBeCloseTo((a.own[i] + b.own[i]) / 2, 6);
      expect(b.mean[i]).toBe(a.mean[i]);
    }
    expect(b.after).toEqual(a.after);
    expect(a.sum).toEqual([3, 20]);
  }, 120_000);

  it('names the ranks that never joined, and a store that never answered', async () => {
    const port = await freePort();
    const alone = `import { ProcessGroup } from '${DIST_INDEX}'; await ProcessGroup.connect({ timeoutMs: 1500 });`;
    await expect(rank(alone, 0, 3, port)).rejects.toThrow(/rank 0 of 3 at 127\.0\.0\.1:\d+: rank\(s\) 1, 2 did not join within 1500 ms/);
    await expect(rank(alone, 1, 2, await freePort())).rejects.toThrow(/rank 1 of 2 at 127\.0\.0\.1:\d+: rank 0's store did not answer/);
  }, 60_000);

  it.skipIf(native().info().distributed.nccl)('refuses NCCL in a build without it, saying what it needs', async () => {
    const nccl = `import { ProcessGroup } from '${DIST_INDEX}'; await ProcessGroup.connect({ backend: 'nccl', device: 0, timeoutMs: 1500 });`;
    await expect(rank(nccl, 0, 1, await freePort())).rejects.toThrow(
      /backend "nccl" is not built into this addon: it needs a CUDA LibTorch/,
    );
  });
});

describe('process group options', () => {
  it("take torchrun's variables, explicit options first, and name what is missing or wrong", () => {
    const env = { RANK: '1', WORLD_SIZE: '4', MASTER_ADDR: 'node0', MASTER_PORT: '29500' };
    expect(processGroupOptionsFromEnv({}, env)).toEqual({
      rank: 1,
      worldSize: 4,
      masterAddr: 'node0',
      masterPort: 29500,
      timeoutMs: 300_000,
      backend: 'gloo',
    });
    expect(processGroupOptionsFromEnv({ rank: 3 }, env).rank).toBe(3);
    expect(() => processGroupOptionsFromEnv({}, { ...env, MASTER_PORT: undefined })).toThrow(
      /masterPort is not given and MASTER_PORT is not set/,
    );
    expect(() => processGroupOptionsFromEnv({}, { ...env, RANK: 'one' })).toThrow(/RANK="one" is not an integer/);
    expect(() => processGroupOptionsFromEnv({}, { ...env, RANK: '4' })).toThrow(/rank must be below worldSize/);
  });
});
