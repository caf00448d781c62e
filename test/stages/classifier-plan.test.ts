// A classifier on a small labelled set: minStepsPerEpoch makes an epoch several passes over the set (each
// its own shuffle), so every stage of the paper's plan gets that many steps; a 100-label set at batch 64
// otherwise gets one step per unfreezing stage.
import { describe, expect, it } from 'vitest';

import { pretrainLanguageModel, trainClassifier, type TextLanguageModel } from '../../src/index.js';
import { sotuTexts } from '../helpers/real-text.js';

describe("the classifier's epochs on a small labelled set", () => {
  it('pass over the set until they have minStepsPerEpoch steps, validated once an epoch', async () => {
    const texts = sotuTexts(4, 1500);
    const lm = (await pretrainLanguageModel(texts, {
      config: { embSize: 8, hiddenSize: 12, numLayers: 2 },
      batchSize: 4,
      seqLen: 16,
      epochs: 1,
      lr: 1e-2,
      seed: 1,
    })) as TextLanguageModel;
    const labelled = Array.from({ length: 16 }, (_, i) => ({ text: texts[i % 4]!.slice(i * 50, i * 50 + 300), label: i % 2 ? 'b' : 'a' }));
    const run = async (options: { minStepsPerEpoch?: number }) => {
      const steps: number[] = [0, 0, 0, 0];
      const epochs: number[] = [];
      const clas = await trainClassifier(lm, labelled, {
        batchSize: 8,
        validFraction: 0.25,
        seed: 1,
        epochs: 2,
        config: { seqLen: 16 },
        ...options,
        onStep: (e) => void steps[e.stage]!++,
        onEpoch: (e) => void epochs.push(e.stage),
      });
      if (clas.kind === 'classifier') clas.model.dispose();
      return { steps, epochs };
    };
    // 12 training documents at batch 8, the last partial batch dropped: one step a pass.
    expect(await run({ minStepsPerEpoch: 0 })).toEqual({ steps: [1, 1, 1, 2], epochs: [0, 1, 2, 3, 3] });
    expect(await run({ minStepsPerEpoch: 3 })).toEqual({ steps: [3, 3, 3, 6], epochs: [0, 1, 2, 3, 3] });
    // The default: 50.
    expect(await run({})).toEqual({ steps: [50, 50, 50, 100], epochs: [0, 1, 2, 3, 3] });
    lm.model.dispose();
  });
});
