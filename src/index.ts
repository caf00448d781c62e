// ulmfit: ULMFiT for Node.js on LibTorch. The public API.
export { LibTorchError, findCandidates as findLibTorch, discover as discoverLibTorch, provision as provisionLibTorch } from '../scripts/libtorch.js';
export type { Candidate, LibTorchInfo } from '../scripts/libtorch.js';
export { PlatformError } from '../scripts/platform.js';
export { cpuFeatures, type CpuFeatures } from './cpu.js';
export { DeviceSchema, parseDevice, type Device } from './device.js';
export { NativeLoadError } from './native/loader.js';
export { benchmarkMatmul, matmul, randn, BenchmarkMatmulSchema, type BenchmarkMatmulOptions, type MatmulInput } from './ops.js';
export { LanguageModelConfigSchema, type LanguageModelConfig, type LanguageModelConfigInput } from './model/config.js';
export {
  EngineOptionsSchema,
  LanguageModel,
  StepHyperSchema,
  type DropoutMasks,
  type EvalStepResult,
  type GroupInfo,
  type LmBatch,
  type ParameterInfo,
  type SaveOptions,
  type StepHyperInput,
  type TrainStepResult,
} from './model/language-model.js';
export { FORMAT_VERSION, MODEL_FORMAT, ModelDirectoryError, type ModelConfigFile } from './model/directory.js';
export { SafetensorsError } from './io/safetensors.js';
export { OptionsError } from './options.js';
export { getNumThreads, info, setNumThreads, setSeed, type UlmfitInfo } from './runtime.js';
