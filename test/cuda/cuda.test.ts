// The CUDA path against the CPU fp32 golden values (test/golden/*.json, from PyTorch): logits, loss and every
// gradient of the language model and the classifier, the optimizer steps, bf16, saving on the GPU and
// loading on the CPU, and an out-of-memory error the process survives. Skips where LibTorch sees no GPU.
// ULMFIT_CUDA_REPORT=<file> writes every comparison's relative error there as JSON (bench/gpu.sh keeps it);
// ULMFIT_CUDA_TEST_DEVICE=cpu dry-runs the same checks on the CPU (all but out-of-memory).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Classifier, info, LanguageModel, setAllowTf32, type ClassifierBatchInput, type LmBatch } from '../../src/index.js';
import { randn } from '../../src/ops.js';
import { setDropoutMasks } from '../../src/testing.js';

const cuda = info().cuda.available;
const device = process.env.ULMFIT_CUDA_TEST_DEVICE ?? 'cuda';
const runs = cuda || device === 'cpu';

// Relative errors allowed: fp32 with TF32 off matches the CPU to rounding; bf16 to its 8-bit mantissa. The
// classifier's gradients get more room: its golden batch is 4 documents, and BatchNorm's backward over 4
// rows amplifies the smallest difference in the pooled features into every gradient below it (on an H200:
// 0.6-1.1e-4 in fp32; in bf16 the CPU's own bf16 is 5-7% off, cuDNN's 6-20%). Loss, probabilities and
// BatchNorm statistics keep the plain bounds.
const TOLERANCE = { fp32: 1e-4, bf16: 2e-2, classifierFp32: 3e-4, classifierBf16: 0.25 } as const;
type Precision = 'fp32' | 'bf16';

const report: { check: string; relativeError: number; tolerance: number }[] = [];

/** ||ours - golden|| / ||golden|| (the absolute error where golden is all zeros), and every value finite. */
function expectNear(
  ours: ArrayLike<number>,
  golden: ArrayLike<number>,
  precision: Precision,
  what: string,
  tolerance: number = TOLERANCE[precision],
): void {
  expect(ours.length, `${what}: length`).toBe(golden.length);
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < golden.length; i++) {
    expect(Number.isFinite(ours[i]!), `${what}[${i}] = ${ours[i]}`).toBe(true);
    diff += (ours[i]! - golden[i]!) ** 2;
    norm += golden[i]! ** 2;
  }
  const relativeError = norm > 0 ? Math.sqrt(diff / norm) : Math.sqrt(diff);
  report.push({ check: `${precision} ${what}`, relativeError, tolerance });
  // Soft: every comparison of a test is made and reported, not only the first that fails.
  expect.soft(relativeError, `${what}: relative error`).toBeLessThanOrEqual(tolerance);
}

const readGolden = (name: string) => JSON.parse(fs.readFileSync(new URL(`../golden/${name}`, import.meta.url), 'utf8'));
type Tensor = { shape: number[]; data: number[] };
const tensor = (t: Tensor) => ({ shape: t.shape, data: Float32Array.from(t.data) });

