import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ADDON, LOADER_ADDON, LOCAL_BUILDS, MANIFEST, listBinaries } from '../../scripts/binaries.js';
import { platformProblem } from '../../scripts/platform.js';
import { DIST_INDEX, runNode } from '../helpers/child.js';
import { isolatedEnv, linkedLibTorch, realLibTorch, rewrite, scratchDir } from '../helpers/libtorch.js';

let scratch: string;

beforeAll(() => {
  scratch = scratchDir('loader');
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

// Loads ulmfit, multiplies two matrices, and reports which libtorch_cpu.so the process mapped.
const probe = `
  import fs from 'node:fs';
  const m = await import(${JSON.stringify(DIST_INDEX)});
  const r = await m.matmul({ a: new Float32Array([1, 2]), aShape: [1, 2], b: new Float32Array([3, 4]), bShape: [2, 1] });
  const maps = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.endsWith('/libtorch_cpu.so'));
  const info = m.info();
  console.log(JSON.stringify({ value: r.data[0], mapped: [...new Set(maps.map((l) => l.slice(l.indexOf('/'))))], builder: info.binary.builder, source: info.libtorch.source }));
`;

/** A copy of this checkout's build in its own directory, its manifest's LibTorch record set (or dropped). */
function buildCopy(name: string, libtorchRoot: string | null): string {
  const build = LOCAL_BUILDS.map((b) => b.dir).find((dir) => fs.existsSync(path.join(dir, MANIFEST)))!;
  const dir = path.join(scratch, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const file of [ADDON, LOADER_ADDON]) fs.copyFileSync(path.join(build, file), path.join(dir, file));
  const { libtorchRoot: _recorded, ...manifest } = JSON.parse(fs.readFileSync(path.join(build, MANIFEST), 'utf8'));
  fs.writeFileSync(path.join(dir, MANIFEST), JSON.stringify(libtorchRoot ? { ...manifest, libtorchRoot } : manifest));
  return dir;
}

describe('relocatable loader', () => {
  it('links the addon with no rpath and no libtorch path', () => {
    for (const binary of listBinaries()) {
      const dyn = spawnSync('readelf', ['-d', binary.addon], { encoding: 'utf8' });
      expect(dyn.status).toBe(0);
      expect(dyn.stdout).not.toMatch(/RPATH|RUNPATH/);
      expect(dyn.stdout).toMatch(/NEEDED.*\[libc10\.so\]/);
    }
  });

  it('runs against the same LibTorch release at another path (a hard-linked copy)', () => {
    const moved = linkedLibTorch(path.join(scratch, 'moved', 'libtorch'));
    const run = runNode(probe, isolatedEnv(scratch, { LIBTORCH: moved, ULMFIT_PYTHON: '/nonexistent/python3' }));
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout);
    expect(out.value).toBe(11);
    expect(out.source).toBe('LIBTORCH');
    expect(out.mapped).toEqual([path.join(moved, 'lib', 'libtorch_cpu.so')]);
    expect(out.mapped[0].startsWith(realLibTorch().root)).toBe(false);
  });

  it('refuses a LibTorch of another release with a clear error, before loading anything', () => {
    const other = linkedLibTorch(path.join(scratch, 'other-release'));
    rewrite(path.join(other, 'version.py'), "__version__ = '2.12.0+cpu'\ncuda = None\n");
    const run = runNode(probe, isolatedEnv(scratch, { LIBTORCH: other, ULMFIT_PYTHON: '/nonexistent/python3' }));
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/The ulmfit native addon was built for LibTorch 2\.1\d \(CPU\), and no LibTorch found fits it/);
    expect(run.stderr).toContain(`- LIBTORCH: LibTorch 2.12.0+cpu, CPU, cxx11 ABI 1 at ${other} (LIBTORCH): usable`);
    expect(run.stderr).toContain('Fix: run `npx ulmfit setup --rebuild`');
    expect(run.stderr).toContain(`or run \`npx ulmfit setup --torch-version ${realLibTorch().version}\` to install a fitting one`);
    expect(run.stderr).not.toMatch(/Segmentation|Aborted|undefined symbol/);
  });

  it('skips a cached LibTorch of another release and says what would fit', () => {
    const home = path.join(scratch, 'home-other');
    const other = linkedLibTorch(path.join(home, 'libtorch', 'torch-2.12.0+cpu', 'torch'));
    rewrite(path.join(other, 'version.py'), "__version__ = '2.12.0+cpu'\n");
    // A build without a record of its LibTorch (a prebuild), so that discovery decides.
    const addonDir = buildCopy('unrecorded-build', null);
    const run = runNode(
      probe,
      isolatedEnv(scratch, { ULMFIT_HOME: home, ULMFIT_PYTHON: '/nonexistent/python3', ULMFIT_ADDON_DIR: addonDir }),
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('no LibTorch found fits it');
    expect(run.stderr).toContain(`- cache: LibTorch 2.12.0+cpu, CPU, cxx11 ABI 1 at ${other} (cache): usable`);
  });

  it('takes the LibTorch its build recorded, without a python3 process; LIBTORCH still decides when set', () => {
    const recorded = linkedLibTorch(path.join(scratch, 'recorded', 'libtorch'));
    const addonDir = buildCopy('recorded-build', recorded);
    // A python3 that fails the test if anything starts it.
    const python = path.join(scratch, 'python-never');
    fs.writeFileSync(python, `#!/bin/sh\necho started >> ${path.join(scratch, 'python-started')}\nexit 1\n`, { mode: 0o755 });
    const run = runNode(probe, isolatedEnv(scratch, { ULMFIT_ADDON_DIR: addonDir, ULMFIT_PYTHON: python }));
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout);
    expect(out.value).toBe(11);
    expect(out.source).toBe('build record');
    expect(out.mapped).toEqual([path.join(recorded, 'lib', 'libtorch_cpu.so')]);
    expect(fs.existsSync(path.join(scratch, 'python-started'))).toBe(false);

    const other = linkedLibTorch(path.join(scratch, 'recorded-explicit', 'libtorch'));
    const explicit = JSON.parse(
      runNode(probe, isolatedEnv(scratch, { ULMFIT_ADDON_DIR: addonDir, ULMFIT_PYTHON: python, LIBTORCH: other })).stdout,
    );
    expect(explicit.source).toBe('LIBTORCH');
    expect(explicit.mapped).toEqual([path.join(other, 'lib', 'libtorch_cpu.so')]);
  });

  it('says what to run when there is no binary at all', () => {
    const empty = fs.mkdtempSync(path.join(scratch, 'no-binary-'));
    const run = runNode(probe, isolatedEnv(scratch, { ULMFIT_ADDON_DIR: empty }));
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`The ulmfit native addon is missing: ULMFIT_ADDON_DIR=${empty} holds no complete build`);
    expect(run.stderr).toContain('Fix: run `npx ulmfit setup`');
  });

  const cmakeBuild = LOCAL_BUILDS.find((b) => b.kind === 'cmake-js')!.dir;
  const haveCmakeBuild = fs.existsSync(path.join(cmakeBuild, 'ulmfit-build.json'));
  // .ci/run builds both routes and sets ULMFIT_REQUIRE_CMAKE_BUILD=1, so there this never skips.
  it.skipIf(!haveCmakeBuild && process.env.ULMFIT_REQUIRE_CMAKE_BUILD !== '1')('loads the cmake-js build the same way', () => {
    const env = { ...process.env, ULMFIT_ADDON_DIR: cmakeBuild };
    const run = runNode(probe, env);
    expect(run.stderr).toBe('');
    const out = JSON.parse(run.stdout);
    expect(out).toMatchObject({ value: 11, builder: 'cmake-js' });
    const dyn = spawnSync('readelf', ['-d', path.join(cmakeBuild, 'ulmfit.node')], { encoding: 'utf8' });
    expect(dyn.stdout).not.toMatch(/RPATH|RUNPATH/);
  });
});

describe('platform contract', () => {
  it('accepts this machine', () => {
    expect(platformProblem()).toBeNull();
  });

  it('says "not supported yet" for other systems, musl and old glibc', () => {
    expect(platformProblem({ platform: 'darwin', arch: 'arm64' })).toBe(
      'ulmfit does not support darwin-arm64 yet: it runs on Linux x86-64 (glibc 2.28 or newer) for now',
    );
    expect(platformProblem({ platform: 'linux', arch: 'arm64' })).toMatch(/does not support linux-arm64 yet/);
    expect(platformProblem({ platform: 'linux', arch: 'x64', glibc: null })).toMatch(/needs glibc \(musl-based/);
    expect(platformProblem({ platform: 'linux', arch: 'x64', glibc: '2.17' })).toMatch(
      /does not support glibc 2\.17 yet: it needs glibc 2\.28/,
    );
    expect(platformProblem({ platform: 'linux', arch: 'x64', glibc: '2.28' })).toBeNull();
  });
});
