import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { PACKAGE_ROOT } from '../helpers/child.js';

const bin = path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js');
const ulmfit = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000 });
const ulmfitWith = (env: Record<string, string>, ...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, ...env } });

describe('ulmfit command', () => {
  it('prints info as JSON and exits 0', () => {
    const run = ulmfit('info', '--json');
    expect(run.status, run.stderr).toBe(0);
    const info = JSON.parse(run.stdout);
    expect(info.libtorch.version).toMatch(/^2\.1[1-4]\./);
    expect(info.cuda).toHaveProperty('available');
    expect(info.bench).toBeNull();
  });

  it('times a matrix product with --bench', () => {
    const run = ulmfit('info', '--bench', '--size', '128');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/matmul 128x128 float32 on cpu: [\d.]+ GFLOP\/s/);
  });

  it('exits 2 on bad usage, naming the problem', () => {
    const unknown = ulmfit('frobnicate');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const badSize = ulmfit('info', '--size', 'x');
    expect(badSize.status).toBe(2);
    expect(badSize.stderr).toContain("option '--size <n>' argument 'x' is invalid");
    expect(ulmfit().status).toBe(2);
  });

  it('exits 1 on a failed run with the reason', () => {
    const run = ulmfit('info', '--bench', '--device', 'cuda:7');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/ulmfit: device "cuda:7": /);
  });

  it('setup keeps an explicit LIBTORCH: a broken one is the error, nothing is installed instead', () => {
    const run = ulmfitWith({ LIBTORCH: '/nonexistent/libtorch' }, 'setup');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('ulmfit: LIBTORCH=/nonexistent/libtorch is not usable: the directory does not exist.');
    expect(run.stderr).not.toContain('installing LibTorch');
  });

  it('setup finds the LibTorch in use and a binary that fits it', () => {
    const run = ulmfit('setup');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/ulmfit: found LibTorch 2\.1\d/);
    expect(run.stderr).toMatch(/ulmfit: native binary: /);
  });

  it('exits 0 on --help', () => {
    const run = ulmfit('--help');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('setup');
    expect(run.stdout).toContain('info');
  });
});
