// Process-wide LibTorch controls and the description of what ulmfit runs on.
import { createRequire } from 'node:module';

import { z } from 'zod';

import type { LibTorchInfo } from '../scripts/libtorch.js';
import { platformTag } from '../scripts/platform.js';
import { cpuFeatures, type CpuFeatures } from './cpu.js';
import type { NativeInfo } from './native/addon.js';
import { loadNative, native } from './native/loader.js';
import { validate } from './options.js';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

export const SeedSchema = z.union([
  z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  z
    .bigint()
    .nonnegative()
    .max(2n ** 64n - 1n),
]);

export const NumThreadsSchema = z.number().int().min(1).max(4096);

/** Seeds LibTorch's CPU generator and every CUDA device's: runs are repeatable from here on. */
export function setSeed(seed: number | bigint): void {
  native().setSeed(validate(SeedSchema, seed, 'seed'));
}

/**
 * The states of LibTorch's default generators (the CPU's, then each CUDA device's): what draws dropout masks.
 * Saved with a training state so that a resumed run draws what an uninterrupted one would have.
 */
export function getRngState(): Uint8Array[] {
  return native().getRngState();
}

/** Puts back generator states from getRngState (same process layout: the CPU and as many CUDA devices). */
export function setRngState(state: readonly Uint8Array[]): void {
  if (!Array.isArray(state) || !state.every((s) => s instanceof Uint8Array))
    throw new TypeError('setRngState: state must be an array of Uint8Array (from getRngState)');
  native().setRngState([...state]);
}

/** LibTorch intra-op threads for every native call made from this thread from now on. */
export function setNumThreads(n: number): void {
  native().setNumThreads(validate(NumThreadsSchema, n, 'numThreads'));
}

export function getNumThreads(): number {
  return native().getNumThreads();
}

/**
 * Lets fp32 work on CUDA use TF32 (a 10-bit mantissa on the tensor cores): cuBLAS matmuls and cuDNN, the
 * LSTM included. LibTorch's defaults are off for matmuls and on for cuDNN; `info().cuda.tf32` tells the
 * current state. Off gives fp32 results to about 1e-6; bf16 training is unaffected.
 */
export function setAllowTf32(allow: boolean): void {
  native().setAllowTf32(validate(z.boolean(), allow, 'allow'));
}

export interface UlmfitInfo extends NativeInfo {
  ulmfit: string;
  node: string;
  platform: string;
  libtorch: Pick<LibTorchInfo, 'version' | 'variant' | 'cuda' | 'cudnn' | 'cxx11Abi' | 'root' | 'source'>;
  binary: { kind: string; dir: string; builtFor: string; builder: string };
  cpu: CpuFeatures;
}

/** Versions, the LibTorch in use and where it was found, CUDA and cuDNN, threads, CPU features. */
export function info(): UlmfitInfo {
  const { addon, binary, libtorch } = loadNative();
  const { version, variant, cuda, cudnn, cxx11Abi, root, source } = libtorch;
  return {
    ulmfit: pkg.version,
    node: process.version,
    platform: platformTag(),
    libtorch: { version, variant, cuda, cudnn, cxx11Abi, root, source },
    binary: { kind: binary.kind, dir: binary.dir, builtFor: binary.manifest.torchVersion, builder: binary.manifest.builder },
    ...addon.info(),
    cpu: cpuFeatures(),
  };
}
