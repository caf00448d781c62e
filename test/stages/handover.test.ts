// The hand-over from language model to classifier, the step where a transferred classifier could lose what
// its language model learned: the classifier must start from exactly the fine-tuned encoder (in memory and
// from a directory), and read its labelled text with exactly the ids the language model was trained on.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { Classifier, encodeLabelled, encodeTexts, pretrainLanguageModel, type TextLanguageModel } from '../../src/index.js';
import { sotuTexts } from '../helpers/real-text.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-handover-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the hand-over from language model to classifier', () => {
  let lm: TextLanguageModel;
  const texts = sotuTexts(8, 3000);

  beforeAll(async () => {
    lm = (await pretrainLanguageModel(texts, {
      config: { embSize: 16, hiddenSize: 24, numLayers: 2 },
      batchSize: 8,
      seqLen: 16,
      epochs: 1,
      lr: 1e-2,
      seed: 1,
      encode: { vocabularyOptions: { minFreq: 2 } },
    })) as TextLanguageModel;
  });
  afterAll(() => lm.model.dispose());

  const encoderNames = (numLayers: number) => [
    'encoder.weight',
    ...Array.from({ length: numLayers }, (_, l) =>
      ['weight_hh_l0_raw', 'module.weight_ih_l0', 'module.bias_ih_l0', 'module.bias_hh_l0'].map((p) => `rnns.${l}.${p}`),
    ).flat(),
  ];

  it("starts from exactly the trained encoder's 1 + 4 x layers tensors, in memory and from its directory", () => {
    const { vocabSize, embSize, hiddenSize, numLayers, padId } = lm.model.config;
    const inMemory = new Classifier({ vocabSize, embSize, hiddenSize, numLayers, padId, numClasses: 2 });
    inMemory.copyEncoder(lm.model);
    const dir = path.join(tmp, 'lm');
    lm.model.save(dir, { vocab: lm.vocab });
    const { model: fromDir } = Classifier.fromLanguageModel(dir, { numClasses: 2, vocab: lm.vocab });
    const names = encoderNames(numLayers);
    expect(names).toHaveLength(9);
    for (const name of names) {
      const trained = lm.model.getTensor(`0.${name}`).data;
      // Training moved it: an untrained copy would not pass for the trained one.
      expect(trained.some((v) => v !== 0)).toBe(true);
      expect(inMemory.getTensor(`0.module.${name}`).data, `in memory: ${name}`).toEqual(trained);
      expect(fromDir.getTensor(`0.module.${name}`).data, `from the directory: ${name}`).toEqual(trained);
    }
    inMemory.dispose();
    fromDir.dispose();
  });

  it("reads the classifier's text with the language model's own ids, unknown words as xxunk", async () => {
    const labelled = [
      { text: texts[0]!.slice(0, 400), label: 'a' },
      { text: `${texts[1]!.slice(0, 200)} zyzzogeton quaggle`, label: 'b' },
    ];
    const asClassifier = await encodeLabelled(labelled, { vocabulary: lm.vocab });
    const asLanguageModel = await encodeTexts(
      labelled.map((d) => d.text),
      { vocabulary: lm.vocab },
    );
    expect(asClassifier.vocabulary.tokens).toEqual(lm.vocab);
    for (let d = 0; d < 2; d++) expect(Array.from(asClassifier.store.document(d))).toEqual(Array.from(asLanguageModel.store.document(d)));
    const unk = lm.vocab.indexOf('xxunk');
    expect(unk).toBeGreaterThanOrEqual(0);
    const second = Array.from(asClassifier.store.document(1));
    expect(second.slice(-2)).toEqual([unk, unk]);
    // Every id is inside the language model's vocabulary, and most of the LM's own text is known to it.
    const first = Array.from(asClassifier.store.document(0));
    expect(first.every((id) => id >= 0 && id < lm.vocab.length)).toBe(true);
    expect(first.filter((id) => id === unk).length / first.length).toBeLessThan(0.2);
  });
});
