// The command line, command by command, on small real text: the three stages, predict / evaluate /
// generate, lr-find, usage errors, a bad file, --json output, and Ctrl-C leaving a resumable state.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PACKAGE_ROOT } from '../helpers/child.js';
import { sotuTexts, spamAssassinMessages } from '../helpers/real-text.js';

const bin = path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function ulmfit(args: string[], input?: string) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
    cwd: tmp,
    ...(input !== undefined ? { input } : {}),
  });
}

const at = (...p: string[]) => path.join(tmp, ...p);
const tinyLm = ['--emb-size', '16', '--hidden-size', '24', '--num-layers', '2', '--batch-size', '8', '--seq-len', '16', '--min-freq', '1'];
const jsonLines = (out: string) =>
  out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('ulmfit pretrain / finetune / train / predict / evaluate / generate', () => {
  beforeAll(() => {
    fs.mkdirSync(at('speeches'));
    sotuTexts(10, 1500).forEach((t, i) => fs.writeFileSync(at('speeches', `${String(i).padStart(2, '0')}.txt`), t));
    const messages = spamAssassinMessages(25, 600);
    fs.writeFileSync(at('messages.jsonl'), messages.map((m) => JSON.stringify({ text: m.text })).join('\n') + '\n');
    fs.writeFileSync(at('labelled.jsonl'), messages.map((m) => JSON.stringify({ text: m.text, label: m.label })).join('\n') + '\n');
  });

  it('runs the three stages with --json progress, writing model directories and reports', () => {
    const pre = ulmfit(['pretrain', 'speeches', '--out', 'general', ...tinyLm, '--epochs', '1', '--lr', '0.01', '--json']);
    expect(pre.status, pre.stderr).toBe(0);
    const events = jsonLines(pre.stdout);
    const steps = events.filter((e) => e.event === 'step');
    expect(steps.length).toBeGreaterThan(3);
    expect(steps[0]).toMatchObject({ stage: 'pretrain', direction: 'forward', plan: 0, epoch: 0, step: 1 });
    expect(typeof steps[0]!.loss).toBe('number');
    expect(steps[0]!.lrs).toHaveLength(3);
    expect(events.find((e) => e.event === 'epoch')).toMatchObject({ stage: 'pretrain', valid: { perplexity: expect.any(Number) } });
    expect(events.at(-1)).toMatchObject({ event: 'done', dir: 'general', report: path.join('general', 'report.html') });
    for (const f of ['config.json', 'weights.safetensors', 'training-state.json', 'report.html', 'run.json'])
      expect(fs.existsSync(at('general', f)), f).toBe(true);

    const ft = ulmfit([
      'finetune',
      'messages.jsonl',
      '--from',
      'general',
      '--out',
      'target',
      '--batch-size',
      '8',
      '--seq-len',
      '16',
      '--epochs',
      '1',
      '--frozen-epochs',
      '1',
      '--lr',
      '0.01',
      '--min-freq',
      '1',
    ]);
    expect(ft.status, ft.stderr).toBe(0);
    expect(ft.stdout).toMatch(/finetune: validation perplexity [\d.]+; model in target/);
    expect(ft.stdout).toMatch(/report: target\/report\.html/);

    const train = ulmfit([
      'train',
      'labelled.jsonl',
      '--encoder',
      'target',
      '--out',
      'classifier',
      '--batch-size',
      '8',
      '--seq-len',
      '16',
      '--epochs',
      '1',
      '--max-tokens',
      '64',
      '--lr',
      '0.02',
    ]);
    expect(train.status, train.stderr).toBe(0);
    expect(train.stdout).toMatch(/train: validation error [\d.]+%; model in classifier/);
    const html = fs.readFileSync(at('classifier', 'report.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).toContain('validation confusion');
  }, 600_000);

  it('predicts from arguments, a file and stdin as JSON lines in order; evaluates; generates', () => {
    const texts = ['Click here to claim your FREE prize now', 'The build failed again, see the log attached'];
    const args = ulmfit(['predict', '--model', 'classifier', ...texts]);
    expect(args.status, args.stderr).toBe(0);
    const fromArgs = jsonLines(args.stdout);
    expect(fromArgs.map((p) => p.text)).toEqual(texts);
    for (const p of fromArgs) expect(['ham', 'spam']).toContain(p.label);
    fs.writeFileSync(at('texts.txt'), texts.join('\n') + '\n');
    expect(jsonLines(ulmfit(['predict', '--model', 'classifier', '--file', 'texts.txt']).stdout)).toEqual(fromArgs);
    expect(jsonLines(ulmfit(['predict', '--model', 'classifier'], texts.join('\n')).stdout)).toEqual(fromArgs);

    const evaluation = ulmfit(['evaluate', 'labelled.jsonl', '--model', 'classifier', '--max-tokens', '64', '--json']);
    expect(evaluation.status, evaluation.stderr).toBe(0);
    // Without --max-tokens, the model's own limit from training (64).
    expect(ulmfit(['evaluate', 'labelled.jsonl', '--model', 'classifier', '--json']).stdout).toBe(evaluation.stdout);
    const info = ulmfit(['info', '--model', 'classifier']);
    expect(info.status, info.stderr).toBe(0);
    expect(info.stdout).toContain('classes: ham, spam');
    expect(info.stdout).toContain('input: first 64 tokens of each document; one text field');
    expect(JSON.parse(ulmfit(['info', '--model', 'classifier', '--json']).stdout)).toMatchObject({
      kind: 'awd-lstm-classifier',
      input: { maxTokens: 64, textFields: null },
      training: { state: 'finished' },
    });
    expect(JSON.parse(evaluation.stdout)).toMatchObject({
      accuracy: expect.any(Number),
      errorRate: expect.any(Number),
      macroF1: expect.any(Number),
    });
    const lm = ulmfit(['evaluate', 'messages.jsonl', '--model', 'target', '--json']);
    expect(lm.status, lm.stderr).toBe(0);
    expect(JSON.parse(lm.stdout)).toMatchObject({ perplexity: expect.any(Number) });

    const gen = ulmfit(['generate', 'Dear friend', '--model', 'target', '--words', '8', '--seed', '2', '--json']);
    expect(gen.status, gen.stderr).toBe(0);
    expect(JSON.parse(gen.stdout).tokens).toHaveLength(8);
    expect(ulmfit(['generate', 'x', '--model', 'classifier']).status).toBe(2);
    expect(ulmfit(['predict', 'x', '--model', 'target']).status).toBe(2);
  }, 300_000);

  it('trains on documents of several fields (--text-field a,b) and predicts from JSON lines of those fields', () => {
    const messages = spamAssassinMessages(25, 600);
    const lines = messages.map((m) => JSON.stringify({ subject: m.text.slice(0, 30), body: m.text.slice(30), label: m.label }));
    fs.writeFileSync(at('fields.jsonl'), lines.join('\n') + '\n');
    const train = ulmfit(
      ['train', 'fields.jsonl', '--encoder', 'target', '--out', 'fields-classifier', '--text-field', 'subject,body'].concat([
        '--batch-size',
        '8',
        '--seq-len',
        '16',
        '--epochs',
        '1',
        '--max-tokens',
        '32',
        '--min-steps-per-epoch',
        '0',
      ]),
    );
    expect(train.status, train.stderr).toBe(0);
    expect(ulmfit(['info', '--model', 'fields-classifier']).stdout).toContain(
      'input: first 32 tokens of each document; text fields subject, body (joined with xxfld markers)',
    );
    const inputs = ['{"subject":"Win money","body":"Click here now"}', '["Meeting", "See you at noon"]'];
    const predicted = ulmfit(['predict', '--model', 'fields-classifier'], inputs.join('\n'));
    expect(predicted.status, predicted.stderr).toBe(0);
    expect(jsonLines(predicted.stdout).map((p) => p.text)).toEqual(inputs);
    const plain = ulmfit(['predict', '--model', 'fields-classifier', 'just text']);
    expect(plain.status).toBe(2);
    expect(plain.stderr).toContain('predict: argument 1: the model reads 2 text fields (subject, body)');
  }, 300_000);

  it('runs the learning-rate finder alone and prints its suggestions', () => {
    const run = ulmfit([
      'lr-find',
      'train',
      'labelled.jsonl',
      '--encoder',
      'target',
      '--out',
      'lr-find',
      '--batch-size',
      '8',
      '--seq-len',
      '16',
      '--max-tokens',
      '32',
    ]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/suggested learning rates: valley [\d.e-]+, steepest [\d.e-]+/);
    expect(fs.readFileSync(at('lr-find', 'report.html'), 'utf8')).toContain('learning-rate finder');
  }, 300_000);

  it('exits 2 on bad usage and 1 on a bad file, naming the problem', () => {
    const noOut = ulmfit(['pretrain', 'speeches']);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toContain("required option '--out <dir>' not specified");
    const badNumber = ulmfit(['pretrain', 'speeches', '--out', 'x', '--batch-size', 'many']);
    expect(badNumber.status).toBe(2);
    expect(badNumber.stderr).toContain("option '--batch-size <n>' argument 'many' is invalid");
    const badRange = ulmfit(['pretrain', 'speeches', '--out', 'x', '--valid-fraction', '2']);
    expect(badRange.status).toBe(2);
    expect(badRange.stderr).toMatch(/validFraction: Too big/);
    fs.writeFileSync(at('bad.json'), '{ "epochs": ');
    const badConfig = ulmfit(['pretrain', 'speeches', '--out', 'x', '--config', 'bad.json']);
    expect(badConfig.status).toBe(2);
    expect(badConfig.stderr).toMatch(/--config bad\.json: not valid JSON/);
    fs.writeFileSync(at('unknown.json'), '{ "epoch": 3 }');
    const unknownKey = ulmfit(['pretrain', 'speeches', '--out', 'x', '--config', 'unknown.json']);
    expect(unknownKey.status).toBe(2);
    expect(unknownKey.stderr).toContain('"epoch"');
    const missing = ulmfit(['pretrain', 'no-such-dir', '--out', 'x']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no-such-dir');
    const broken = ulmfit(['train', 'labelled.jsonl', '--encoder', 'speeches', '--out', 'x']);
    expect(broken.status).toBe(1);
    expect(broken.stderr).toMatch(/speeches.*config\.json/);
    expect(ulmfit(['import', 'lstm_fwd.pth']).status).toBe(2);
    // A finished model is never replaced by a run started by mistake.
    const again = ulmfit(['pretrain', 'speeches', '--out', 'general', ...tinyLm]);
    expect(again.status).toBe(1);
    expect(again.stderr).toContain('general already holds a model: resume its run (resume: true, --resume) or replace it');
    expect(again.stderr).toContain('--overwrite');
  }, 120_000);

  it('stops on Ctrl-C with exit 130 after saving the training state, and --resume finishes the run', async () => {
    const args = ['pretrain', 'speeches', '--out', 'interrupted', ...tinyLm, '--epochs', '6', '--lr', '0.01', '--json'];
    const child = spawn(process.execPath, [bin, ...args], { cwd: tmp });
    let out = '';
    let err = '';
    let signalled = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (!signalled && out.split('\n').filter((l) => l.includes('"event":"step"')).length >= 3) {
          signalled = true;
          child.kill('SIGINT');
        }
      });
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.on('close', resolve);
    });
    expect(code, err).toBe(130);
    expect(err).toMatch(/run the same command with --resume/);
    const state = JSON.parse(fs.readFileSync(at('interrupted', 'training-state.json'), 'utf8'));
    expect(state.finished).toBe(false);
    const resumed = ulmfit([...args, '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    const resumedSteps = jsonLines(resumed.stdout).filter((e) => e.event === 'step');
    const before = out.split('\n').filter((l) => l.includes('"event":"step"')).length;
    expect(resumedSteps[0]!.step).toBe(before + 1);
    expect(JSON.parse(fs.readFileSync(at('interrupted', 'training-state.json'), 'utf8')).finished).toBe(true);
  }, 600_000);
});
