// LibTorch discovery, inspection and provisioning.
//
// Plain JavaScript on purpose: it runs at `npm install` time, before any TypeScript is compiled, and it is
// shared by the node-gyp build (binding.gyp calls it), the cmake-js build, `ulmfit setup` and the runtime
// loader, so every one of them agrees on which LibTorch is meant.
//
// Order: LIBTORCH, then a PyTorch reachable from python3, then copies provisioned under ULMFIT_HOME.

import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** LibTorch releases this version of ulmfit builds against (major.minor, inclusive). */
export const SUPPORTED_RELEASES = { min: [2, 11], max: [2, 14] };

/** What `ulmfit setup` installs with pip, per variant. Override with ULMFIT_TORCH_VERSION. */
export const PINNED_TORCH = { cpu: '2.13.0+cpu', cuda: '2.14.1' };

/** The libraries every LibTorch has, and those of a CUDA build. */
export const CORE_LIBRARIES = ['libc10.so', 'libtorch_cpu.so', 'libtorch.so'];
export const CUDA_LIBRARIES = ['libc10_cuda.so', 'libtorch_cuda.so'];
/** The order the loader opens them in: each after what it links against. */
const LOAD_ORDER = ['libc10.so', 'libc10_cuda.so', 'libtorch_cpu.so', 'libtorch_cuda.so', 'libtorch.so'];

export class LibTorchError extends Error {
  constructor(message) {
    super(message);
    this.name = 'LibTorchError';
    this.code = 'ERR_ULMFIT_LIBTORCH';
  }
}

const supportedText = `${SUPPORTED_RELEASES.min.join('.')} to ${SUPPORTED_RELEASES.max.join('.')}`;

/** Where ulmfit keeps what it provisions: ULMFIT_HOME, else the user's cache directory. */
export function ulmfitHome(env = process.env) {
  if (env.ULMFIT_HOME) return path.resolve(env.ULMFIT_HOME);
  const cache = env.XDG_CACHE_HOME ? env.XDG_CACHE_HOME : path.join(os.homedir(), '.cache');
  return path.join(cache, 'ulmfit');
}

export function libtorchCacheDir(env = process.env) {
  return path.join(ulmfitHome(env), 'libtorch');
}

export function pythonCommand(env = process.env) {
  return env.ULMFIT_PYTHON || 'python3';
}

/** True when this machine shows an NVIDIA driver (then a CUDA LibTorch is the sensible default). */
export function nvidiaDriverPresent() {
  return fs.existsSync('/proc/driver/nvidia/version');
}

export function defaultVariant(env = process.env) {
  const asked = env.ULMFIT_LIBTORCH_VARIANT;
  if (asked === 'cpu' || asked === 'cuda') return asked;
  if (asked) throw new LibTorchError(`ULMFIT_LIBTORCH_VARIANT must be "cpu" or "cuda", got "${asked}"`);
  return nvidiaDriverPresent() ? 'cuda' : 'cpu';
}

export function pinnedVersion(variant, env = process.env) {
  return env.ULMFIT_TORCH_VERSION || PINNED_TORCH[variant];
}