describe.skipIf(!runs)(`${device} against the CPU fp32 golden values`, () => {
  const lm = readGolden('lm.json');
  const clas = readGolden('clas.json');

  beforeAll(() => setAllowTf32(false));
  afterAll(() => {
    if (process.env.ULMFIT_CUDA_REPORT) fs.writeFileSync(process.env.ULMFIT_CUDA_REPORT, JSON.stringify(report, null, 1));
  });

  const lmModel = (precision: Precision) => {
    const model = new LanguageModel({ ...lm.config, dropMult: 0 }, { device, precision, lossChunkRows: 4 });
    for (const [name, values] of Object.entries<number[]>(lm.weights)) model.setTensor(name, Float32Array.from(values));
    return model;
  };
  const lmBatch = (i: number): LmBatch => ({
    input: Int32Array.from(lm.batches[i].input),
    target: Int32Array.from(lm.batches[i].target),
    batchSize: lm.batchSize,
    seqLen: lm.seqLen,
  });
  const lmNoUpdate = () => lm.optimizer.groups.map(() => ({ lr: 0, weightDecay: 0 }));

  for (const precision of ['fp32', 'bf16'] as const) {
    it(`language model, ${precision}: loss and every gradient of one forward and backward`, async () => {
      const model = lmModel(precision);
      const r = await model.trainStep(lmBatch(0), { groups: lmNoUpdate(), clip: 0, alpha: lm.alpha, beta: lm.beta });
      expectNear([r.crossEntropy, r.loss], [lm.forward.crossEntropy, lm.forward.loss], precision, 'LM cross-entropy, loss');
      for (const [name, grad] of Object.entries<number[]>(lm.grads))
        expectNear(model.getGrad(name)!.data, grad, precision, `LM grad ${name}`);
      model.dispose();
    });
  }

  it('language model, fp32: training-mode maths with fixed dropout masks', async () => {
    const model = lmModel('fp32');
    const m = lm.masked.masks;
    setDropoutMasks(model, {
      embed: tensor(m.embed),
      input: tensor(m.input),
      weight: m.weight.map(tensor),
      hidden: m.hidden.map(tensor),
      output: tensor(m.output),
    });
    const r = await model.trainStep(lmBatch(0), { groups: lmNoUpdate(), clip: 0, alpha: lm.alpha, beta: lm.beta });
    expectNear([r.crossEntropy, r.loss], [lm.masked.crossEntropy, lm.masked.loss], 'fp32', 'LM masked loss');
    for (const [name, grad] of Object.entries<number[]>(lm.masked.grads))
      expectNear(model.getGrad(name)!.data, grad, 'fp32', `LM masked grad ${name}`);
    model.dispose();
  });

  it('language model, fp32: logits after the last token and eval-mode cross-entropy', async () => {
    const model = lmModel('fp32');
    const r = await model.evalStep(lmBatch(0));
    expectNear([r.loss / r.tokens], [lm.forward.crossEntropy], 'fp32', 'LM eval cross-entropy');
    // The same weights on the CPU give the reference logits (the golden file holds no logits of its own).
    const cpu = new LanguageModel({ ...lm.config, dropMult: 0 }, { lossChunkRows: 4 });
    for (const [name, values] of Object.entries<number[]>(lm.weights)) cpu.setTensor(name, Float32Array.from(values));
    const b = lmBatch(0);
    const onCuda = await model.nextTokenLogits(b.input, b.batchSize);
    const onCpu = await cpu.nextTokenLogits(b.input, b.batchSize);
    expectNear(onCuda.logits, onCpu.logits, 'fp32', 'LM next-token logits');
    model.dispose();
    cpu.dispose();
  });

  it('language model, fp32: three AdamW steps with per-group rates, clipping and a frozen group', async () => {
    const model = lmModel('fp32');
    const o = lm.optimizer;
    model.freezeTo(o.frozenBefore);
    for (let s = 0; s < o.steps.length; s++) {
      const r = await model.trainStep(lmBatch(s + 1), { groups: o.groups, eps: o.eps, clip: o.clip, alpha: lm.alpha, beta: lm.beta });
      expect(r.skipped).toBe(false);
      const want = o.steps[s];
      expectNear([r.crossEntropy, r.loss, r.gradNorm], [want.crossEntropy, want.loss, want.gradNorm], 'fp32', `LM step ${s + 1}`);
    }
    for (const [name, values] of Object.entries<number[]>(o.after))
      expectNear(model.getTensor(name).data, values, 'fp32', `LM after 3 steps: ${name}`);
    model.dispose();
  });

  const clasModel = (precision: Precision) => {
    const c = clas.config;
    const model = new Classifier(
      {
        vocabSize: c.vocabSize,
        numClasses: c.nClasses,
        embSize: c.embSize,
        hiddenSize: c.hiddenSize,
        numLayers: c.numLayers,
        padId: c.padId,
        headHidden: c.headHidden,
        headDropouts: c.headHidden.map(() => 0),
        dropMult: 0,
        seqLen: c.seqLen,
        maxLen: c.maxLen,
      },
      { device, precision },
    );
    for (const [name, values] of Object.entries<number[]>(clas.weights)) model.setTensor(name, Float32Array.from(values));
    return model;
  };
  const clasBatch = (i: number): ClassifierBatchInput => {
    const b = clas.batches[i];
    return {
      tokens: Int32Array.from(b.tokens),
      rows: b.rows,
      length: b.length,
      lengths: Int32Array.from(b.lengths),
      labels: Int32Array.from(b.labels),
    };
  };
  const clasNoUpdate = () => Array.from({ length: 5 }, () => ({ lr: 0, weightDecay: 0 }));

  for (const precision of ['fp32', 'bf16'] as const) {
    it(`classifier, ${precision}: loss, every gradient and the BatchNorm statistics of a training step`, async () => {
      const model = clasModel(precision);
      const r = await model.trainStep(clasBatch(0), { groups: clasNoUpdate(), clip: 0 });
      expectNear([r.loss], [clas.plain.loss], precision, 'classifier loss');
      const gradTolerance = precision === 'bf16' ? TOLERANCE.classifierBf16 : TOLERANCE.classifierFp32;
      for (const [name, grad] of Object.entries<number[]>(clas.plain.grads)) {
        expectNear(model.getGrad(name)!.data, grad, precision, `classifier grad ${name}`, gradTolerance);
      }
      for (const [name, values] of Object.entries<number[]>(clas.plain.buffers))
        expectNear(model.getTensor(name).data, values, precision, `classifier buffer ${name}`);
      model.dispose();
    });
  }

  it('classifier, fp32: fixed dropout masks, evaluation and two AdamW steps', async () => {
    const masked = clasModel('fp32');
    const m = clas.masked.masks;
    setDropoutMasks(masked, {
      embed: tensor(m.embed),
      input: tensor(m.input),
      weight: m.weight.map(tensor),
      hidden: m.hidden.map(tensor),
      head: m.head.map(tensor),
    });
    const r = await masked.trainStep(clasBatch(0), { groups: clasNoUpdate(), clip: 0 });
    expectNear([r.loss], [clas.masked.loss], 'fp32', 'classifier masked loss');
    for (const [name, grad] of Object.entries<number[]>(clas.masked.grads)) {
      expectNear(masked.getGrad(name)!.data, grad, 'fp32', `classifier masked grad ${name}`, TOLERANCE.classifierFp32);
    }
    masked.dispose();

    const model = clasModel('fp32');
    for (const e of clas.eval) {
      const p = await model.predict({ ...clasBatch(e.batch), labels: null });
      expectNear(p.probabilities, e.probabilities, 'fp32', `classifier probabilities, batch ${e.batch}`);
      const ev = await model.evalStep(clasBatch(e.batch));
      expectNear([ev.loss], [e.lossSum], 'fp32', `classifier eval loss, batch ${e.batch}`);
      expect(ev.correct).toBe(e.correct);
    }
    const o = clas.optimizer;
    model.freezeTo(o.frozenBefore);
    for (let s = 0; s < o.steps.length; s++) {
      const step = await model.trainStep(clasBatch(o.batches[s]), { groups: o.groups, eps: o.eps, clip: o.clip });
      expect(step.skipped).toBe(false);
      expectNear(
        [step.loss, step.gradNorm],
        [o.steps[s].loss, o.steps[s].gradNorm],
        'fp32',
        `classifier step ${s + 1}`,
        TOLERANCE.classifierFp32,
      );
    }
    for (const [name, values] of Object.entries<number[]>(o.after))
      expectNear(model.getTensor(name).data, values, 'fp32', `classifier after: ${name}`);
    model.dispose();
  });

  it('saves on the GPU and loads on the CPU: the same weights, optimizer state and evaluation', async () => {
    const model = lmModel('fp32');
    await model.trainStep(lmBatch(1), { groups: lm.optimizer.groups, clip: 0.1 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-cuda-'));
    const vocab = Array.from({ length: lm.config.vocabSize }, (_, i) => `t${i}`);
    model.save(path.join(dir, 'lm'), { vocab, optimizer: true });
    const { model: cpu } = LanguageModel.load(path.join(dir, 'lm'), { device: 'cpu', optimizer: true });
    for (const { name } of model.parameters().parameters) expect(cpu.getTensor(name).data, name).toEqual(model.getTensor(name).data);
    const onCuda = await model.evalStep(lmBatch(2));
    const onCpu = await cpu.evalStep(lmBatch(2));
    expectNear([onCpu.loss], [onCuda.loss], 'fp32', 'eval loss after load on the CPU');
    model.dispose();
    cpu.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // On the CPU the allocation could succeed lazily and bring in the kernel's OOM killer instead.
  it.skipIf(device === 'cpu')('an out-of-memory error is ERR_ULMFIT_OUT_OF_MEMORY and the process goes on', async () => {
    // 256 GiB in one tensor, and a decoder chunk of 2^16 rows x 10^6 words (256 GB of logits): more than any GPU holds.
    await expect(randn({ shape: [1 << 18, 1 << 18], device })).rejects.toMatchObject({ code: 'ERR_ULMFIT_OUT_OF_MEMORY' });
    const huge = new LanguageModel({ vocabSize: 1_000_000, embSize: 16, hiddenSize: 16, numLayers: 1 }, { device, lossChunkRows: 1 << 16 });
    const rows = 256;
    const seq = 256;
    const ids = Int32Array.from({ length: rows * seq }, (_, i) => (i * 7919) % 1_000_000);
    await expect(
      huge.trainStep({ input: ids, target: ids, batchSize: rows, seqLen: seq }, { groups: [{ lr: 1e-3 }, { lr: 1e-3 }] }),
    ).rejects.toMatchObject({
      code: 'ERR_ULMFIT_OUT_OF_MEMORY',
    });
    huge.dispose();
    const model = lmModel('fp32');
    const r = await model.trainStep(lmBatch(0), { groups: lmNoUpdate(), clip: 0, alpha: lm.alpha, beta: lm.beta });
    expectNear([r.loss], [lm.forward.loss], 'fp32', 'LM loss after an out-of-memory error');
    model.dispose();
  });
});

describe.skipIf(runs)('CUDA (no GPU here)', () => {
  it('skips: LibTorch sees no CUDA device', () => {
    expect(info().cuda.available).toBe(false);
  });
});
