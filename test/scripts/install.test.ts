import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PACKAGE_ROOT } from '../helpers/child.js';
import { isolatedEnv, scratchDir } from '../helpers/libtorch.js';

let scratch: string;
beforeAll(() => {
  scratch = scratchDir('install');
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

describe('npm install hook', () => {
  it('with ULMFIT_NO_AUTO_LIBTORCH=1 and no LibTorch, installs nothing and says what finishes the job', () => {
    const env = isolatedEnv(scratch, { ULMFIT_PYTHON: '/nonexistent/python3', ULMFIT_NO_AUTO_LIBTORCH: '1' });
    const run = spawnSync(process.execPath, [path.join(PACKAGE_ROOT, 'scripts', 'install.js')], { env, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toContain('ulmfit: no LibTorch found, and ULMFIT_NO_AUTO_LIBTORCH=1 turns off installing one.');
    expect(run.stderr).toContain('No usable LibTorch found. Looked at:');
    expect(run.stderr).toContain('ulmfit: installed without a native binary; `npx ulmfit setup` finishes the job.');
    expect(fs.existsSync(path.join(env.ULMFIT_HOME!, 'libtorch'))).toBe(false);
  });
});
