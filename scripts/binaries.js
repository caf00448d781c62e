// Where compiled addons live and what each was built for. Every build writes a manifest
// (ulmfit-build.json) beside its two .node files; the loader and the installer match manifests against
// the LibTorch that discovery finds.
//
//   prebuilds/<platform>-<arch>/torch-<major.minor>-<cpu|cuXYZ>/   npm run prebuild (shipped in the package)
//   build/Release/                                               node-gyp (npm install, ulmfit setup, npm run build:gyp)
//   build-cmake/Release/                                         cmake-js (npm run build:cmake)

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { platformTag } from './platform.js';

export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const MANIFEST = 'ulmfit-build.json';
export const ADDON = 'ulmfit.node';
export const LOADER_ADDON = 'ulmfit_loader.node';
export const NAPI_VERSION = 8;

export const LOCAL_BUILDS = [
  { kind: 'node-gyp', dir: path.join(PACKAGE_ROOT, 'build', 'Release') },
  { kind: 'cmake-js', dir: path.join(PACKAGE_ROOT, 'build-cmake', 'Release') },
];

export function prebuildsDir(root = PACKAGE_ROOT) {
  return path.join(root, 'prebuilds', platformTag());
}

export function prebuildName(libtorch) {
  return `torch-${libtorch.release}-${libtorch.variant}`;
}

/**
 * A digest of the native sources (native/, binding.gyp, CMakeLists.txt) as they are now: a build records the
 * one it was compiled from, so that `npm pack` can refuse to ship a binary of other sources.
 */
export function nativeSourcesHash(root = PACKAGE_ROOT) {
  const hash = crypto.createHash('sha256');
  const files = [
    ...fs
      .readdirSync(path.join(root, 'native'))
      .sort()
      .map((name) => path.join('native', name)),
    'binding.gyp',
    'CMakeLists.txt',
  ];
  for (const file of files) {
    const full = path.join(root, file);
    if (!fs.statSync(full).isFile()) continue;
    hash.update(`${file}\0${fs.statSync(full).size}\0`).update(fs.readFileSync(full));
  }
  return hash.digest('hex');
}

/** What a build is for, from the LibTorch it was compiled against. */
export function manifestFor(libtorch, builder) {
  return {
    sources: nativeSourcesHash(),
    release: libtorch.release,
    variant: libtorch.variant,
    cxx11Abi: libtorch.cxx11Abi,
    torchVersion: libtorch.version,
    napiVersion: NAPI_VERSION,
    platform: platformTag(),
    builder,
    // Where that LibTorch lay: the loader tries it first, with no python3 process (a prebuild drops it).
    libtorchRoot: libtorch.root,
  };
}

export function writeManifest(dir, manifest) {
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
}

/** A binary directory's manifest, or null unless the manifest and both addons are there. */
export function readBinary(dir, kind) {
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
  } catch {
    return null;
  }
  const addon = path.join(dir, ADDON);
  const loader = path.join(dir, LOADER_ADDON);
  if (!fs.existsSync(addon) || !fs.existsSync(loader)) return null;
  return { kind, dir, addon, loader, manifest, mtimeMs: fs.statSync(addon).mtimeMs };
}

/**
 * Every binary there is, in the order the loader tries them: prebuilds first, then local builds; a local
 * build newer than every prebuild goes first, so a developer's rebuild is never shadowed by an old prebuild.
 * ULMFIT_ADDON_DIR names one directory and nothing else is tried.
 */
export function listBinaries(env = process.env) {
  if (env.ULMFIT_ADDON_DIR) {
    const one = readBinary(path.resolve(env.ULMFIT_ADDON_DIR), 'ULMFIT_ADDON_DIR');
    return one ? [one] : [];
  }
  let prebuilt;
  try {
    prebuilt = fs
      .readdirSync(prebuildsDir())
      .sort()
      .map((name) => readBinary(path.join(prebuildsDir(), name), 'prebuild'))
      .filter(Boolean);
  } catch {
    prebuilt = [];
  }
  const local = LOCAL_BUILDS.map((b) => readBinary(b.dir, b.kind)).filter(Boolean);
  const newestPrebuild = Math.max(0, ...prebuilt.map((b) => b.mtimeMs));
  const fresh = local.filter((b) => b.mtimeMs > newestPrebuild);
  const stale = local.filter((b) => b.mtimeMs <= newestPrebuild);
  return [...fresh, ...prebuilt, ...stale];
}
