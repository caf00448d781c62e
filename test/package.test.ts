// The published package: `npm pack` ships prebuilt binaries (never LibTorch), and the tarball installs into
// an empty project on a machine with no compiler and runs native code from there.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { LOCAL_BUILDS } from '../scripts/binaries.js';
import { PACKAGE_ROOT } from './helpers/child.js';

let scratch: string;
let tarball: string;
let tools: string; // a PATH with node, python3 and sh only
let cleanEnv: Record<string, string>;

function run(command: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
  const r = spawnSync(command, args, { ...options, encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, out: `${r.stdout}\n${r.stderr}`, stdout: r.stdout, stderr: r.stderr };
}

const npmCli = fs.realpathSync(spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim());
const npm = (args: string[], cwd: string, env = cleanEnv) => run(process.execPath, [npmCli, ...args], { cwd, env });

function emptyProject(name: string, extra: object = {}): string {
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, private: true, type: 'module', ...extra }));
  return dir;
}

const useIt = `
  const m = await import('ulmfit');
  const r = await m.matmul({ a: new Float32Array([3]), aShape: [1, 1], b: new Float32Array([14]), bShape: [1, 1] });
  console.log(JSON.stringify({ value: r.data[0], binary: m.info().binary.kind }));`;

// What `npm pack` would take from the checkout, copied aside so that writing prebuilds/ never races the
// other test files that load binaries from the checkout.
const PACKED = ['package.json', 'README.md', 'binding.gyp', 'CMakeLists.txt', 'bin', 'dist', 'native', 'scripts', 'models'];

const stage = (name: string) => {
  const staged = path.join(scratch, name);
  for (const entry of PACKED) fs.cpSync(path.join(PACKAGE_ROOT, entry), path.join(staged, entry), { recursive: true });
  return staged;
};
const prepack = (staged: string) =>
  run(process.execPath, ['scripts/prepack.js'], { cwd: staged, env: process.env as Record<string, string> });

beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-pack-'));
  const staged = stage('package');
  // npm pack's prepack step, as in a checkout after `npm install`: the local build becomes the prebuild.
  fs.cpSync(LOCAL_BUILDS[0]!.dir, path.join(staged, 'build', 'Release'), { recursive: true });
  const prepacked = prepack(staged);
  expect(prepacked.status, prepacked.out).toBe(0);
  expect(prepacked.stderr).toMatch(/ulmfit: npm pack: shipping prebuilds\/linux-x64\/torch-2\.1\d-cpu/);
  fs.rmSync(path.join(staged, 'build'), { recursive: true });
  // dist/ is already compiled (npm test builds it first), so pack without running prepare (or prepack) again.
  const packed = run(process.execPath, [npmCli, 'pack', '--json', '--ignore-scripts', '--pack-destination', scratch], {
    cwd: staged,
    env: process.env as Record<string, string>,
  });
  expect(packed.status, packed.out).toBe(0);
  const manifest = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')))[0];
  tarball = path.join(scratch, manifest.filename);

  tools = path.join(scratch, 'bin');
  fs.mkdirSync(tools);
  fs.symlinkSync(process.execPath, path.join(tools, 'node'));
  fs.symlinkSync('/bin/sh', path.join(tools, 'sh')); // npm runs lifecycle scripts with sh
  const python = spawnSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).stdout.trim();
  fs.symlinkSync(python, path.join(tools, 'python3'));
  cleanEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('npm_') && !['LIBTORCH', 'PYTHONPATH', 'ULMFIT_ADDON_DIR', 'INIT_CWD'].includes(k))
      cleanEnv[k] = v;
  }
  cleanEnv.PATH = tools;
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const useOnnx = `import fs from 'node:fs';
import { loadOnnxClassifier } from 'ulmfit/onnx';
fs.writeFileSync('m.onnx', 'not yet');
const error = await loadOnnxClassifier('m.onnx').then(() => null, (e) => e.message);
console.log(JSON.stringify({ libtorchMapped: fs.readFileSync('/proc/self/maps', 'utf8').includes('libtorch'), error }));`;

