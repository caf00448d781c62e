import { describe, expect, it } from 'vitest';

import { LanguageModel } from '../../src/index.js';
import { transferVocabulary } from '../../src/train/vocab-transfer.js';

describe('vocabulary transfer', () => {
  it('copies known rows and biases by token string and starts new tokens from the means', () => {
    const pre = new LanguageModel({ vocabSize: 4, embSize: 3, hiddenSize: 5, numLayers: 2 });
    pre.setTensor('0.encoder.weight', Float32Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]));
    pre.setTensor('1.decoder.bias', Float32Array.from([1, 2, 3, 4]));
    const { model, known, added } = transferVocabulary(pre, ['xxunk', 'xxpad', 'the', 'cat'], ['xxunk', 'xxpad', 'cat', 'dog', 'the']);
    expect([known, added]).toEqual([4, 1]);
    expect(model.config.vocabSize).toBe(5);
    expect([...model.getTensor('0.encoder.weight').data]).toEqual([0, 1, 2, 3, 4, 5, 9, 10, 11, 4.5, 5.5, 6.5, 6, 7, 8]);
    expect([...model.getTensor('1.decoder.bias').data]).toEqual([1, 2, 4, 2.5, 3]);
    // The LSTMs come over unchanged.
    for (const name of ['0.rnns.0.weight_hh_l0_raw', '0.rnns.1.module.weight_ih_l0', '0.rnns.1.module.bias_hh_l0']) {
      expect(model.getTensor(name).data).toEqual(pre.getTensor(name).data);
    }
    expect(() => transferVocabulary(pre, ['a'], ['a'])).toThrow(/pretrained vocabulary has 1 tokens, the model 4/);
    model.dispose();
    pre.dispose();
  });
});
