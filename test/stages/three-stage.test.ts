// ULMFiT end to end through the public API on real English text: a language model pretrained on State of
// the Union addresses, fine-tuned on SpamAssassin message bodies, and a spam/ham classifier on top.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  dispose,
  evaluate,
  fineTuneLanguageModel,
  generate,
  load,
  loadEncoder,
  predict,
  pretrainLanguageModel,
  save,
  saveEncoder,
  trainClassifier,
  type AnyClassifier,
  type AnyLanguageModel,
  type TextClassifier,
  type TextLanguageModel,
} from '../../src/index.js';
import { binomialTailAtLeast } from '../helpers/stats.js';
import { sotuTexts, spamAssassinMessages } from '../helpers/real-text.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-stages-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const config = { embSize: 48, hiddenSize: 96, numLayers: 2 };
const batching = { batchSize: 16, seqLen: 32, seed: 1 };

describe('the three stages on real text', () => {
  const messages = spamAssassinMessages(10, 1000);
  const train = messages.filter((m) => !m.valid).map(({ text, label }) => ({ text, label }));
  const valid = messages.filter((m) => m.valid).map(({ text, label }) => ({ text, label }));
  let pretrained: TextLanguageModel;
  let fineTuned: TextLanguageModel;
  let classifier: TextClassifier;

  beforeAll(async () => {
    pretrained = (await pretrainLanguageModel(sotuTexts(60, 4000), {
      ...batching,
      config,
      epochs: 3,
      lr: 1e-2,
      encode: { vocabularyOptions: { minFreq: 2 } },
    })) as TextLanguageModel;
    // The LM sees every message's text, validation messages included: the paper's semi-supervised setting.
    fineTuned = (await fineTuneLanguageModel(
      pretrained,
      messages.map((m) => m.text),
      { ...batching, epochs: 2, lr: 1e-2 },
    )) as TextLanguageModel;
    classifier = (await trainClassifier(fineTuned, train, {
      batchSize: 16,
      seed: 1,
      config: { seqLen: 32 },
      valid,
      epochs: 3,
      maxTokens: 200,
      lr: 2e-2,
    })) as TextClassifier;
  }, 300_000);

  afterAll(() => {
    for (const m of [pretrained, fineTuned, classifier]) if (m) dispose(m);
  });

  it('lowers validation loss from the start to the end of every stage', () => {
    expect(pretrained.history).toHaveLength(3);
    expect(fineTuned.history.map((h) => h.stage)).toEqual([0, 1, 1]);
    expect(classifier.history.map((h) => h.stage)).toEqual([0, 1, 2, 3, 3, 3]);
    for (const m of [pretrained, fineTuned, classifier] as (TextLanguageModel | TextClassifier)[]) {
      const start = m.initialValid!.loss;
      const end = m.history.at(-1)!.valid!.loss;
      expect(end, `${m.kind} validation loss ${start} -> ${end}`).toBeLessThan(start);
    }
    // Fine-tuning starts from the pretrained model: the transferred rows make it better than chance from the start.
    expect(fineTuned.initialValid!.perplexity).toBeLessThan(fineTuned.vocab.length);
    expect(fineTuned.history.at(-1)!.valid!.perplexity).toBeLessThan(fineTuned.initialValid!.perplexity / 2);
  });

  it('classifies held-out messages better than the majority class (binomial test, p < 0.01)', async () => {
    const metrics = await evaluate(classifier, valid, { maxTokens: 200 });
    const n = valid.length;
    const majority = Math.max(...['ham', 'spam'].map((c) => valid.filter((m) => m.label === c).length)) / n;
    const correct = Math.round(metrics.accuracy * n);
    const p = binomialTailAtLeast(correct, n, majority);
    expect(metrics.count).toBe(n);
    expect(metrics.accuracy, `accuracy ${metrics.accuracy} vs majority ${majority}, p = ${p}`).toBeGreaterThan(majority);
    expect(p).toBeLessThan(0.01);
    // The same model through the engine's eval step (the Learner's last validation) agrees.
    expect(metrics.accuracy).toBeCloseTo(classifier.history.at(-1)!.valid!.accuracy, 10);
    expect(metrics.loss).toBeCloseTo(classifier.history.at(-1)!.valid!.loss, 4);
  });

  it('predicts in the caller order, and the model directory round trip predicts the same', async () => {
    const texts = valid.slice(0, 12).map((m) => m.text);
    const forward = await predict(classifier, texts);
    // The same answers in any order: to float32 rounding, as batches of other rows take other BLAS paths.
    const reversed = (await predict(classifier, [...texts].reverse())).reverse();
    expect(reversed.map((p) => p.label)).toEqual(forward.map((p) => p.label));
    reversed.forEach((p, i) => expect(p.probabilities.spam).toBeCloseTo(forward[i]!.probabilities.spam!, 6));
    for (const p of forward) {
      expect(['ham', 'spam']).toContain(p.label);
      expect(p.probabilities.ham! + p.probabilities.spam!).toBeCloseTo(1, 5);
      expect(p.confidence).toBe(p.probabilities[p.label]);
    }
    expect(await predict(classifier, [])).toEqual([]);
    const dir = path.join(tmp, 'classifier');
    save(classifier, dir);
    const loaded = load(dir) as AnyClassifier;
    expect(await predict(loaded, texts)).toEqual(forward);
    dispose(loaded);
    await expect(predict(fineTuned as unknown as AnyClassifier, texts)).rejects.toThrow(/a language model, not a classifier/);
  });

  it('saves an encoder alone and loads it into a classifier', async () => {
    const dir = path.join(tmp, 'encoder');
    saveEncoder(fineTuned, dir);
    const mixed = [...train.filter((m) => m.label === 'ham').slice(0, 32), ...train.filter((m) => m.label === 'spam').slice(0, 32)];
    const fresh = (await trainClassifier(fineTuned, mixed, {
      batchSize: 16,
      seed: 2,
      config: { seqLen: 32 },
      plan: [{ frozenBefore: 3, epochs: 1, lrs: 1e-3 }],
    })) as TextClassifier;
    // Change the encoder, then put the saved one back.
    fresh.model.setTensor('0.module.encoder.weight', new Float32Array(fresh.model.getTensor('0.module.encoder.weight').data.length));
    loadEncoder(fresh, dir);
    expect(fresh.model.getTensor('0.module.encoder.weight').data).toEqual(fineTuned.model.getTensor('0.encoder.weight').data);
    expect(fresh.model.getTensor('0.module.rnns.1.module.weight_ih_l0').data).toEqual(
      fineTuned.model.getTensor('0.rnns.1.module.weight_ih_l0').data,
    );
    // An encoder directory is no model of its own: load says so.
    expect(() => load(dir)).toThrow(/an encoder alone is loaded into a classifier/);
    dispose(fresh);
  });

  it('generates text from the vocabulary, repeatably for a seed', async () => {
    const a = await generate(fineTuned, 'Dear friend, this offer', { words: 20, temperature: 0.8, seed: 3 });
    const b = await generate(fineTuned, 'Dear friend, this offer', { words: 20, temperature: 0.8, seed: 3 });
    expect(a).toEqual(b);
    expect(a.tokens).toHaveLength(20);
    for (const t of a.tokens) {
      expect(fineTuned.vocab).toContain(t);
      expect(['xxunk', 'xxpad']).not.toContain(t);
    }
    expect(a.text.startsWith('Dear friend , this offer')).toBe(true);
    const greedy = await generate(fineTuned, '', { words: 5, temperature: 0 });
    expect(greedy.tokens).toHaveLength(5);
    await expect(generate(classifier as unknown as AnyLanguageModel, 'x')).rejects.toThrow(/a classifier, not a language model/);
  });
});

