// The shape of the compiled addon (native/addon.cc) as TypeScript sees it. Callers go through the
// validated wrappers in src/, never through this interface directly.
import type { NativeClassifier } from '../model/classifier.js';
import type { NativeLanguageModel } from '../model/language-model.js';
import type { NativeProcessGroup, ProcessGroupOptions } from '../distributed/process-group.js';

export interface NativeTensor {
  data: Float32Array;
  shape: number[];
}

export interface NativeInfo {
  torch: { builtWith: string; cxx11Abi: number; parallel: string };
  cuda: {
    built: boolean;
    available: boolean;
    deviceCount: number;
    runtime: string | null;
    cudnn: string | null;
    /** Whether fp32 cuBLAS matmuls and cuDNN (the LSTM) may use TF32 (setAllowTf32). */
    tf32: { matmul: boolean; cudnn: boolean };
  };
  threads: { intraOp: number; interOp: number };
  backends: { openmp: boolean; mkl: boolean; mkldnn: boolean; lapack: boolean };
  /** Process groups built in: Gloo where gloo's headers were found at build time (scripts/gloo.js). */
  distributed: { gloo: boolean; nccl: boolean };
}

/** A read-only memory map of a file (native/mapped_file.cc); views keep the mapping alive. */
export interface NativeMappedFile {
  byteLength: number;
  view(byteOffset: number, byteLength: number): ArrayBuffer;
}

export interface NativeAddon {
  torchVersion: string;
  torchRelease: string;
  info(): NativeInfo;
  setSeed(seed: number | bigint): void;
  getRngState(): Uint8Array[];
  setRngState(state: Uint8Array[]): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  setAllowTf32(allow: boolean): void;
  checkDevice(device: string): string;
  matmul(a: Float32Array, aShape: number[], b: Float32Array, bShape: number[], device: string): Promise<NativeTensor>;
  randn(shape: number[], device: string): Promise<NativeTensor>;
  mapFile(path: string): NativeMappedFile;
  /** The AWD-LSTM engine class (native/language_model.cc); src/model/language-model.ts wraps it. */
  LanguageModel: EngineClass<NativeLanguageModel>;
  /** The classifier engine class (native/classifier.cc); src/model/classifier.ts wraps it. */
  Classifier: EngineClass<NativeClassifier>;
  /** A c10d process group (native/process_group.cc); src/distributed/process-group.ts wraps it. */
  ProcessGroup: new (options: ProcessGroupOptions & { device: number }) => NativeProcessGroup;
  benchmarkMatmul(
    size: number,
    iterations: number,
    device: string,
  ): Promise<{ seconds: number; gflops: number; device: string; threads: number }>;
}

/** An engine class: every option given explicitly (the native side has no defaults), and the device. */
export type EngineClass<E> = new (options: Record<string, unknown>, device: string) => E;

/** The preloader addon (native/loader.cc). */
export interface LoaderAddon {
  preload(paths: string[]): number;
}
