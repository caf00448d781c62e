// `npm run prebuild`: copies a local build to prebuilds/<platform>-<arch>/torch-<major.minor>-<variant>/,
// the folder `npm pack` ships and the loader and installer look in first.
//   node scripts/prebuild.js [--from build/Release]
import fs from 'node:fs';
import path from 'node:path';

import { ADDON, LOADER_ADDON, LOCAL_BUILDS, MANIFEST, PACKAGE_ROOT, prebuildName, prebuildsDir, readBinary } from './binaries.js';

const at = process.argv.indexOf('--from');
const from = at > 0 ? path.resolve(process.argv[at + 1]) : LOCAL_BUILDS[0].dir;
const binary = readBinary(from, 'local');
if (!binary) {
  console.error(`ulmfit: no complete build in ${from} (${ADDON}, ${LOADER_ADDON}, ${MANIFEST}); run \`npm rebuild\` first`);
  process.exit(1);
}
const dest = path.join(prebuildsDir(), prebuildName(binary.manifest));
fs.rmSync(dest, { recursive: true, force: true });
fs.mkdirSync(dest, { recursive: true });
for (const file of [ADDON, LOADER_ADDON, MANIFEST]) fs.copyFileSync(path.join(from, file), path.join(dest, file));
console.error(`ulmfit: wrote ${path.relative(PACKAGE_ROOT, dest)} (${binary.manifest.torchVersion}, ${binary.manifest.builder})`);
