// The classifier's plan on a small labelled set: minStepsPerStage gives each stage whole epochs until it has
// that many steps (a 100-label set at batch 64 otherwise gets one step per unfreezing stage).
import { describe, expect, it } from 'vitest';

import { pretrainLanguageModel, trainClassifier, type TextLanguageModel } from '../../src/index.js';
import { sotuTexts } from '../helpers/real-text.js';

describe("the classifier's plan on a small labelled set", () => {
  it('runs whole epochs until each stage has minStepsPerStage steps', async () => {
    const texts = sotuTexts(4, 1500);
    const lm = (await pretrainLanguageModel(texts, { config: { embSize: 8, hiddenSize: 12, numLayers: 2 }, batchSize: 4, seqLen: 16, epochs: 1, lr: 1e-2, seed: 1 })) as TextLanguageModel;
    const labelled = Array.from({ length: 16 }, (_, i) => ({ text: texts[i % 4]!.slice(i * 50, i * 50 + 300), label: i % 2 ? 'b' : 'a' }));
    const epochsPerStage = async (options: { minStepsPerStage?: number }) => {
      const stages: number[] = [];
      const clas = await trainClassifier(lm, labelled, { batchSize: 8, validFraction: 0.25, seed: 1, epochs: 2, config: { seqLen: 16 }, ...options, onEpoch: (e) => void stages.push(e.stage) });
      if (clas.kind === 'classifier') clas.model.dispose();
      return [0, 1, 2, 3].map((s) => stages.filter((x) => x === s).length);
    };
    // 12 training documents at batch 8 (the last partial batch dropped): one step an epoch.
    expect(await epochsPerStage({})).toEqual([1, 1, 1, 2]);
    expect(await epochsPerStage({ minStepsPerStage: 3 })).toEqual([3, 3, 3, 3]);
    lm.model.dispose();
  });
});
