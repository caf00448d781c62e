// Bad input through every CLI command: malformed flag values, missing arguments, unknown flags and commands,
// model directories that are not there. Each must exit with 2 (bad usage) or 1 (a failed run) and say on
// stderr what was wrong, naming the option, flag or path; never a stack trace, never exit 0.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PACKAGE_ROOT } from '../helpers/child.js';

const bin = path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js');
let cwd = '';
beforeAll(() => {
  cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-bad-cli-'));
  fs.writeFileSync(path.join(cwd, 'corpus.txt'), 'the film was good .\n');
  fs.writeFileSync(path.join(cwd, 'labelled.csv'), 'label,text\npos,good\nneg,bad\n');
});
afterAll(() => fs.rmSync(cwd, { recursive: true, force: true }));

const CASES: [args: string, exit: number, stderr: RegExp][] = [
  ['pretrain corpus.txt --out o --batch-size 0', 2, /pretrainLanguageModel options: batchSize: Too small/],
  ['pretrain corpus.txt --out o --batch-size abc', 2, /'--batch-size <n>' argument 'abc' is invalid/],
  ['pretrain corpus.txt --out o --device cuda:x', 2, /device: must be "cpu", "cuda" or "cuda:N"/],
  ['pretrain corpus.txt --out o --bogus', 2, /unknown option '--bogus'/],
  ['pretrain --out o', 2, /missing required argument 'data'/],
  ['pretrain corpus.txt --config missing.json --out o', 2, /--config missing\.json: no such file/],
  ['pretrain missing.txt --out o', 1, /missing\.txt: no such file or directory/],
  ['finetune corpus.txt --out o', 2, /required option '--from <dir>'/],
  ['finetune corpus.txt --from nowhere --out o', 1, /nowhere\/config\.json is missing: is this a ulmfit model directory\?/],
  ['train labelled.csv --encoder nowhere --out o --lr -1', 2, /trainClassifier options: lr: Too small/],
  ['train labelled.csv --out o', 2, /required option '--encoder <dir>'/],
  ['lr-find bogus corpus.txt', 2, /unknown command 'bogus'/],
  ['predict good', 2, /required option '--model <dir>'/],
  ['predict --model nowhere good', 1, /nowhere\/config\.json is missing/],
  ['evaluate labelled.csv --model nowhere', 1, /nowhere\/config\.json is missing/],
  ['generate the --model nowhere', 1, /nowhere\/config\.json is missing/],
  ['import --out x', 2, /required option '--weights <value>' not specified/],
  ['import --weights missing.pth --vocab v.pkl --out x', 1, /missing\.pth/],
  [
    'export --from x --out y.onnx --format pytorch',
    2,
    /out: must name a file ending in \.safetensors \(--format pytorch\) or \.onnx \(--format onnx\)/,
  ],
  ['export --from x --out y.pt', 2, /export options: out: must name a file ending in \.safetensors \(--format pytorch\) or \.onnx/],
  ['demo --size huge', 2, /demo options: size: Invalid option/],
  ['demo --seed x', 2, /'--seed <n>' argument 'x' is invalid\. must be a whole number, 0 or more/],
  [
    'evaluate labelled.csv --model nowhere --max-tokens lots',
    2,
    /'--max-tokens <n>' argument 'lots' is invalid\. must be a positive integer/,
  ],
  ['predict --model nowhere --file missing.txt', 2, /predict: --file missing\.txt: no such file/],
  ['info --model nowhere', 1, /nowhere\/config\.json is missing/],
  ['info --size 0', 2, /'--size <n>' argument '0' is invalid/],
  ['nonsense', 2, /unknown command 'nonsense'/],
];

describe('every command refuses bad input with a message and an exit code', () => {
  for (const [args, exit, stderr] of CASES) {
    it(`ulmfit ${args}`, () => {
      const run = spawnSync(process.execPath, [bin, ...args.split(' ')], { cwd, encoding: 'utf8', timeout: 60_000 });
      expect(run.status, run.stderr).toBe(exit);
      expect(run.stderr).toMatch(stderr);
      expect(run.stderr).not.toMatch(/^\s+at /m); // no stack trace
      expect(fs.existsSync(path.join(cwd, 'o'))).toBe(false);
    });
  }
});
