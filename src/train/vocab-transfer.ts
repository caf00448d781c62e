// Vocabulary transfer: a pretrained language model meets a target corpus whose vocabulary differs. The
// target model gets the pretrained LSTMs as they are, and its embedding (tied to the decoder) and decoder
// bias built by token string: a token the pretrained vocabulary knows copies its row and bias; a new token
// starts from the mean row and the mean bias (fastai's match_embeds).
import type { LanguageModelConfigInput } from '../model/config.js';
import { LanguageModel, type EngineOptionsInput } from '../model/language-model.js';

export interface VocabularyTransfer {
  model: LanguageModel;
  /** Target tokens found in the pretrained vocabulary. */
  known: number;
  /** Target tokens that start from the mean row. */
  added: number;
}

export function transferVocabulary(
  pretrained: LanguageModel,
  pretrainedVocab: readonly string[],
  targetVocab: readonly string[],
  options: EngineOptionsInput = {},
  /** Settings of the new model other than its sizes (e.g. another dropMult); default: the pretrained model's. */
  config: Partial<Omit<LanguageModelConfigInput, 'vocabSize' | 'embSize' | 'hiddenSize' | 'numLayers'>> = {},
): VocabularyTransfer {
  const c = pretrained.config;
  if (pretrainedVocab.length !== c.vocabSize) {
    throw new RangeError(`transferVocabulary: the pretrained vocabulary has ${pretrainedVocab.length} tokens, the model ${c.vocabSize}`);
  }
  const index = new Map<string, number>();
  pretrainedVocab.forEach((t, i) => {
    if (!index.has(t)) index.set(t, i);
  });
  const emb = c.embSize;
  const weight = pretrained.getTensor('0.encoder.weight').data;
  const bias = pretrained.getTensor('1.decoder.bias').data;
  const meanRow = new Float64Array(emb);
  for (let i = 0; i < c.vocabSize; i++) for (let j = 0; j < emb; j++) meanRow[j]! += weight[i * emb + j]! / c.vocabSize;
  let meanBias = 0;
  for (let i = 0; i < c.vocabSize; i++) meanBias += bias[i]! / c.vocabSize;

  const newWeight = new Float32Array(targetVocab.length * emb);
  const newBias = new Float32Array(targetVocab.length);
  let known = 0;
  targetVocab.forEach((token, i) => {
    const from = index.get(token);
    if (from === undefined) {
      newWeight.set(meanRow, i * emb);
      newBias[i] = meanBias;
    } else {
      newWeight.set(weight.subarray(from * emb, (from + 1) * emb), i * emb);
      newBias[i] = bias[from]!;
      known++;
    }
  });
  const model = new LanguageModel({ ...c, ...config, vocabSize: targetVocab.length }, options);
  try {
    for (const p of pretrained.parameters().parameters) {
      if (p.name === '0.encoder.weight' || p.name === '1.decoder.bias') continue;
      model.setTensor(p.name, pretrained.getTensor(p.name).data);
    }
    model.setTensor('0.encoder.weight', newWeight);
    model.setTensor('1.decoder.bias', newBias);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return { model, known, added: targetVocab.length - known };
}
