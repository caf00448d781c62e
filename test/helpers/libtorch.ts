// Test LibTorch directories: hard-linked copies of the real one (cheap, and dlopen sees a genuinely
// different path), and tiny fake trees for inspection-only checks.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { discover, ulmfitHome, type LibTorchInfo } from '../../scripts/libtorch.js';

let real: LibTorchInfo | null = null;

/** The LibTorch the suite runs on (found the way the loader finds it). */
export function realLibTorch(): LibTorchInfo {
  real ??= discover();
  return real;
}

/** A scratch directory on the same filesystem as the real LibTorch, so hard links work. */
export function scratchDir(prefix: string): string {
  const candidates = [os.tmpdir(), path.join(ulmfitHome(), 'tmp')];
  for (const base of candidates) {
    fs.mkdirSync(base, { recursive: true });
    const dir = fs.mkdtempSync(path.join(base, `ulmfit-${prefix}-`));
    const probe = path.join(dir, '.probe');
    try {
      fs.linkSync(path.join(realLibTorch().libDir!, 'libc10.so'), probe);
      fs.rmSync(probe);
      return dir;
    } catch {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  throw new Error('no scratch directory on the same filesystem as LibTorch');
}

/**
 * A hard-linked copy of the real LibTorch at `dest` (what a package that was moved looks like): the parts
 * discovery and the loader read (include, lib, share, version.py, and __init__.py so python can find it).
 */
export function linkedLibTorch(dest: string): string {
  const src = realLibTorch().root;
  fs.mkdirSync(dest, { recursive: true });
  for (const part of ['include', 'lib', 'share', 'version.py', '__init__.py', 'build-version']) {
    if (!fs.existsSync(path.join(src, part))) continue;
    const cp = spawnSync('cp', ['-al', path.join(src, part), dest]);
    if (cp.status !== 0) throw new Error(`cp -al failed: ${cp.stderr}`);
  }
  return dest;
}

/** Replaces a hard-linked file with a new one (never writes through the link into the real LibTorch). */
export function rewrite(file: string, content: string): void {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, content);
}

/** A tiny fake LibTorch tree: enough for inspection, nothing loadable. */
export function fakeLibTorch(dest: string, { version = '2.13.0+cpu', cxx11 = true, cuda = false } = {}): string {
  fs.mkdirSync(path.join(dest, 'include', 'ATen'), { recursive: true });
  fs.mkdirSync(path.join(dest, 'lib'), { recursive: true });
  fs.writeFileSync(path.join(dest, 'include', 'ATen', 'ATen.h'), '');
  fs.writeFileSync(path.join(dest, 'version.py'), `__version__ = '${version}'\ncuda = ${cuda ? "'13.0'" : 'None'}\n`);
  fs.writeFileSync(path.join(dest, 'lib', 'libc10.so'), cxx11 ? 'fake _ZNSt7__cxx1112basic_string' : 'fake');
  for (const lib of ['libtorch_cpu.so', 'libtorch.so', ...(cuda ? ['libc10_cuda.so', 'libtorch_cuda.so'] : [])]) {
    fs.writeFileSync(path.join(dest, 'lib', lib), 'fake');
  }
  return dest;
}

/** The environment of a machine where only what the test names exists: no LIBTORCH, no python torch, empty cache. */
export function isolatedEnv(scratch: string, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !['LIBTORCH', 'PYTHONPATH', 'ULMFIT_HOME', 'ULMFIT_ADDON_DIR', 'ULMFIT_PYTHON'].includes(k)) env[k] = v;
  }
  env.ULMFIT_HOME = path.join(scratch, 'home');
  return { ...env, ...extra };
}
