// ULMFiT's first two stages: pretraining a language model on a general-domain corpus, and fine-tuning it on
// the target task's text (the target vocabulary takes the pretrained rows by token string; the embedding
// and decoder train alone first, then every group with discriminative rates and STLR).
import type { EncodedCorpus } from '../data/encode-corpus.js';
import { LmBatches } from '../data/lm-batches.js';
import type { TokenStore } from '../data/token-store.js';
import { LanguageModel } from '../model/language-model.js';
import { validate } from '../options.js';
import { PAD } from '../text/special-tokens.js';
import { Learner } from '../train/learner.js';
import type { UnfreezeStageInput } from '../train/unfreezing.js';
import { transferVocabulary } from '../train/vocab-transfer.js';
import { encodeTexts, holdOut, pickDocuments, type TextsInput } from './inputs.js';
import { claimModelDirectories, directionsOf, runFields, runStage } from './run-stage.js';
import { FineTuneOptionsSchema, PretrainOptionsSchema, type FineTuneOptions, type PretrainOptions } from './stage-options.js';
import { dispose, load, type AnyLanguageModel, type Direction, type TextLanguageModel } from './text-models.js';

type LmStageOptions = ReturnType<typeof PretrainOptionsSchema.parse> | ReturnType<typeof FineTuneOptionsSchema.parse>;

interface LmData {
  corpus: EncodedCorpus;
  train: TokenStore;
  valid: TokenStore;
}

// The corpus, encoded, split into training and validation stores.
async function prepare(input: TextsInput, o: LmStageOptions, vocabulary: readonly string[] | undefined): Promise<LmData> {
  const corpus = await encodeTexts(input, { ...(vocabulary ? { vocabulary } : {}), encode: o.encode }, 'corpus');
  if (o.valid) {
    const valid = await encodeTexts(o.valid, { vocabulary: corpus.vocabulary.tokens, encode: o.encode }, 'valid');
    return { corpus, train: corpus.store, valid: valid.store };
  }
  const split = holdOut(corpus.store.documentCount, o.validFraction, o.seed);
  return {
    corpus,
    train: pickDocuments(corpus.store, null, split.train).store,
    valid: pickDocuments(corpus.store, null, split.valid).store,
  };
}

// Trains one language model per direction on the data, each starting from create(direction).
async function trainLanguageModels(
  data: LmData,
  o: LmStageOptions,
  create: (direction: Direction) => LanguageModel,
  plan: (model: LanguageModel) => UnfreezeStageInput[],
): Promise<AnyLanguageModel> {
  const vocab = data.corpus.vocabulary.tokens;
  const rulesVersion = data.corpus.rulesVersion;
  const trained: TextLanguageModel[] = [];
  try {
    for (const { direction, dir } of directionsOf(o.direction, o.dir)) {
      // Each rank of a process group reads its own rows of the stream (of the held-out one too).
      const shard = { rank: o.processGroup?.rank ?? 0, worldSize: o.processGroup?.worldSize ?? 1 };
      const batches = new LmBatches(data.train, {
        batchSize: o.batchSize,
        seqLen: o.seqLen,
        ...(o.variableBptt ? { variableBptt: {} } : {}),
        seed: o.seed,
        direction,
        ...shard,
      });
      // Validation rows at least seqLen long where the held-out text allows.
      const validRows = Math.max(1, Math.min(o.batchSize, Math.floor((data.valid.tokenCount - 1) / (o.seqLen * shard.worldSize))));
      const valid = new LmBatches(data.valid, { batchSize: validRows, seqLen: o.seqLen, shuffle: false, direction, ...shard });
      const source = {
        stepsPerEpoch: batches.batchesPerEpoch,
        stepsIn: (e: number) => batches.batchesIn(e),
        epoch: (e: number) => batches.epoch(e),
      };
      const { model, history, initialValid, lrFinder } = await runStage({
        ...runFields(o, { direction, dir }, vocab),
        create: () => create(direction),
        open: (d) => LanguageModel.load(d, { optimizer: true, device: o.device, precision: o.precision, lossChunkRows: o.lossChunkRows }),
        learner: (m, save) =>
          Learner.languageModel(
            m,
            source,
            () => valid.epoch(0),
            save ? { vocab: [...vocab], direction, rulesVersion } : undefined,
            o.processGroup ?? null,
          ),
        plan,
      });
      trained.push({ kind: 'language-model', model, vocab: [...vocab], direction, rulesVersion, history, initialValid, lrFinder });
    }
  } catch (err) {
    for (const t of trained) t.model.dispose();
    throw err;
  }
  return trained.length === 2 ? { kind: 'bidirectional', forward: trained[0]!, backward: trained[1]! } : trained[0]!;
}

