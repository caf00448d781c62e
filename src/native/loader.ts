// Loads the native addon without any path baked in at build time: pick a binary (a prebuild, else a local
// build) whose LibTorch release and variant its build record or discovery finds on this machine, preload
// that LibTorch's libraries through the small preloader addon, then open the addon itself.
import fs from 'node:fs';
import { createRequire } from 'node:module';

import { listBinaries, prebuildsDir, type Binary } from '../../scripts/binaries.js';
import { describe, findCandidates, fits, inspectLibTorch, select, setupCommand, type LibTorchInfo } from '../../scripts/libtorch.js';
import { assertSupportedPlatform, platformTag } from '../../scripts/platform.js';
import type { LoaderAddon, NativeAddon } from './addon.js';

const require = createRequire(import.meta.url);

export class NativeLoadError extends Error {
  readonly code = 'ERR_ULMFIT_NATIVE_LOAD';
  constructor(message: string) {
    super(message);
    this.name = 'NativeLoadError';
  }
}

export interface Loaded {
  addon: NativeAddon;
  binary: Binary;
  libtorch: LibTorchInfo;
}

let loaded: Loaded | null = null;

/** Picks the first binary, in listBinaries order, that a LibTorch on this machine fits. */
export function resolveNative(env: Record<string, string | undefined> = process.env): { binary: Binary; libtorch: LibTorchInfo } {
  assertSupportedPlatform();
  const binaries = listBinaries(env);
  if (binaries.length === 0) {
    const where = env.ULMFIT_ADDON_DIR
      ? `ULMFIT_ADDON_DIR=${env.ULMFIT_ADDON_DIR} holds no complete build`
      : `no prebuilt binary for ${platformTag()} in ${prebuildsDir()} and no local build`;
    throw new NativeLoadError(
      `The ulmfit native addon is missing: ${where}.\n` +
        `Fix: run \`${setupCommand()}\` (finds or installs LibTorch, then compiles; needs g++ and make),\n` +
        '  or `npx ulmfit setup --rebuild` to compile against the LibTorch already found.',
    );
  }
  let looked: ReturnType<typeof findCandidates> | null = null;
  let firstError: unknown = null;
  for (const binary of binaries) {
    const recorded = recordedLibTorch(binary, env);
    if (recorded) return { binary, libtorch: recorded };
    try {
      looked ??= findCandidates(env);
      return { binary, libtorch: select(looked, { want: binary.manifest, env }) };
    } catch (err) {
      firstError ??= err;
    }
  }
  throw firstError;
}

/**
 * The LibTorch a local build was compiled against, as its manifest recorded it, when it is still there and
 * still fits: the first load then starts no python3 process. LIBTORCH, when set, always decides instead.
 */
function recordedLibTorch(binary: Binary, env: Record<string, string | undefined>): LibTorchInfo | null {
  const root = binary.manifest.libtorchRoot;
  if (env.LIBTORCH || !root || !fs.existsSync(root)) return null;
  const info = inspectLibTorch(root, 'build record');
  return info.problems.length === 0 && fits(info, binary.manifest) ? info : null;
}

/** The addon, loaded once per thread (the addon is context-aware, so each Worker loads its own instance). */
export function loadNative(): Loaded {
  if (loaded) return loaded;
  const { binary, libtorch } = resolveNative();
  try {
    (require(binary.loader) as LoaderAddon).preload(libtorch.libraries);
  } catch (err) {
    throw new NativeLoadError(`Could not load ${describe(libtorch)}: ${(err as Error).message}`);
  }
  let addon: NativeAddon;
  try {
    addon = require(binary.addon) as NativeAddon;
  } catch (err) {
    throw new NativeLoadError(
      `Could not open ${binary.addon} (built for LibTorch ${binary.manifest.torchVersion}) with ${describe(libtorch)}: ` +
        `${(err as Error).message}\nFix: run \`npx ulmfit setup --rebuild\` to compile against this LibTorch.`,
    );
  }
  if (addon.torchRelease !== binary.manifest.release) {
    throw new NativeLoadError(
      `${binary.addon} says it was compiled against LibTorch ${addon.torchVersion}, but its manifest says ` +
        `${binary.manifest.torchVersion}. Fix: run \`npx ulmfit setup --rebuild\`.`,
    );
  }
  loaded = { addon, binary, libtorch };
  return loaded;
}

export function native(): NativeAddon {
  return loadNative().addon;
}
