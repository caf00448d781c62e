import type { BuildTarget, LibTorchInfo } from './libtorch.js';

export interface BuildManifest extends BuildTarget {
  /** nativeSourcesHash() of the sources it was compiled from (absent in builds made before it was recorded). */
  sources?: string;
  release: string;
  variant: string;
  cxx11Abi: 0 | 1;
  torchVersion: string;
  napiVersion: number;
  platform: string;
  builder: 'node-gyp' | 'cmake-js';
  /** The LibTorch directory a local build was compiled against (absent in prebuilds). */
  libtorchRoot?: string;
}

export interface Binary {
  kind: 'prebuild' | 'node-gyp' | 'cmake-js' | 'ULMFIT_ADDON_DIR' | 'local';
  dir: string;
  addon: string;
  loader: string;
  manifest: BuildManifest;
  mtimeMs: number;
}

export const PACKAGE_ROOT: string;
export const MANIFEST: string;
export const ADDON: string;
export const LOADER_ADDON: string;
export const NAPI_VERSION: number;
export const LOCAL_BUILDS: { kind: 'node-gyp' | 'cmake-js'; dir: string }[];
export function prebuildsDir(root?: string): string;
export function prebuildName(target: BuildTarget): string;
export function nativeSourcesHash(root?: string): string;
export function manifestFor(libtorch: LibTorchInfo, builder: string): BuildManifest;
export function readBinary(dir: string, kind: string): Binary | null;
export function listBinaries(env?: Record<string, string | undefined>): Binary[];