describe('the packed package', () => {
  it('ships the prebuilt binaries and the sources, never LibTorch', () => {
    const list = run('tar', ['-tzf', tarball], { cwd: scratch, env: process.env as Record<string, string> }).stdout.split('\n');
    expect(list.some((f) => /^package\/prebuilds\/linux-x64\/torch-2\.1\d-cpu\/ulmfit\.node$/.test(f))).toBe(true);
    expect(list.some((f) => f.endsWith('/ulmfit_loader.node'))).toBe(true);
    expect(list).toContain('package/dist/index.js');
    expect(list).toContain('package/native/addon.cc');
    expect(list).toContain('package/binding.gyp');
    // The general-domain LM, by name: fineTuneLanguageModel('general', ...), ulmfit finetune --from general.
    for (const f of ['config.json', 'vocab.json', 'weights.safetensors', 'provenance.json'])
      expect(list).toContain(`package/models/general-lm/${f}`);
    expect(list.filter((f) => /\.so(\.\d+)*$/.test(f))).toEqual([]);
    expect(fs.statSync(tarball).size).toBeLessThan(20 * 1024 * 1024);
  });

  it('cannot be packed without a binary of its native sources: npm pack stops and says what to run', () => {
    expect(JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).scripts.prepack).toBe('node scripts/prepack.js');
    const bare = stage('bare');
    const refused = prepack(bare);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('ulmfit: npm pack: no prebuilt binary of these native sources in prebuilds/linux-x64/');
    expect(refused.stderr).toContain('run `npm run build:gyp && npm run prebuild` first');
    // A prebuild left from other sources is refused too, by name.
    fs.cpSync(path.join(scratch, 'package', 'prebuilds'), path.join(bare, 'prebuilds'), { recursive: true });
    fs.appendFileSync(path.join(bare, 'native', 'addon.cc'), '\n// changed\n');
    const stale = prepack(bare);
    expect(stale.status).toBe(1);
    expect(stale.stderr).toMatch(/prebuilds\/linux-x64\/torch-2\.1\d-cpu is not a complete build of these native sources: delete it/);
  });

  it('finds no compiler on the test PATH', () => {
    const found = run('/bin/sh', ['-c', 'command -v g++ c++ gcc cc make clang || true'], { cwd: scratch, env: cleanEnv });
    expect(found.stdout.trim()).toBe('');
  });

  it('installs into an empty project without a compiler and runs native code', () => {
    // npm 11 runs a dependency's install script only where the project allows it; without that (the
    // --ignore-scripts case below) the loader still works from the prebuild.
    const app = emptyProject('app', { allowScripts: { [`file:${tarball}`]: true } });
    const install = npm(['install', tarball, '--foreground-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app);
    expect(install.status, install.out).toBe(0);
    expect(install.out).toContain('ulmfit: using the prebuilt binary prebuilds/');
    expect(fs.existsSync(path.join(app, 'node_modules', 'ulmfit', 'build'))).toBe(false);
    const used = run(process.execPath, ['--input-type=module', '-e', useIt], { cwd: app, env: cleanEnv });
    expect(used.stderr).toBe('');
    expect(JSON.parse(used.stdout)).toEqual({ value: 42, binary: 'prebuild' });
    const cli = run(path.join(app, 'node_modules', '.bin', 'ulmfit'), ['info', '--json'], { cwd: app, env: cleanEnv });
    expect(cli.status, cli.out).toBe(0);
    expect(JSON.parse(cli.stdout).binary.kind).toBe('prebuild');
    // ulmfit/onnx loads no LibTorch, and says what to install for ONNX Runtime (an optional peer dependency).
    const onnx = run(process.execPath, ['--input-type=module', '-e', useOnnx], { cwd: app, env: cleanEnv });
    expect(JSON.parse(onnx.stdout)).toEqual({
      libtorchMapped: false,
      error: expect.stringMatching(/^ulmfit\/onnx needs onnxruntime-node: npm install onnxruntime-node --onnxruntime-node-install=skip/),
    });
  });

  it('works from the prebuild with --ignore-scripts, or says what to run when LibTorch is missing', () => {
    const app = emptyProject('app-ignore-scripts');
    const install = npm(['install', tarball, '--ignore-scripts', '--prefer-offline', '--no-audit', '--no-fund'], app);
    expect(install.status, install.out).toBe(0);
    const used = run(process.execPath, ['--input-type=module', '-e', useIt], { cwd: app, env: cleanEnv });
    expect(JSON.parse(used.stdout)).toEqual({ value: 42, binary: 'prebuild' });

    const bare = { ...cleanEnv, ULMFIT_HOME: path.join(scratch, 'empty-home'), ULMFIT_PYTHON: '/nonexistent/python3' };
    const missing = run(process.execPath, ['--input-type=module', '-e', useIt], { cwd: app, env: bare });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('No usable LibTorch found');
    expect(missing.stderr).toMatch(/the native binary needs LibTorch 2\.1\d \(CPU\)/);
    expect(missing.stderr).toContain('npx ulmfit setup');
  });
});
