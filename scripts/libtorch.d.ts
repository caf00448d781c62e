// Types for libtorch.js (plain JavaScript: it runs at install time, before TypeScript is compiled).

export interface LibTorchInfo {
  source: string;
  root: string;
  version: string | null;
  /** "major.minor", e.g. "2.13" */
  release: string | null;
  /** "cpu", "cuXYZ", or "cuda" when the CUDA version is unknown */
  variant: string | null;
  cuda: string | null;
  cudnn: string | null;
  cxx11Abi: 0 | 1 | null;
  includeDirs: string[];
  libDir: string | null;
  cmakeDir: string | null;
  /** The shared libraries the loader preloads, in order. */
  libraries: string[];
  /** Why this LibTorch cannot be used; empty when it can. */
  problems: string[];
}

export interface Candidate {
  source: 'LIBTORCH' | 'python3' | 'cache';
  where: string | null;
  info: LibTorchInfo | null;
  note?: string;
}

export interface BuildTarget {
  release: string | null;
  variant: string | null;
  cxx11Abi?: 0 | 1 | null;
  /** The full release a binary was built against, e.g. "2.13.0+cpu". */
  torchVersion?: string;
}

type Env = Record<string, string | undefined>;

export const SUPPORTED_RELEASES: { min: [number, number]; max: [number, number] };
export const PINNED_TORCH: { cpu: string; cuda: string };
export class LibTorchError extends Error {
  code: 'ERR_ULMFIT_LIBTORCH';
}
export function ulmfitHome(env?: Env): string;
export function libtorchCacheDir(env?: Env): string;
export function defaultVariant(env?: Env): 'cpu' | 'cuda';
export function pinnedVersion(variant: 'cpu' | 'cuda', env?: Env): string;
export function inspectLibTorch(root: string, source: string): LibTorchInfo;
export function describe(info: LibTorchInfo): string;
export function findCandidates(env?: Env): Candidate[];
export function fits(info: LibTorchInfo, want: BuildTarget): boolean;
export function select(looked: Candidate[], options?: { want?: BuildTarget | null; env?: Env }): LibTorchInfo;
export function discover(options?: { env?: Env; want?: BuildTarget | null }): LibTorchInfo;
export function setupCommand(variant?: string): string;
export function provision(options?: { variant?: 'cpu' | 'cuda'; env?: Env; log?: (line: string) => void }): LibTorchInfo;
