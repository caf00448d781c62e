// report.html: built from a run's record, self-contained, and drawn by a real browser (headless Chromium,
// Debian's `chromium` package; the browser test skips with a message where there is none).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { renderReport } from '../../src/report/html.js';
import { RunRecorder } from '../../src/report/run-record.js';
import { confusionChart, lineChart } from '../../src/report/svg.js';
import { writeReport } from '../../src/report/write-report.js';
import { chromium } from '../helpers/chromium.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-report-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A run as the stage functions report it: a language model's 2 epochs and a classifier's 3 (5 groups,
// gradual unfreezing), each step's applied rates and beta1, an LR finder sweep.
function sampleRecord() {
  const recorder = new RunRecorder('sample run', { lr: 0.01 }, { ulmfit: 'test' });
  const lm = recorder.hooks('finetune', 'language-model');
  for (let i = 0; i < 40; i++) {
    lm.onStep({
      direction: 'forward',
      stage: 0,
      epoch: i < 20 ? 0 : 1,
      step: i,
      stageSteps: 40,
      tokens: 512,
      seconds: 0.05,
      loss: 6 - i * 0.05,
      skipped: false,
      optimizer: 'adamw',
      groups: [0, 1, 2, 3].map((g) => ({ lr: 1e-3 * 2.6 ** (g - 3), beta1: 0.7, beta2: 0.99, momentum: 0.7, weightDecay: 0.01 })),
      applied: [0, 1, 2, 3].map((g) => ({
        lr: 1e-3 * 2.6 ** (g - 3),
        beta1: 0.7,
        beta2: 0.99,
        momentum: 0.7,
        weightDecay: 0.01,
        trained: true,
      })),
    });
    if (i % 20 === 19)
      lm.onEpoch({
        direction: 'forward',
        stage: 0,
        epoch: i < 20 ? 0 : 1,
        trainLoss: 5.5,
        skippedSteps: 0,
        valid: { loss: 5 - i * 0.02, perplexity: Math.exp(5 - i * 0.02), accuracy: 0.2, tokens: 900 },
      });
  }
  recorder.finishStage('finetune', 'language-model', {
    direction: 'forward',
    initialValid: { loss: 7, perplexity: Math.exp(7) },
    model: { groups: () => ['rnn0', 'rnn1', 'rnn2', 'embedding+decoder'].map((name) => ({ name })) },
  });
  recorder.stage('finetune', 'language-model').lrFinder = {
    lrs: Array.from({ length: 30 }, (_, i) => 1e-6 * 1.5 ** i),
    losses: Array.from({ length: 30 }, (_, i) => 5 - Math.sin(i / 10) * 2 + (i > 25 ? (i - 25) ** 2 : 0)),
    smoothed: Array.from({ length: 30 }, (_, i) => 5 - Math.sin(i / 10) * 2),
    suggestions: { steepest: 1e-6 * 1.5 ** 8, valley: 1e-6 * 1.5 ** 12, minimumOverTen: (1e-6 * 1.5 ** 15) / 10 },
  };
  const clas = recorder.hooks('classifier', 'classifier');
  for (let i = 0; i < 30; i++) {
    const frozenBefore = Math.max(0, 4 - Math.floor(i / 10));
    clas.onStep({
      direction: 'forward',
      stage: Math.floor(i / 10),
      epoch: Math.floor(i / 10),
      step: i % 10,
      stageSteps: 10,
      tokens: 300,
      seconds: 0.02,
      loss: 0.7 - i * 0.02,
      skipped: i === 5,
      optimizer: 'adamw',
      groups: [0, 1, 2, 3, 4].map(() => ({ lr: 1e-2, beta1: 0.7, beta2: 0.99, momentum: 0.7, weightDecay: 0.01 })),
      applied: [0, 1, 2, 3, 4].map((g) => ({
        lr: g >= frozenBefore ? 1e-2 / 2.6 ** (4 - g) : 0,
        beta1: 0.7,
        beta2: 0.99,
        momentum: 0.7,
        weightDecay: 0.01,
        trained: g >= frozenBefore,
      })),
    });
    if (i % 10 === 9) {
      clas.onEpoch({
        direction: 'forward',
        stage: Math.floor(i / 10),
        epoch: Math.floor(i / 10),
        trainLoss: 0.4,
        skippedSteps: 0,
        valid: {
          loss: 0.3,
          accuracy: 0.9,
          errorRate: 0.1,
          macroF1: 0.88,
          confusion: [
            [40, 3],
            [2, 15],
          ],
          count: 60,
        },
      });
    }
  }
  recorder.finishStage('classifier', 'classifier', {
    direction: 'forward',
    initialValid: { loss: 0.69 },
    classes: ['ham', 'spam'],
    model: { groups: () => ['embedding', 'rnn0', 'rnn1', 'rnn2', 'head'].map((name) => ({ name })) },
  });
  return recorder.finish();
}

