// Compiles the addon against the LibTorch that discovery finds, and writes the build's manifest.
//   node scripts/build.js           node-gyp, from binding.gyp, into build/Release
//   node scripts/build.js --cmake   cmake-js, from CMakeLists.txt, into build-cmake/Release
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { LOCAL_BUILDS, PACKAGE_ROOT, manifestFor, writeManifest } from './binaries.js';
import { describe, discover } from './libtorch.js';

const require = createRequire(import.meta.url);

export class BuildError extends Error {
  constructor(message) {
    super(message);
    this.name = 'BuildError';
    this.code = 'ERR_ULMFIT_BUILD';
  }
}

// Node's own headers, so node-gyp never downloads any: npm's nodedir setting when npm runs us, else the
// include/node folder that ships beside the running node binary (Debian's /usr, official tarballs).
function nodeDir() {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return fs.existsSync(path.join(prefix, 'include', 'node', 'common.gypi')) ? prefix : null;
}

/** The CUDA toolkit for a CUDA build: CUDA_HOME, CUDA_PATH, else /usr/local/cuda. */
function cudaToolkit() {
  const dir = process.env.CUDA_HOME || process.env.CUDA_PATH || '/usr/local/cuda';
  if (!fs.existsSync(path.join(dir, 'bin', 'nvcc'))) {
    throw new BuildError(`a CUDA LibTorch needs the CUDA toolkit for the cmake-js build: no nvcc in ${dir}/bin (set CUDA_HOME)`);
  }
  return fs.realpathSync(dir);
}

function run(command, args, env) {
  const result = spawnSync(command, args, { cwd: PACKAGE_ROOT, env, stdio: 'inherit' });
  if (result.error) throw new BuildError(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) throw new BuildError(`${path.basename(args[0] ?? command)} exited with ${result.status}`);
}

/** Builds with node-gyp (default) or cmake-js; returns { dir, manifest, seconds }. */
export function buildNative({ cmake = false, libtorch = discover(), log = console.error } = {}) {
  const jobs = String(os.availableParallelism());
  // LIBTORCH pins the same LibTorch for binding.gyp's own discovery calls.
  const env = { ...process.env, LIBTORCH: libtorch.root };
  const builder = cmake ? 'cmake-js' : 'node-gyp';
  const out = LOCAL_BUILDS.find((b) => b.kind === builder).dir;
  log(`ulmfit: compiling the native addon with ${builder} against ${describe(libtorch)}`);
  const started = process.hrtime.bigint();
  if (cmake) {
    if (!libtorch.cmakeDir) throw new BuildError(`${libtorch.root} has no share/cmake/Torch: cmake-js needs LibTorch's CMake files`);
    const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
    const defines = [`--CDTorch_DIR=${libtorch.cmakeDir}`];
    const cuda = libtorch.variant === 'cpu' ? null : cudaToolkit();
    // Torch's CMake files look for the CUDA toolkit from nvcc's location, which a wrapper on PATH hides.
    if (cuda) defines.push(`--CDCUDA_TOOLKIT_ROOT_DIR=${cuda}`, `--CDCMAKE_CUDA_COMPILER=${path.join(cuda, 'bin', 'nvcc')}`);
    run(process.execPath, [cmakeJs, 'rebuild', '--out', path.dirname(out), '--parallel', jobs, ...defines], env);
  } else {
    const nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
    const dir = nodeDir();
    run(process.execPath, [nodeGyp, 'rebuild', '--jobs', jobs, ...(dir ? [`--nodedir=${dir}`] : [])], env);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const manifest = manifestFor(libtorch, builder);
  writeManifest(out, manifest);
  log(`ulmfit: built ${out} in ${seconds.toFixed(1)} s`);
  return { dir: out, manifest, seconds };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    buildNative({ cmake: process.argv.includes('--cmake') });
  } catch (err) {
    console.error(`ulmfit: ${err.message}`);
    process.exit(1);
  }
}