function readText(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function parseRelease(version) {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

function compareRelease(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** The release string: `build-version` (LibTorch archives), `version.py` (pip), else the version header. */
function readVersion(root) {
  const buildVersion = readText(path.join(root, 'build-version'));
  if (buildVersion && buildVersion.trim()) return { version: buildVersion.trim(), from: 'build-version' };
  const versionPy = readText(path.join(root, 'version.py'));
  const m = versionPy && /__version__\s*=\s*['"]([^'"]+)['"]/.exec(versionPy);
  if (m) return { version: m[1], from: 'version.py' };
  for (const header of ['include/torch/headeronly/version.h', 'include/torch/csrc/api/include/torch/version.h']) {
    const text = readText(path.join(root, header));
    if (!text) continue;
    const found = {};
    for (const [, key, value] of text.matchAll(/#define\s+TORCH_VERSION_(\w+)\s+(\d+)/g)) found[key] = value;
    if (found.MAJOR && found.MINOR) return { version: `${found.MAJOR}.${found.MINOR}.${found.PATCH ?? 0}`, from: header };
  }
  return { version: null, from: null };
}

/** CUDA version the build targets: version.py's `cuda = '13.0'`, else the `+cu130` suffix. */
function readCudaVersion(root, version) {
  const versionPy = readText(path.join(root, 'version.py'));
  const m = versionPy && /^cuda\s*:?[^=]*=\s*['"]([^'"]+)['"]/m.exec(versionPy);
  if (m) return m[1];
  const suffix = /\+cu(\d+)(\d)$/.exec(version ?? '');
  return suffix ? `${suffix[1]}.${suffix[2]}` : null;
}

/** cuDNN: bundled in lib/ (LibTorch archives) or beside torch in site-packages/nvidia/cudnn (pip). */
function readCudnnVersion(root) {
  for (const dir of [path.join(root, 'include'), path.join(root, '..', 'nvidia', 'cudnn', 'include')]) {
    const text = readText(path.join(dir, 'cudnn_version.h'));
    if (!text) continue;
    const get = (name) => new RegExp(`#define\\s+CUDNN_${name}\\s+(\\d+)`).exec(text)?.[1];
    if (get('MAJOR')) return `${get('MAJOR')}.${get('MINOR') ?? 0}.${get('PATCHLEVEL') ?? 0}`;
  }
  for (const dir of [path.join(root, 'lib'), path.join(root, '..', 'nvidia', 'cudnn', 'lib')]) {
    let names;
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    const lib = names.map((n) => /^libcudnn\.so\.(\d+(?:\.\d+)*)$/.exec(n)).find(Boolean);
    if (lib) return lib[1];
  }
  return null;
}

/** `_GLIBCXX_USE_CXX11_ABI` of the build: libc10 exports `__cxx11` symbols only under the new ABI. */
function readCxx11Abi(libc10) {
  try {
    return fs.readFileSync(libc10).includes('St7__cxx11') ? 1 : 0;
  } catch {
    return null;
  }
}

/**
 * Everything ulmfit needs to know about one LibTorch directory (one holding include/ and lib/), and
 * what makes it unusable, if anything. Never throws.
 */
export function inspectLibTorch(root, source) {
  const info = {
    source,
    root: path.resolve(root),
    version: null,
    release: null,
    variant: null,
    cuda: null,
    cudnn: null,
    cxx11Abi: null,
    includeDirs: [],
    libDir: null,
    cmakeDir: null,
    libraries: [],
    problems: [],
  };
  if (!fs.existsSync(info.root)) {
    info.problems.push('the directory does not exist');
    return info;
  }
  const { version } = readVersion(info.root);
  info.version = version;
  const release = parseRelease(version);
  info.release = release ? `${release[0]}.${release[1]}` : null;

  const include = path.join(info.root, 'include');
  const apiInclude = path.join(include, 'torch', 'csrc', 'api', 'include');
  if (!fs.existsSync(path.join(include, 'ATen', 'ATen.h'))) info.problems.push('missing include/ATen/ATen.h');
  info.includeDirs = [include, apiInclude];

  info.libDir = path.join(info.root, 'lib');
  for (const lib of CORE_LIBRARIES) {
    const file = path.join(info.libDir, lib);
    if (fs.existsSync(file)) info.libraries.push(file);
    else info.problems.push(`missing lib/${lib}`);
  }
  const hasCudaLibs = CUDA_LIBRARIES.every((lib) => fs.existsSync(path.join(info.libDir, lib)));
  if (hasCudaLibs) info.libraries.push(...CUDA_LIBRARIES.map((lib) => path.join(info.libDir, lib)));
  info.libraries.sort((a, b) => LOAD_ORDER.indexOf(path.basename(a)) - LOAD_ORDER.indexOf(path.basename(b)));

  const cmakeDir = path.join(info.root, 'share', 'cmake', 'Torch');
  info.cmakeDir = fs.existsSync(path.join(cmakeDir, 'TorchConfig.cmake')) ? cmakeDir : null;

  if (hasCudaLibs) {
    info.cuda = readCudaVersion(info.root, version) ?? 'unknown';
    info.variant = info.cuda === 'unknown' ? 'cuda' : `cu${info.cuda.replace('.', '')}`;
    info.cudnn = readCudnnVersion(info.root);
  } else {
    info.variant = 'cpu';
  }
  info.cxx11Abi = readCxx11Abi(path.join(info.libDir, 'libc10.so'));

  if (!version) info.problems.push('no release found (no build-version, version.py or torch version header)');
  else if (!release) info.problems.push(`unreadable release "${version}"`);
  else if (
    compareRelease(release.slice(0, 2), SUPPORTED_RELEASES.min) < 0 ||
    compareRelease(release.slice(0, 2), SUPPORTED_RELEASES.max) > 0
  ) {
    info.problems.push(`unsupported release ${version} (ulmfit supports LibTorch ${supportedText})`);
  }
  if (info.cxx11Abi === 0) {
    info.problems.push('built with the pre-C++11 ABI (_GLIBCXX_USE_CXX11_ABI=0); ulmfit needs the cxx11 ABI build');
  }
  return info;
}

/** A one-line description for messages and `ulmfit info`. */
export function describe(info) {
  const parts = [`LibTorch ${info.version ?? '(unknown release)'}`];
  if (info.variant) parts.push(info.variant === 'cpu' ? 'CPU' : `CUDA ${info.cuda}`);
  if (info.cudnn) parts.push(`cuDNN ${info.cudnn}`);
  if (info.cxx11Abi !== null) parts.push(`cxx11 ABI ${info.cxx11Abi}`);
  return `${parts.join(', ')} at ${info.root} (${info.source})`;
}

/** The torch package directory python3 would import, found without importing torch (fast, side-effect free). */
export function findPythonTorch(env = process.env) {
  const python = pythonCommand(env);
  const code =
    'import importlib.util,json,sys\n' +
    "s=importlib.util.find_spec('torch')\n" +
    "print(json.dumps({'origin': s.origin if s else None, 'exe': sys.executable}))";
  const run = spawnSync(python, ['-c', code], { env, encoding: 'utf8', timeout: 30_000 });
  if (run.error) return { python, found: false, note: `${python} could not be run (${run.error.code ?? run.error.message})` };
  if (run.status !== 0) return { python, found: false, note: `${python} failed: ${run.stderr.trim().split('\n').pop()}` };
  let answer;
  try {
    answer = JSON.parse(run.stdout.trim().split('\n').pop());
  } catch {
    return { python, found: false, note: `${python} printed something unexpected` };
  }
  if (!answer.origin) return { python: answer.exe, found: false, note: `${answer.exe}: no 'torch' package` };
  return { python: answer.exe, found: true, root: path.dirname(answer.origin) };
}

/** LibTorch copies under the cache directory, the preferred variant first, then newest first. */
export function cachedLibTorchRoots(env = process.env) {
  const dir = libtorchCacheDir(env);
  let names;
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith('torch-') && !n.endsWith('.partial'));
  } catch {
    return [];
  }
  const wantCuda = (() => {
    try {
      return defaultVariant(env) === 'cuda';
    } catch {
      return false;
    }
  })();
  const key = (name) => {
    const isCpu = name.includes('+cpu');
    return [isCpu === wantCuda ? 1 : 0, ...(parseRelease(name.slice('torch-'.length)) ?? [0, 0, 0]).map((x) => -x)];
  };
  names.sort((a, b) => compareRelease(key(a), key(b)));
  return names.map((n) => path.join(dir, n, 'torch')).filter((root) => fs.existsSync(root));
}

/**
 * Every place looked at, in order, with what was found there. Each entry: { source, where, info | null, note }.
 * `info` is present when a LibTorch directory was found (usable or not: see info.problems).
 */
export function findCandidates(env = process.env) {
  const looked = [];
  if (env.LIBTORCH) {
    looked.push({ source: 'LIBTORCH', where: env.LIBTORCH, info: inspectLibTorch(env.LIBTORCH, 'LIBTORCH') });
  } else {
    looked.push({ source: 'LIBTORCH', where: null, info: null, note: 'LIBTORCH is not set' });
  }
  const py = findPythonTorch(env);
  if (py.found) looked.push({ source: 'python3', where: py.root, info: inspectLibTorch(py.root, `python3: ${py.python}`) });
  else looked.push({ source: 'python3', where: py.python, info: null, note: py.note });
  const roots = cachedLibTorchRoots(env);
  if (roots.length === 0) {
    looked.push({ source: 'cache', where: libtorchCacheDir(env), info: null, note: `nothing provisioned in ${libtorchCacheDir(env)}` });
  }
  for (const root of roots) looked.push({ source: 'cache', where: root, info: inspectLibTorch(root, 'cache') });
  return looked;
}

function lookedText(looked) {
  return looked
    .map((c) => {
      if (!c.info) return `  - ${c.source}: ${c.note}`;
      const state = c.info.problems.length ? `not usable: ${c.info.problems.join('; ')}` : 'usable';
      return `  - ${c.source}: ${describe(c.info)}: ${state}`;
    })
    .join('\n');
}

export function setupCommand(variant = 'cpu') {
  return variant === 'cpu' ? 'npx ulmfit setup' : `npx ulmfit setup --variant ${variant}`;
}

/** Does a LibTorch fit a binary built for `want` ({ release, variant, cxx11Abi })? */
export function fits(info, want) {
  return info.release === want.release && info.variant === want.variant && (want.cxx11Abi == null || info.cxx11Abi === want.cxx11Abi);
}

/**
 * The LibTorch to use among what `findCandidates` found. Without `want`, the first usable one in discovery
 * order. With `want` (what a binary was built for), the first usable one that fits it. An explicit LIBTORCH
 * is never skipped: if it is unusable, or does not fit, that is the error. Throws LibTorchError naming what
 * was found where and the command that fixes it.
 */
export function select(looked, { want = null, env = process.env } = {}) {
  const explicit = looked.find((c) => c.source === 'LIBTORCH')?.info;
  if (explicit) {
    if (explicit.problems.length) {
      throw new LibTorchError(
        `LIBTORCH=${explicit.root} is not usable: ${explicit.problems.join('; ')}.\n` +
          `Fix: point LIBTORCH at an extracted LibTorch ${supportedText} distribution (it holds include/, lib/ and ` +
          `share/cmake/Torch), or unset LIBTORCH and run \`${setupCommand()}\`.`,
      );
    }
    if (want && !fits(explicit, want)) throw mismatchError(want, looked);
    return explicit;
  }
  const usable = looked.filter((c) => c.info && c.info.problems.length === 0).map((c) => c.info);
  const chosen = want ? usable.find((info) => fits(info, want)) : usable[0];
  if (chosen) return chosen;
  if (want && usable.length) throw mismatchError(want, looked);
  const needs = want ? ` (the native binary needs ${wantText(want)})` : '';
  throw new LibTorchError(
    `No usable LibTorch found${needs}. Looked at:\n${lookedText(looked)}\n` +
      `Fix: run \`${setupCommand()}\` (installs torch==${pinnedVersion('cpu', env)} with pip into ${libtorchCacheDir(env)}),\n` +
      `  or set LIBTORCH to an extracted LibTorch ${supportedText} distribution.`,
  );
}

/** findCandidates + select. */
export function discover({ env = process.env, want = null } = {}) {
  return select(findCandidates(env), { want, env });
}

function wantText(want) {
  return `LibTorch ${want.release} (${want.variant === 'cpu' ? 'CPU' : want.variant})`;
}

function mismatchError(want, looked) {
  const provisionIt = want.torchVersion
    ? `npx ulmfit setup --torch-version ${want.torchVersion}${want.variant === 'cpu' ? '' : ' --variant cuda'}`
    : setupCommand(want.variant === 'cpu' ? 'cpu' : 'cuda');
  return new LibTorchError(
    `The ulmfit native addon was built for ${wantText(want)}, and no LibTorch found fits it. Looked at:\n` +
      `${lookedText(looked)}\n` +
      `Fix: run \`npx ulmfit setup --rebuild\` to compile against the first usable LibTorch listed,\n` +
      `  or run \`${provisionIt}\` to install a fitting one,\n` +
      `  or set LIBTORCH to a LibTorch ${want.release} (${want.variant}) distribution.`,
  );
}

/**
 * Installs torch with pip into the cache directory (`pip install --target`), atomically: a half-finished
 * install is never picked up. Returns the inspected LibTorch.
 */
export function provision({ variant = defaultVariant(), env = process.env, log = console.error } = {}) {
  if (variant !== 'cpu' && variant !== 'cuda') throw new LibTorchError(`variant must be "cpu" or "cuda", got "${variant}"`);
  const version = pinnedVersion(variant, env);
  const dir = path.join(libtorchCacheDir(env), `torch-${version}`);
  const root = path.join(dir, 'torch');
  if (fs.existsSync(root)) {
    log(`ulmfit: LibTorch ${version} is already in ${dir}`);
    return inspectLibTorch(root, 'cache');
  }
  const python = pythonCommand(env);
  const partial = `${dir}.partial`;
  fs.rmSync(partial, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  // The CPU build needs nothing but the torch package itself; the CUDA build needs NVIDIA's wheels too.
  const args = ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-input', '--target', partial];
  if (variant === 'cpu') args.push('--no-deps');
  if (env.ULMFIT_PIP_ARGS) args.push(...env.ULMFIT_PIP_ARGS.split(/\s+/).filter(Boolean));
  args.push(`torch==${version}`);
  log(`ulmfit: installing LibTorch (torch==${version}, ${variant}) into ${dir}`);
  log(`ulmfit: running ${python} ${args.join(' ')}`);
  const run = spawnSync(python, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
  if (run.error || run.status !== 0) {
    fs.rmSync(partial, { recursive: true, force: true });
    const why = run.error ? `${python} could not be run (${run.error.code ?? run.error.message})` : `pip exited with ${run.status}`;
    throw new LibTorchError(
      `Installing torch==${version} failed: ${why}.\n` +
        `Fix: make sure \`${python} -m pip --version\` works (Debian: apt-get install python3-pip), then run \`${setupCommand(variant)}\` again;\n` +
        `  set ULMFIT_PIP_ARGS (e.g. an --index-url for PyTorch's wheel index) or ULMFIT_TORCH_VERSION to change what pip fetches.`,
    );
  }
  fs.renameSync(partial, dir);
  const info = inspectLibTorch(root, 'cache');
  if (info.problems.length) throw new LibTorchError(`The provisioned ${describe(info)} is not usable: ${info.problems.join('; ')}`);
  log(`ulmfit: ready: ${describe(info)}`);
  return info;
}

// Command line, for binding.gyp and scripts: `node scripts/libtorch.js json|include|libdir|abi|cmake-dir`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const what = process.argv[2] ?? 'json';
  try {
    const info = discover();
    const out = {
      json: () => JSON.stringify(info, null, 2),
      include: () => info.includeDirs.join(' '),
      libdir: () => info.libDir,
      abi: () => String(info.cxx11Abi),
      'cmake-dir': () => info.cmakeDir ?? '',
    }[what];
    if (!out) throw new LibTorchError(`unknown query "${what}" (json, include, libdir, abi, cmake-dir)`);
    process.stdout.write(out() + '\n');
  } catch (err) {
    process.stderr.write(`ulmfit: ${err.message}\n`);
    process.exit(1);
  }
}