describe('report', () => {
  it('renders loss, rate, momentum, LR finder and confusion plots into one page with nothing external', () => {
    const html = renderReport(sampleRecord());
    expect(html.match(/<svg /g)).toHaveLength(3 + 1 + 3 + 1); // LM: loss, lr, momentum, finder; classifier: loss, lr, momentum, confusion
    expect(html).not.toMatch(/<script|src=|href=|@import|url\(/);
    expect(html).toContain('learning-rate finder');
    expect(html).toContain('validation confusion');
    expect(html).toContain('<td>classifier (forward)</td>');
    // A frozen group's rate is 0: on a log axis it leaves a gap, the path starts again when the group trains.
    expect(
      lineChart(
        [
          {
            name: 'a',
            points: [
              [1, 0],
              [2, 1e-3],
              [3, 2e-3],
            ],
          },
        ],
        { title: 't', xLabel: 'x', yLabel: 'y', logY: true },
      ),
    ).toMatch(/d="M[\d.]+ [\d.]+L[\d.]+ [\d.]+"/);
    expect(lineChart([], { title: 'empty', xLabel: 'x', yLabel: 'y' })).toContain('no data');
    expect(
      confusionChart(
        [
          [5, 1],
          [0, 4],
        ],
        ['a', '<b>'],
        'c',
      ),
    ).toContain('&lt;b&gt;');
    const dir = path.join(tmp, 'written');
    const file = writeReport(dir, sampleRecord());
    expect(fs.readFileSync(file, 'utf8')).toContain('<!doctype html>');
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'run.json'), 'utf8')).stages).toHaveLength(2);
  });

  if (!chromium) console.warn('report test in a browser skipped: no chromium on PATH (Debian: apt-get install chromium)');

  it.skipIf(!chromium)(
    'draws in headless Chromium: every plot has visible paths',
    async () => {
      const { default: puppeteer } = await import('puppeteer-core');
      const file = writeReport(path.join(tmp, 'browser'), sampleRecord());
      const browser = await puppeteer.launch({ executablePath: chromium!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage();
        await page.goto(`file://${file}`, { waitUntil: 'load' });
        // Runs in the page (a string: this project compiles without the DOM types).
        const svgs = (await page.evaluate(`[...document.querySelectorAll('svg')].map((svg) => {
        const paths = [...svg.querySelectorAll('path')];
        const drawn = paths.filter((p) => (p.getAttribute('d') || '').length > 0 && p.getTotalLength() > 0 && p.getBoundingClientRect().width > 0);
        return { title: svg.querySelector('.title')?.textContent || '', paths: paths.length, drawn: drawn.length, width: svg.getBoundingClientRect().width };
      })`)) as { title: string; paths: number; drawn: number; width: number }[];
        expect(svgs).toHaveLength(8);
        for (const s of svgs) {
          expect(s.width, s.title).toBeGreaterThan(100);
          expect(s.drawn, `${s.title}: ${s.drawn} of ${s.paths} paths drawn`).toBeGreaterThan(0);
        }
      } finally {
        await browser.close();
      }
    },
    120_000,
  );
});
