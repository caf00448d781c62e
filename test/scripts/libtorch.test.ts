import fs from 'node:fs';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { findCandidates, inspectLibTorch, provision, select, discover } from '../../scripts/libtorch.js';
import { fakeLibTorch, isolatedEnv, linkedLibTorch, realLibTorch, rewrite, scratchDir } from '../helpers/libtorch.js';

let scratch: string;
let explicitRoot: string; // a LibTorch at its own path, given by LIBTORCH
let sitePackages: string; // a directory holding a torch package, put on python3's path with PYTHONPATH

beforeAll(() => {
  scratch = scratchDir('discovery');
  explicitRoot = linkedLibTorch(path.join(scratch, 'libtorch'));
  sitePackages = path.join(scratch, 'site');
  linkedLibTorch(path.join(sitePackages, 'torch'));
});

afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

const noPython = { ULMFIT_PYTHON: '/nonexistent/python3' };

describe('discovery order', () => {
  it('takes LIBTORCH before a PyTorch that python3 can import', () => {
    const env = isolatedEnv(scratch, { LIBTORCH: explicitRoot, PYTHONPATH: sitePackages });
    const looked = findCandidates(env);
    expect(looked.map((c) => c.source)).toEqual(['LIBTORCH', 'python3', 'cache']);
    expect(looked[1]!.info?.root).toBe(path.join(sitePackages, 'torch'));
    const chosen = discover({ env });
    expect(chosen.source).toBe('LIBTORCH');
    expect(chosen.root).toBe(explicitRoot);
  });

  it('takes python3 torch before the cache', () => {
    const env = isolatedEnv(scratch, { PYTHONPATH: sitePackages });
    fakeLibTorch(path.join(env.ULMFIT_HOME!, 'libtorch', 'torch-2.13.0+cpu', 'torch'));
    const chosen = discover({ env });
    expect(chosen.source).toMatch(/^python3: /);
    expect(chosen.root).toBe(path.join(sitePackages, 'torch'));
    fs.rmSync(env.ULMFIT_HOME!, { recursive: true });
  });

  it('falls back to a copy provisioned in ULMFIT_HOME', () => {
    const env = isolatedEnv(scratch, { ...noPython, ULMFIT_HOME: path.join(scratch, 'home-cache') });
    const root = fakeLibTorch(path.join(env.ULMFIT_HOME!, 'libtorch', 'torch-2.12.1+cpu', 'torch'), { version: '2.12.1+cpu' });
    const chosen = discover({ env });
    expect(chosen.source).toBe('cache');
    expect(chosen.root).toBe(root);
    expect(chosen.version).toBe('2.12.1+cpu');
  });

  it('with a build target, skips what does not fit and takes what does', () => {
    const env = isolatedEnv(scratch, { PYTHONPATH: sitePackages, ULMFIT_HOME: path.join(scratch, 'home-fit') });
    const other = fakeLibTorch(path.join(env.ULMFIT_HOME!, 'libtorch', 'torch-2.12.0+cpu', 'torch'), { version: '2.12.0+cpu' });
    const chosen = select(findCandidates(env), { want: { release: '2.12', variant: 'cpu', cxx11Abi: 1 }, env });
    expect(chosen.root).toBe(other);
  });
});

describe('what discovery reports', () => {
  it('reads release, variant, ABI and paths of the real LibTorch', () => {
    const info = realLibTorch();
    expect(info.problems).toEqual([]);
    expect(info.release).toMatch(/^2\.1[1-4]$/);
    expect(info.cxx11Abi).toBe(1);
    expect(info.libraries.map((l) => path.basename(l)).slice(0, 3)).toEqual(['libc10.so', 'libtorch_cpu.so', 'libtorch.so']);
    expect(fs.existsSync(path.join(info.cmakeDir!, 'TorchConfig.cmake'))).toBe(true);
  });

  it('reports a CUDA build with its CUDA version and the cuDNN beside it', () => {
    const root = fakeLibTorch(path.join(scratch, 'site-cuda', 'torch'), { version: '2.14.1', cuda: true });
    fs.mkdirSync(path.join(scratch, 'site-cuda', 'nvidia', 'cudnn', 'include'), { recursive: true });
    fs.writeFileSync(
      path.join(scratch, 'site-cuda', 'nvidia', 'cudnn', 'include', 'cudnn_version.h'),
      '#define CUDNN_MAJOR 9\n#define CUDNN_MINOR 13\n#define CUDNN_PATCHLEVEL 0\n',
    );
    const info = inspectLibTorch(root, 'test');
    expect(info).toMatchObject({ version: '2.14.1', release: '2.14', variant: 'cu130', cuda: '13.0', cudnn: '9.13.0', problems: [] });
    // Each library after the ones it links against.
    expect(info.libraries.map((l) => path.basename(l))).toEqual([
      'libc10.so',
      'libc10_cuda.so',
      'libtorch_cpu.so',
      'libtorch_cuda.so',
      'libtorch.so',
    ]);
  });
});