describe('stage runs: reproducibility, cancellation and resume, both directions', () => {
  const corpus = sotuTexts(12, 1500);
  const tiny = { config: { embSize: 16, hiddenSize: 24, numLayers: 2 }, batchSize: 8, seqLen: 16, seed: 4, epochs: 2, lr: 1e-2 };

  it('gives identical losses for two runs with the same seed', async () => {
    const losses = async () => {
      const steps: number[] = [];
      const m = await pretrainLanguageModel(corpus, { ...tiny, onStep: (e) => steps.push(e.loss) });
      dispose(m);
      return steps;
    };
    const first = await losses();
    expect(first.length).toBeGreaterThan(10);
    expect(await losses()).toEqual(first);
  });

  it('stops on its signal with a checkpoint and resumes to the same weights as an uninterrupted run', async () => {
    const whole = (await pretrainLanguageModel(corpus, tiny)) as TextLanguageModel;
    const dir = path.join(tmp, 'resumed');
    const controller = new AbortController();
    let steps = 0;
    const stopped = (await pretrainLanguageModel(corpus, {
      ...tiny,
      dir,
      signal: controller.signal,
      onStep: () => {
        if (++steps === 7) controller.abort();
      },
    })) as TextLanguageModel;
    expect(stopped.history).toHaveLength(0);
    dispose(stopped);
    let more = 0;
    const resumed = (await pretrainLanguageModel(corpus, { ...tiny, dir, resume: true, onStep: () => more++ })) as TextLanguageModel;
    expect(steps + more).toBeGreaterThan(more);
    expect(resumed.history).toEqual(whole.history);
    for (const p of whole.model.parameters().parameters) {
      expect(resumed.model.getTensor(p.name).data, p.name).toEqual(whole.model.getTensor(p.name).data);
    }
    // The directory now holds the finished run: resuming again trains nothing.
    let again = 0;
    const done = await pretrainLanguageModel(corpus, { ...tiny, dir, resume: true, onStep: () => again++ });
    expect(again).toBe(0);
    for (const m of [whole, resumed, done]) dispose(m);
  });

  it("trains a forward and a backward model with direction 'both'; the pair's prediction averages the two", async () => {
    const lms = await pretrainLanguageModel(corpus, { ...tiny, epochs: 1, direction: 'both', dir: path.join(tmp, 'both-lm') });
    expect(lms.kind).toBe('bidirectional');
    const labelled = spamAssassinMessages(40, 400).map(({ text, label }) => ({ text, label }));
    const pair = await trainClassifier(lms, labelled, {
      direction: 'both',
      batchSize: 8,
      seed: 2,
      config: { seqLen: 16 },
      plan: [{ frozenBefore: 0, epochs: 1, lrs: 1e-2 }],
    });
    if (pair.kind !== 'bidirectional') throw new Error('expected a pair');
    expect(pair.backward.direction).toBe('backward');
    const texts = labelled.slice(0, 5).map((m) => m.text);
    const both = await predict(pair, texts);
    const fwd = await predict(pair.forward, texts);
    const bwd = await predict(pair.backward, texts);
    both.forEach((p, i) => {
      for (const c of ['ham', 'spam'])
        expect(p.probabilities[c]).toBeCloseTo((fwd[i]!.probabilities[c]! + bwd[i]!.probabilities[c]!) / 2, 6);
    });
    // Saved as a pair and loaded back as one.
    save(pair, path.join(tmp, 'pair'));
    const loaded = load(path.join(tmp, 'pair'));
    expect(loaded.kind).toBe('bidirectional');
    expect(await predict(loaded as AnyClassifier, texts)).toEqual(both);
    for (const m of [lms, pair, loaded]) dispose(m);
  });
});
