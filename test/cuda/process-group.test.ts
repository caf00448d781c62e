// Process groups on the GPU (bench/gpu.sh runs test/cuda on a GPU machine): a group of one rank over NCCL
// (Gloo where the build has no NCCL) takes CUDA models: an attached language model steps exactly as a
// detached one, a classifier's synchronised BatchNorm gives the plain BatchNorm's loss, and allReduce works in
// both precisions. Skips where LibTorch sees no GPU; ULMFIT_CUDA_TEST_DEVICE=cpu dry-runs it on the CPU (Gloo).

import { describe, expect, it } from 'vitest';

import { Classifier, info, LanguageModel, ProcessGroup, setSeed } from '../../src/index.js';
import { freePort } from '../helpers/free-port.js';

const device = process.env.ULMFIT_CUDA_TEST_DEVICE ?? 'cuda';
const runs = (info().cuda.available || device === 'cpu') && info().distributed.gloo;
const backend = device !== 'cpu' && info().distributed.nccl ? 'nccl' : 'gloo';

describe.skipIf(!runs)(`a process group of one on ${device} (${backend})`, () => {
  it('steps an attached language model and classifier as detached ones, and sums in fp32 and fp64', async () => {
    const group = await ProcessGroup.connect({
      rank: 0,
      worldSize: 1,
      masterAddr: '127.0.0.1',
      masterPort: await freePort(),
      backend,
      timeoutMs: 60_000,
    });
    try {
      expect(Array.from(await group.allReduce(Float64Array.of(1.5, -2)))).toEqual([1.5, -2]);
      expect(Array.from(await group.allReduce(Float32Array.of(3)))).toEqual([3]);

      const config = { vocabSize: 40, embSize: 8, hiddenSize: 12, numLayers: 2, dropMult: 0 };
      const batch = {
        input: Int32Array.from({ length: 20 }, (_, i) => (i * 7) % 40),
        target: Int32Array.from({ length: 20 }, (_, i) => (i * 7 + 1) % 40),
        batchSize: 4,
        seqLen: 5,
      };
      const hyper = { groups: [0, 1, 2].map(() => ({ lr: 0.01 })), clip: 0 };
      const lms = [0, 1].map(() => {
        setSeed(7);
        return new LanguageModel(config, { device });
      });
      await group.broadcastModel(lms[0]!);
      group.attach(lms[0]!);
      const [a, b] = [await lms[0]!.trainStep(batch, hyper), await lms[1]!.trainStep(batch, hyper)];
      expect(a.loss).toBeCloseTo(b.loss, 6);
      const name = '0.rnns.1.module.weight_ih_l0';
      const [wa, wb] = [lms[0]!.getTensor(name).data, lms[1]!.getTensor(name).data];
      expect(Math.max(...wa.map((v, i) => Math.abs(v - wb[i]!)))).toBeLessThan(1e-6);

      // Four documents of 6, 6, 5 and 4 tokens in the engine's layout (the shorter ones padded at the end).
      const lengths = Int32Array.of(6, 6, 5, 4);
      const tokens = Int32Array.from({ length: 24 }, (_, i) => (i % 6 < lengths[Math.floor(i / 6)]! ? 2 + ((i * 5) % 37) : 1));
      const docs = { tokens, rows: 4, length: 6, lengths, labels: Int32Array.of(0, 1, 0, 1) };
      const classifiers = [0, 1].map(() => {
        setSeed(9);
        return new Classifier({ ...config, numClasses: 2, headDropouts: [0] }, { device });
      });
      group.attach(classifiers[0]!); // its head's BatchNorm takes the group's statistics
      const step = { groups: [0, 1, 2, 3].map(() => ({ lr: 0.01 })) };
      const [ca, cb] = [await classifiers[0]!.trainStep(docs, step), await classifiers[1]!.trainStep(docs, step)];
      expect(Math.abs(ca.loss - cb.loss)).toBeLessThan(1e-5);
      for (const m of [...lms, ...classifiers]) m.dispose();
    } finally {
      group.dispose();
    }
  }, 120_000);
});
