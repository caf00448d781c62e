// `ulmfit import` from the command line: a checkpoint written by the real torch.save (test/interop's
// fixtures) and its itos pickle become a model directory that `ulmfit finetune --from` takes; `ulmfit export`
// writes the fine-tuned model back out for PyTorch.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { afterAll, expect, it } from 'vitest';

import { PACKAGE_ROOT } from '../helpers/child.js';
import { sotuTexts } from '../helpers/real-text.js';
import { torchFixtures } from '../interop/fixtures.js';

const bin = path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-cli-import-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const ulmfit = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 240_000, cwd: tmp });

const fixtures = torchFixtures();

it.skipIf(!fixtures)(
  'imports a fastai checkpoint with its itos, and fine-tunes from it',
  () => {
    const run = ulmfit(
      'import',
      '--weights',
      path.join(fixtures!.dir, 'lm_v2.pth'),
      '--vocab',
      path.join(fixtures!.dir, 'itos_lm.pkl'),
      '--out',
      'imported',
    );
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/imported a fastai-v2 language-model .* into imported/);
    expect(JSON.parse(fs.readFileSync(path.join(tmp, 'imported', 'config.json'), 'utf8')).kind).toBe('awd-lstm-lm');
    fs.writeFileSync(path.join(tmp, 'corpus.txt'), sotuTexts(3, 2000).join('\n'));
    const ft = ulmfit(
      'finetune',
      'corpus.txt',
      '--format',
      'lines',
      '--from',
      'imported',
      '--out',
      'target',
      '--batch-size',
      '4',
      '--seq-len',
      '8',
      '--epochs',
      '1',
      '--min-freq',
      '1',
    );
    expect(ft.status, ft.stderr).toBe(0);
    expect(ft.stdout).toMatch(/finetune: validation perplexity/);
    const bad = ulmfit(
      'import',
      '--weights',
      path.join(fixtures!.dir, 'evil_system.pkl'),
      '--vocab',
      path.join(fixtures!.dir, 'itos_lm.pkl'),
      '--out',
      'evil',
    );
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/os\.system|posix\.system/);
    expect(fs.existsSync(path.join(tmp, 'evil'))).toBe(false);

    // And back out: the fine-tuned model as a safetensors file of fastai v2 names.
    const out = ulmfit('export', '--from', 'target', '--out', 'target.safetensors', '--json');
    expect(out.status, out.stderr).toBe(0);
    const done = JSON.parse(out.stdout);
    expect(done).toMatchObject({ kind: 'awd-lstm-lm', out: 'target.safetensors' });
    expect(done.keys).toEqual(expect.arrayContaining(['0.encoder.weight', '0.encoder_dp.emb.weight', '1.decoder.weight']));
    expect(fs.statSync(path.join(tmp, 'target.safetensors')).size).toBe(done.bytes);
    const usage = ulmfit('export', '--from', 'target', '--out', 'target.pt');
    expect(usage.status).toBe(2);
    expect(usage.stderr).toMatch(/out: must name a file ending in \.safetensors/);
    const pair = ulmfit('export', '--from', 'nowhere', '--out', 'x.safetensors');
    expect(pair.status).toBe(1);
    expect(pair.stderr).toMatch(/nowhere.*config\.json is missing/);
  },
  300_000,
);
