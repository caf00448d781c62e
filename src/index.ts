// ulmfit: ULMFiT for Node.js on LibTorch. The public API.
export {
  LibTorchError,
  findCandidates as findLibTorch,
  discover as discoverLibTorch,
  provision as provisionLibTorch,
} from '../scripts/libtorch.js';
export type { Candidate, LibTorchInfo } from '../scripts/libtorch.js';
export { PlatformError } from '../scripts/platform.js';
export { cpuFeatures, type CpuFeatures } from './cpu.js';
export { DeviceSchema, parseDevice, type Device } from './device.js';
export { NativeLoadError } from './native/loader.js';
export { benchmarkMatmul, matmul, BenchmarkMatmulSchema, type BenchmarkMatmulOptions, type MatmulInput } from './ops.js';
export {
  ClassifierConfigSchema,
  LanguageModelConfigSchema,
  type ClassifierConfig,
  type ClassifierConfigInput,
  type LanguageModelConfig,
  type LanguageModelConfigInput,
} from './model/config.js';
export {
  GroupHyperSchema,
  type AppliedGroupHyper,
  type GroupInfo,
  type ModelSnapshot,
  type ParameterInfo,
  type ParameterList,
  type SaveOptions,
} from './model/engine.js';
export {
  EngineOptionsSchema,
  LanguageModel,
  StepHyperSchema,
  type EvalStepResult,
  type LmBatch,
  type StepHyperInput,
  type TrainStepResult,
} from './model/language-model.js';
export {
  Classifier,
  ClassifierStepHyperSchema,
  type ClassifierBatchInput,
  type ClassifierEvalResult,
  type ClassifierFeatures,
  type ClassifierPrediction,
  type ClassifierSaveOptions,
  type ClassifierStepHyperInput,
  type ClassifierTrainResult,
  type FromLanguageModelOptions,
} from './model/classifier.js';
export {
  FORMAT_VERSION,
  MODEL_FORMAT,
  ModelDirectoryError,
  type InputShape,
  type ModelConfigFile,
  type SavedTrainingState,
} from './model/directory.js';
export { SafetensorsError } from './io/safetensors.js';
export { OptionsError } from './options.js';
export { getNumThreads, getRngState, info, setAllowTf32, setNumThreads, setRngState, setSeed, type UlmfitInfo } from './runtime.js';
export { DataError } from './data/read-error.js';
export type { ReadSummary } from './data/read-summary.js';
export { CorpusSourceSchema, readCorpus, type CorpusDocument, type CorpusSourceOptions } from './data/corpus-reader.js';
export {
  LabelledSourceSchema,
  listClasses,
  readLabelled,
  type LabelledDocument,
  type LabelledSourceOptions,
} from './data/labelled-reader.js';
export {
  EncodeCorpusOptionsSchema,
  encodeCorpus,
  type EncodeCorpusOptionsInput,
  type EncodedCorpus,
  type EncodeProgress,
  type EncodeSummary,
  type InputDocument,
} from './data/encode-corpus.js';
export { loadCorpus, loadLabelled, type LoadedCorpus } from './data/load.js';
export { joinFields, type FieldsInput } from './data/fields.js';
export { TokenStore, TokenStoreWriter, type TokenStoreWriterOptions } from './data/token-store.js';
export { openTokenStore, saveTokenStore, type OpenedTokenStore } from './data/token-store-file.js';
export { LmBatches, LmBatchesOptionsSchema, type LmBatchesOptionsInput, type LmStreamBatch } from './data/lm-batches.js';
export {
  ClassifierBatchesOptionsSchema,
  classifierBatches,
  restoreOrder,
  type ClassifierBatch,
  type ClassifierBatchesOptionsInput,
} from './data/classifier-batches.js';
export { Random } from './data/random.js';
export {
  Vocabulary,
  VocabularyError,
  VocabularyOptionsSchema,
  type VocabularyFile,
  type VocabularyOptionsInput,
} from './text/vocabulary.js';
export { detokenize } from './text/detokenize.js';
export * as specialTokens from './text/special-tokens.js';
export { RULES_VERSION, Tokenizer, TokenizerOptionsSchema, type TokenizerOptions, type TokenizerOptionsInput } from './text/tokenizer.js';
export {
  DEFAULT_POST_RULES,
  DEFAULT_PRE_RULES,
  fixHtml,
  lowercase,
  replaceAllCaps,
  replaceMaj,
  replaceRep,
  replaceSpace,
  replaceWrep,
  rmUselessSpaces,
  specAddSpaces,
  type PostRule,
  type PreRule,
} from './text/rules.js';
export { EnglishSplitter, splitWords, type EnglishSplitterOptions } from './text/english.js';
export {
  constant,
  oneCycle,
  OneCycleOptionsSchema,
  stlr,
  StlrOptionsSchema,
  warmupCosine,
  WarmupCosineOptionsSchema,
  type Schedule,
  type SchedulePoint,
} from './train/schedules.js';
export { groupHyperAt, groupLrs, GroupLrsSchema, type GroupLrsInput, type GroupStepHyper } from './train/discriminative.js';
export {
  fastaiPlan,
  paperPlan,
  PaperPlanOptionsSchema,
  UnfreezeStageSchema,
  validatePlan,
  type UnfreezeStage,
  type UnfreezeStageInput,
} from './train/unfreezing.js';
export { transferVocabulary, type VocabularyTransfer } from './train/vocab-transfer.js';
export { classifierMetrics, lmMetrics, type ClassifierMetrics, type LmMetrics } from './train/metrics.js';
export {
  FitOptionsSchema,
  fitOptionsSchemaFor,
  Learner,
  type BatchSource,
  type EpochEvent,
  type FitHooks,
  type FitOptionsInput,
  type StepEvent,
} from './train/learner.js';
export { LrFindOptionsSchema, suggestLrs, type LrFindOptionsInput, type LrFindResult } from './train/lr-finder.js';
export { TrainingStateError, type Position } from './train/training-state.js';
export { NonFiniteError } from './train/non-finite-error.js';
export { encodeLabelled, encodeTexts, holdOut, type LabelledInput, type TextsInput } from './stages/inputs.js';
export {
  FineTuneOptionsSchema,
  PretrainOptionsSchema,
  TrainClassifierOptionsSchema,
  type FineTuneOptions,
  type PretrainOptions,
  type TrainClassifierOptions,
} from './stages/stage-options.js';
export { fineTuneLanguageModel, pretrainLanguageModel } from './stages/language-model-stages.js';
export { trainClassifier, type EncoderSource } from './stages/classifier-stage.js';
export { modelDirectory, shippedModel, SHIPPED_MODELS, type ShippedModelName } from './stages/shipped-models.js';
export { evaluate, predict, PredictOptionsSchema, type Prediction, type PredictOptions } from './stages/inference.js';
export { generate, GenerateOptionsSchema, type Generated, type GenerateOptions } from './stages/generate.js';
export {
  dispose,
  load,
  loadEncoder,
  save,
  saveEncoder,
  type AnyClassifier,
  type AnyLanguageModel,
  type AnyTextModel,
  type Bidirectional,
  type Direction,
  type LoadOptions,
  type TextClassifier,
  type TextLanguageModel,
} from './stages/text-models.js';
export { CheckpointError } from './interop/checkpoint-error.js';
export { type TensorData, type TorchDType } from './interop/dtypes.js';
// What a read checkpoint's tensors are (pickle's other values stay internal).
export { TorchTensor } from './interop/torch-values.js';
export {
  readTorchCheckpoint,
  ReadTorchCheckpointOptionsSchema,
  type ReadTorchCheckpointOptions,
  type SharedStorage,
  type TorchCheckpoint,
} from './interop/torch-checkpoint.js';
export { readItos } from './interop/itos.js';
export {
  importCheckpoint,
  ImportCheckpointOptionsSchema,
  type ImportCheckpointOptions,
  type ImportedCheckpoint,
} from './interop/import-checkpoint.js';
export {
  exportCheckpoint,
  ExportCheckpointOptionsSchema,
  type ExportCheckpointOptions,
  type ExportedCheckpoint,
} from './interop/export-pytorch.js';
export { classifierToOnnx, exportOnnx, languageModelToOnnx } from './onnx/export.js';
export { OnnxFileError, type OnnxMetadata } from './onnx/metadata.js';
export { fastaiState, type FastaiDialect, type FastaiKind, type FastaiSizes, type FastaiState } from './interop/fastai-keys.js';
export {
  ProcessGroup,
  ProcessGroupOptionsSchema,
  processGroupOptionsFromEnv,
  type ProcessGroupOptions,
  type ProcessGroupOptionsInput,
} from './distributed/process-group.js';
