import type { LibTorchInfo } from './libtorch.js';
import type { BuildManifest } from './binaries.js';

export class BuildError extends Error {
  code: 'ERR_ULMFIT_BUILD';
}
export function buildNative(options?: { cmake?: boolean; libtorch?: LibTorchInfo; log?: (line: string) => void }): {
  dir: string;
  manifest: BuildManifest;
  seconds: number;
};
