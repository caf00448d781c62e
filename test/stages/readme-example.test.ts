// The README's three-stage example, run as written (in a fresh Node process against the compiled package,
// with a scratch working directory for the model it saves).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { expect, it } from 'vitest';

import { PACKAGE_ROOT } from '../helpers/child.js';

it('the README three-stage example runs as written and saves its classifier', () => {
  const readme = fs.readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
  const match = /<!-- example: three stages[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme);
  expect(match, 'the README has the three-stage example').not.toBeNull();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-readme-'));
  // Imports resolve from the package root ('ulmfit' is the package itself); files land in `work`.
  const script = path.join(PACKAGE_ROOT, `.readme-example-${process.pid}.mjs`);
  fs.writeFileSync(script, `process.chdir(${JSON.stringify(work)});\n${match![1]}`);
  try {
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 240_000 });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/errorRate/);
    expect(run.stdout).toMatch(/label: '(spam|ham)'/);
    expect(fs.existsSync(path.join(work, 'spam-classifier', 'config.json'))).toBe(true);
    expect(fs.existsSync(path.join(work, 'spam-classifier', 'training-state.json'))).toBe(true);
  } finally {
    fs.rmSync(script, { force: true });
    fs.rmSync(work, { recursive: true, force: true });
  }
}, 300_000);