/**
 * Stage 1: a language model trained from scratch on a general-domain corpus (its own vocabulary). With
 * direction 'both', a forward and a backward model.
 */
export async function pretrainLanguageModel(corpus: TextsInput, options: PretrainOptions = {}): Promise<AnyLanguageModel> {
  const o = validate(PretrainOptionsSchema, options, 'pretrainLanguageModel options');
  claimModelDirectories(o);
  const data = await prepare(corpus, o, undefined);
  const padId = data.corpus.vocabulary.id(PAD);
  return trainLanguageModels(
    data,
    o,
    () =>
      new LanguageModel(
        { ...o.config, vocabSize: data.corpus.vocabulary.size, padId },
        { device: o.device, precision: o.precision, lossChunkRows: o.lossChunkRows },
      ),
    (model) => {
      const n = model.groups().length;
      return o.plan ?? [{ frozenBefore: 0, epochs: o.epochs, lrs: { lrs: Array.from({ length: n }, () => o.lr) }, schedule: o.schedule }];
    },
  );
}

// The pretrained model of each direction the stage trains.
function pretrainedFor(pretrained: AnyLanguageModel, direction: Direction): TextLanguageModel {
  const model = pretrained.kind === 'bidirectional' ? pretrained[direction] : pretrained;
  if (model.direction !== direction) {
    throw new RangeError(
      `fineTuneLanguageModel: the pretrained model reads ${model.direction}; a ${direction} model needs a ${direction} pretrained one`,
    );
  }
  return model;
}

/**
 * Stage 2: the pretrained language model fine-tuned on the target corpus. The target vocabulary (built
 * from the target corpus) takes the pretrained rows by token string, new tokens the mean row; the embedding
 * and decoder first train alone for `frozenEpochs`, then every group for `epochs` with STLR and rates
 * falling by 2.6 per group below `lr`. `pretrained` is a model or its directory.
 */
export async function fineTuneLanguageModel(
  pretrained: AnyLanguageModel | string,
  target: TextsInput,
  options: FineTuneOptions = {},
): Promise<AnyLanguageModel> {
  const o = validate(FineTuneOptionsSchema, options, 'fineTuneLanguageModel options');
  claimModelDirectories(o);
  const opened = typeof pretrained === 'string' ? load(pretrained) : null;
  try {
    const source = opened ?? (pretrained as AnyLanguageModel);
    if (source.kind === 'classifier' || (source.kind === 'bidirectional' && source.forward.kind !== 'language-model')) {
      throw new RangeError(
        `fineTuneLanguageModel: ${typeof pretrained === 'string' ? pretrained : 'the model'} is a classifier, not a language model`,
      );
    }
    const lm = source as AnyLanguageModel;
    const directions = directionsOf(o.direction, undefined).map((d) => pretrainedFor(lm, d.direction));
    const first = directions[0]!;
    const data = await prepare(target, o, o.vocabulary === 'pretrained' ? first.vocab : undefined);
    const targetVocab = data.corpus.vocabulary.tokens;
    const padId = targetVocab.indexOf(PAD);
    return await trainLanguageModels(
      data,
      o,
      (direction) =>
        transferVocabulary(
          pretrainedFor(lm, direction).model,
          pretrainedFor(lm, direction).vocab,
          targetVocab,
          {
            device: o.device,
            precision: o.precision,
            lossChunkRows: o.lossChunkRows,
          },
          { ...(o.dropMult !== undefined ? { dropMult: o.dropMult } : {}), ...(padId >= 0 ? { padId } : {}) },
        ).model,
      (model) => {
        if (o.plan) return o.plan;
        const n = model.groups().length;
        const stages: UnfreezeStageInput[] = [];
        if (o.frozenEpochs > 0) stages.push({ frozenBefore: n - 1, epochs: o.frozenEpochs, lrs: o.lr, schedule: o.schedule });
        stages.push({ frozenBefore: 0, epochs: o.epochs, lrs: { top: o.lr, factor: 2.6 }, schedule: o.schedule });
        return stages;
      },
    );
  } finally {
    if (opened) dispose(opened);
  }
}
