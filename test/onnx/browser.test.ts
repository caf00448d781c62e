// ulmfit/onnx in a browser: the entry point bundled for the browser by esbuild (no Node built-in, no native
// addon, no LibTorch discovery may be reached), a page served on localhost with onnxruntime-web (WASM), and
// headless Chromium classifying real text with an exported classifier pair: the probabilities of predict()
// in Node within 1e-4. Skips where there is no chromium on PATH (CI installs Debian's).
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

import { dispose, exportOnnx, predict, pretrainLanguageModel, trainClassifier } from '../../src/index.js';
import { PACKAGE_ROOT } from '../helpers/child.js';
import { sotuTexts } from '../helpers/real-text.js';
import { chromium } from '../helpers/chromium.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-onnx-web-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

if (!chromium) console.warn('ONNX browser test skipped: no chromium on PATH (Debian: apt-get install chromium)');

/** The browser entry point as one ESM file; returns the files it was made from. */
async function bundle(out: string): Promise<string[]> {
  const result = await build({
    entryPoints: [path.join(PACKAGE_ROOT, 'src/onnx/browser.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: out,
    metafile: true,
    logLevel: 'silent',
  });
  return Object.keys(result.metafile.inputs);
}

describe('ulmfit/onnx in the browser', () => {
  it('bundles for the browser without Node built-ins, the native addon or LibTorch discovery', async () => {
    const inputs = await bundle(path.join(tmp, 'check.js'));
    expect(inputs.filter((f) => f.startsWith('node:') || /src\/native\/|scripts\/libtorch|src\/runtime/.test(f))).toEqual([]);
    expect(inputs.some((f) => f.includes('src/text/tokenizer'))).toBe(true);
  });

  it.skipIf(!chromium)(
    'classifies text in headless Chromium on onnxruntime-web as predict() does in Node',
    async () => {
      const sentences = sotuTexts(8, 5000)
        .flatMap((t) => t.split(/(?<=[.!?])\s+/))
        .filter((s) => s.length > 30);
      const lm = await pretrainLanguageModel(sentences, {
        config: { embSize: 8, hiddenSize: 12, numLayers: 2 },
        encode: { vocabularyOptions: { minFreq: 2 } },
        batchSize: 8,
        seqLen: 16,
        epochs: 1,
        direction: 'both',
      });
      const labelled = sentences.slice(0, 100).map((text, i) => ({ text, label: i % 2 ? 'odd' : 'even' }));
      const model = await trainClassifier(lm, labelled, {
        batchSize: 8,
        epochs: 1,
        minStepsPerEpoch: 0,
        direction: 'both',
        config: { seqLen: 16, maxLen: 20 },
      });
      const texts = [...sentences.slice(100, 106), sentences.slice(106, 112).join(' ')];
      const expected = await predict(model, texts);
      exportOnnx(model, path.join(tmp, 'model.onnx'));
      dispose(model);
      dispose(lm);
      await bundle(path.join(tmp, 'ulmfit-onnx.js'));
      fs.writeFileSync(path.join(tmp, 'index.html'), '<!doctype html><script src="/ort/ort.wasm.min.js"></script>');

      const ortDist = path.join(PACKAGE_ROOT, 'node_modules/onnxruntime-web/dist');
      const types: Record<string, string> = {
        '.js': 'text/javascript',
        '.mjs': 'text/javascript',
        '.wasm': 'application/wasm',
        '.html': 'text/html',
      };
      const server = http.createServer((req, res) => {
        const url = new URL(req.url!, 'http://localhost').pathname;
        const file = url.startsWith('/ort/') ? path.join(ortDist, url.slice(5)) : path.join(tmp, url === '/' ? 'index.html' : url.slice(1));
        if (!fs.existsSync(file)) return void res.writeHead(404).end();
        res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { default: puppeteer } = await import('puppeteer-core');
      const browser = await puppeteer.launch({ executablePath: chromium!, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
      try {
        const page = await browser.newPage();
        await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { waitUntil: 'load' });
        // Runs in the page (a string: this project compiles without the DOM types).
        const got = (await page.evaluate(`(async () => {
          ort.env.wasm.numThreads = 1;
          ort.env.wasm.wasmPaths = '/ort/';
          const { loadOnnxClassifier } = await import('/ulmfit-onnx.js');
          const classifier = await loadOnnxClassifier('/model.onnx', ort);
          return classifier.predict(${JSON.stringify(texts)});
        })()`)) as typeof expected;
        expect(got).toHaveLength(texts.length);
        got.forEach((p, i) => {
          expect(p.label).toBe(expected[i]!.label);
          for (const k of Object.keys(p.probabilities))
            expect(Math.abs(p.probabilities[k]! - expected[i]!.probabilities[k]!)).toBeLessThan(1e-4);
        });
      } finally {
        await browser.close();
        server.close();
      }
    },
    300_000,
  );
});
