// `npm install` hook (package.json "install"; without one npm would run `node-gyp rebuild` by itself).
// 1. the platform must be supported;  2. find LibTorch, or provision it with pip (ULMFIT_NO_AUTO_LIBTORCH=1
// turns that off);  3. use a prebuilt binary that fits it, else compile with node-gyp.
// In a git checkout, or with ULMFIT_BUILD_FROM_SOURCE=1, it always compiles: the sources may be newer.
import fs from 'node:fs';
import path from 'node:path';

import { PACKAGE_ROOT, listBinaries, prebuildsDir } from './binaries.js';
import { buildNative } from './build.js';
import { provisionGloo } from './gloo.js';
import { LibTorchError, describe, findCandidates, fits, provision, select } from './libtorch.js';
import { platformProblem } from './platform.js';

const log = (line) => console.error(`ulmfit: ${line}`);

function findOrProvision() {
  const looked = findCandidates();
  try {
    return select(looked);
  } catch (err) {
    const nothingFound = err instanceof LibTorchError && !looked.some((c) => c.source === 'LIBTORCH' && c.info);
    if (!nothingFound) throw err;
    if (process.env.ULMFIT_NO_AUTO_LIBTORCH === '1') {
      log('no LibTorch found, and ULMFIT_NO_AUTO_LIBTORCH=1 turns off installing one.');
      log(err.message);
      return null;
    }
    log('no LibTorch found; installing one now (ULMFIT_NO_AUTO_LIBTORCH=1 turns this off).');
    return provision({ log });
  }
}

function main() {
  const problem = platformProblem();
  if (problem) {
    log(`${problem}. Nothing was built.`);
    process.exit(1);
  }
  const libtorch = findOrProvision();
  if (!libtorch) {
    log('installed without a native binary; `npx ulmfit setup` finishes the job.');
    return;
  }
  log(`using ${describe(libtorch)}`);
  const fromSource = process.env.ULMFIT_BUILD_FROM_SOURCE === '1' || fs.existsSync(path.join(PACKAGE_ROOT, '.git'));
  if (!fromSource) {
    const prebuilt = listBinaries().find((b) => b.kind === 'prebuild' && fits(libtorch, b.manifest));
    if (prebuilt) {
      log(`using the prebuilt binary ${path.relative(PACKAGE_ROOT, prebuilt.dir)}`);
      return;
    }
    log(`no prebuilt binary in ${path.relative(PACKAGE_ROOT, prebuildsDir())} fits; compiling from source`);
  }
  provisionGloo({ log }); // best effort: without gloo's headers the addon builds without process groups
  try {
    buildNative({ libtorch, log });
  } catch (err) {
    log(
      `compiling the native addon failed (${err.message}).\n` +
        'Fix: install a C++20 compiler and make (Debian/Ubuntu: apt-get install g++ make python3), then run `npx ulmfit setup --rebuild`;\n' +
        '  or use a LibTorch that a prebuilt binary fits (`npx ulmfit info` lists them).',
    );
    process.exit(1);
  }
}

try {
  main();
} catch (err) {
  log(err.message);
  process.exit(1);
}