describe('what discovery refuses, and the message', () => {
  it('names a LIBTORCH that does not exist and the fix', () => {
    const env = isolatedEnv(scratch, { ...noPython, LIBTORCH: path.join(scratch, 'missing') });
    expect(() => discover({ env })).toThrow(/LIBTORCH=.*missing is not usable: the directory does not exist\.\nFix: .*npx ulmfit setup/s);
  });

  it('names the missing library of a broken LIBTORCH, even when python3 has a good one', () => {
    const broken = linkedLibTorch(path.join(scratch, 'broken'));
    fs.rmSync(path.join(broken, 'lib', 'libtorch_cpu.so'));
    const env = isolatedEnv(scratch, { LIBTORCH: broken, PYTHONPATH: sitePackages });
    expect(() => discover({ env })).toThrow(`LIBTORCH=${broken} is not usable: missing lib/libtorch_cpu.so`);
  });

  it('refuses an unsupported release and says which releases work', () => {
    const old = fakeLibTorch(path.join(scratch, 'old'), { version: '2.9.1+cpu' });
    const env = isolatedEnv(scratch, { ...noPython, LIBTORCH: old });
    expect(() => discover({ env })).toThrow('unsupported release 2.9.1+cpu (ulmfit supports LibTorch 2.11 to 2.14)');
  });

  it('refuses a pre-C++11-ABI build', () => {
    const info = inspectLibTorch(fakeLibTorch(path.join(scratch, 'abi0'), { cxx11: false }), 'test');
    expect(info.cxx11Abi).toBe(0);
    expect(info.problems.join()).toMatch(/pre-C\+\+11 ABI \(_GLIBCXX_USE_CXX11_ABI=0\)/);
  });

  it('lists every place it looked when nothing is found, with the command that fixes it', () => {
    const env = isolatedEnv(scratch, noPython);
    let message = '';
    try {
      discover({ env });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('No usable LibTorch found. Looked at:');
    expect(message).toContain('- LIBTORCH: LIBTORCH is not set');
    expect(message).toContain('- python3: /nonexistent/python3 could not be run (ENOENT)');
    expect(message).toContain(`- cache: nothing provisioned in ${path.join(env.ULMFIT_HOME!, 'libtorch')}`);
    expect(message).toContain('Fix: run `npx ulmfit setup` (installs torch==2.13.0+cpu with pip');
  });

  it('says so when python3 imports a torch of an unsupported release', () => {
    const site = path.join(scratch, 'site-old');
    fakeLibTorch(path.join(site, 'torch'), { version: '2.10.0+cpu' });
    fs.writeFileSync(path.join(site, 'torch', '__init__.py'), '');
    const env = isolatedEnv(scratch, { PYTHONPATH: site });
    expect(() => discover({ env })).toThrow(/- python3: LibTorch 2\.10\.0\+cpu.*not usable: unsupported release 2\.10\.0\+cpu/);
  });
});

describe('provisioning with pip', () => {
  // A stand-in for python3 that answers the find_spec probe (no torch) and `-m pip install --target DIR
  // torch==V` by writing a LibTorch tree, or fails as pip would.
  function fakePython(behaviour: 'install' | 'fail'): string {
    const script = path.join(scratch, `python-${behaviour}`);
    fs.writeFileSync(
      script,
      `#!/bin/sh
if [ "$1" = "-c" ]; then echo '{"origin": null, "exe": "${script}"}'; exit 0; fi
echo "$@" > "${script}.args"
[ "${behaviour}" = fail ] && { echo "ERROR: No matching distribution found" >&2; exit 1; }
while [ $# -gt 0 ]; do case "$1" in --target) target="$2"; shift;; torch==*) version="\${1#torch==}";; esac; shift; done
mkdir -p "$target/torch/include/ATen" "$target/torch/lib"
: > "$target/torch/include/ATen/ATen.h"
echo "__version__ = '$version'" > "$target/torch/version.py"
echo "_ZNSt7__cxx1112basic_string" > "$target/torch/lib/libc10.so"
: > "$target/torch/lib/libtorch_cpu.so"; : > "$target/torch/lib/libtorch.so"
`,
      { mode: 0o755 },
    );
    return script;
  }

  it('installs the pinned CPU torch into ULMFIT_HOME, atomically, and finds it afterwards', () => {
    const python = fakePython('install');
    const env = isolatedEnv(scratch, { ULMFIT_PYTHON: python, ULMFIT_HOME: path.join(scratch, 'home-pip') });
    const lines: string[] = [];
    const info = provision({ variant: 'cpu', env, log: (l) => lines.push(l) });
    expect(info.version).toBe('2.13.0+cpu');
    expect(info.root).toBe(path.join(env.ULMFIT_HOME!, 'libtorch', 'torch-2.13.0+cpu', 'torch'));
    expect(fs.readFileSync(`${python}.args`, 'utf8')).toMatch(
      /-m pip install .*--target .*torch-2\.13\.0\+cpu\.partial --no-deps torch==2\.13\.0\+cpu/,
    );
    expect(lines.join('\n')).toContain('installing LibTorch (torch==2.13.0+cpu, cpu)');
    expect(fs.existsSync(path.join(env.ULMFIT_HOME!, 'libtorch', 'torch-2.13.0+cpu.partial'))).toBe(false);
    expect(discover({ env }).root).toBe(info.root);
  });

  it('reports a failed pip run with the fix, and leaves nothing half-installed', () => {
    const env = isolatedEnv(scratch, { ULMFIT_PYTHON: fakePython('fail'), ULMFIT_HOME: path.join(scratch, 'home-fail') });
    expect(() => provision({ variant: 'cpu', env, log: () => {} })).toThrow(
      /Installing torch==2\.13\.0\+cpu failed: pip exited with 1\.\nFix: /,
    );
    expect(fs.readdirSync(path.join(env.ULMFIT_HOME!, 'libtorch'))).toEqual([]);
  });

  it('rewrites nothing inside the real LibTorch when a test copy is changed', () => {
    const copy = linkedLibTorch(path.join(scratch, 'rewritten'));
    rewrite(path.join(copy, 'version.py'), "__version__ = '2.12.0+cpu'\n");
    expect(inspectLibTorch(copy, 'test').version).toBe('2.12.0+cpu');
    expect(realLibTorch().version).toBe(inspectLibTorch(realLibTorch().root, 'again').version);
  });
});
