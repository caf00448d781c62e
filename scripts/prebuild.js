// `npm run prebuild`: copies a local build to prebuilds/<platform>-<arch>/torch-<major.minor>-<variant>/,
// the folder `npm pack` ships and the loader and installer look in first.
//   node scripts/prebuild.js [--from build/Release] [--to <package root>]
import fs from 'node:fs';
import path from 'node:path';

import {
  ADDON,
  LOADER_ADDON,
  LOCAL_BUILDS,
  MANIFEST,
  PACKAGE_ROOT,
  prebuildName,
  prebuildsDir,
  readBinary,
  writeManifest,
} from './binaries.js';

function option(name, fallback) {
  const at = process.argv.indexOf(name);
  return at > 0 && process.argv[at + 1] ? path.resolve(process.argv[at + 1]) : fallback;
}

const from = option('--from', LOCAL_BUILDS[0].dir);
const to = option('--to', PACKAGE_ROOT);
const binary = readBinary(from, 'local');
if (!binary) {
  console.error(`ulmfit: no complete build in ${from} (${ADDON}, ${LOADER_ADDON}, ${MANIFEST}); run \`npm run build:gyp\` first`);
  process.exit(1);
}
const dest = path.join(prebuildsDir(to), prebuildName(binary.manifest));
// Written beside the destination and renamed into place, manifest last: a reader never sees half a prebuild.
const staging = `${dest}.partial-${process.pid}`;
fs.mkdirSync(staging, { recursive: true });
for (const file of [ADDON, LOADER_ADDON]) fs.copyFileSync(path.join(from, file), path.join(staging, file));
// This machine's LibTorch path means nothing where the package is installed.
const { libtorchRoot: _thisMachine, ...manifest } = binary.manifest;
writeManifest(staging, manifest);
fs.rmSync(dest, { recursive: true, force: true });
fs.renameSync(staging, dest);
console.error(`ulmfit: wrote ${path.relative(to, dest)} (${binary.manifest.torchVersion}, ${binary.manifest.builder})`);
