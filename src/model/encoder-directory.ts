// An encoder on its own (fastai's save_encoder): the embedding and LSTM layers of a language model or a
// classifier, under the language model's key names, in a model directory of kind "awd-lstm-encoder". A
// classifier takes it with loadEncoder / fromLanguageModel like a whole language model directory.
import type { NamedTensor } from '../io/safetensors.js';
import { validate } from '../options.js';
import type { Classifier } from './classifier.js';
import { vocabularyHash, writeModelDirectory } from './directory.js';
import { SaveOptionsSchema, type SaveOptions } from './engine.js';
import type { LanguageModel } from './language-model.js';

/** Writes the encoder of `model` into `dir` (atomically); `options.vocab` is the model's vocabulary. */
export function writeEncoderDirectory(model: LanguageModel | Classifier, dir: string, options: SaveOptions): void {
  const o = validate(SaveOptionsSchema, options, 'save options');
  const { vocabSize, embSize, hiddenSize, numLayers, padId } = model.config;
  if (o.vocab.length !== vocabSize)
    throw new RangeError(`saveEncoder: the vocabulary has ${o.vocab.length} tokens, the model ${vocabSize}`);
  // A classifier's encoder keys carry "0.module."; the language model's "0.".
  const prefix = 'numClasses' in model.config ? '0.module.' : '0.';
  const weights: NamedTensor[] = model
    .parameters()
    .parameters.filter((p) => p.name.startsWith(prefix))
    .map((p) => ({ name: `0.${p.name.slice(prefix.length)}`, ...model.getTensor(p.name) }));
  writeModelDirectory(dir, {
    config: {
      kind: 'awd-lstm-encoder',
      model: { vocabSize, embSize, hiddenSize, numLayers, padId },
      vocabulary: {
        size: o.vocab.length,
        sha256: vocabularyHash(o.vocab),
        direction: o.direction,
        rulesVersion: o.rulesVersion,
        specialTokens: o.specialTokens,
      },
      training: { frozenBefore: 0 },
    },
    vocab: o.vocab,
    weights,
    aliases: { '0.encoder_dp.emb.weight': '0.encoder.weight' },
  });
}
