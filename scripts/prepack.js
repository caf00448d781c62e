// `npm pack` / `npm publish` run this first (package.json "prepack"): the package must ship a prebuilt
// binary of the native sources it ships, or every install would need a compiler. A prebuild of these sources
// in prebuilds/ is packed as it is; else a local build of them (npm run build:gyp) becomes one; else, or
// where a prebuild of other sources lies in prebuilds/, the pack stops and says what to run.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { LOCAL_BUILDS, PACKAGE_ROOT, nativeSourcesHash, prebuildsDir, readBinary } from './binaries.js';

const fail = (message) => {
  console.error(`ulmfit: npm pack: ${message}`);
  process.exit(1);
};
const sources = nativeSourcesHash();
const relative = (dir) => path.relative(PACKAGE_ROOT, dir);
const prebuilt = fs.existsSync(prebuildsDir())
  ? fs
      .readdirSync(prebuildsDir())
      .map((name) => readBinary(path.join(prebuildsDir(), name), 'prebuild') ?? { dir: path.join(prebuildsDir(), name), manifest: null })
  : [];
const stale = prebuilt.filter((b) => b.manifest?.sources !== sources);
if (stale.length) {
  fail(
    `${stale.map((b) => relative(b.dir)).join(', ')} ${stale.length === 1 ? 'is' : 'are'} not a complete build of these native sources: ` +
      'delete it, then run `npm run build:gyp && npm run prebuild`',
  );
}
if (prebuilt.length === 0) {
  const local = LOCAL_BUILDS.map((b) => readBinary(b.dir, b.kind)).find((b) => b?.manifest.sources === sources);
  if (!local) {
    fail(
      `no prebuilt binary of these native sources in ${relative(prebuildsDir())}/ and no local build of them to make one from: ` +
        'run `npm run build:gyp && npm run prebuild` first (a package without a binary needs a compiler wherever it is installed)',
    );
  }
  const made = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, 'scripts', 'prebuild.js'), '--from', local.dir], { stdio: 'inherit' });
  if (made.status !== 0) fail(`npm run prebuild failed (exit ${made.status})`);
}
for (const name of fs.readdirSync(prebuildsDir())) console.error(`ulmfit: npm pack: shipping ${relative(path.join(prebuildsDir(), name))}`);
