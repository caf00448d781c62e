// ONNX export against the LibTorch engine on real text (State of the Union sentences): classifiers of 1, 2
// and 3 layers, forward, backward and a pair, documents shorter and longer than maxLen, give predict()'s
// probabilities under ONNX Runtime (onnxruntime-node, through the LibTorch-free entry point) within 1e-4;
// a language model gives the engine's next-token logits. Every graph passes structural checks (each input
// defined before use, one opset) and, where Python's onnx imports, onnx.checker. Files that are not ONNX,
// not ours, or not a classifier are refused naming the file; so is a model directory of another version.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  dispose,
  exportOnnx,
  languageModelToOnnx,
  predict,
  pretrainLanguageModel,
  trainClassifier,
  type AnyClassifier,
  type AnyLanguageModel,
  type TextLanguageModel,
} from '../../src/index.js';
import { GraphBuilder, encodeModel } from '../../src/onnx/graph.js';
import { loadOnnxClassifier } from '../../src/onnx/node.js';
import { PACKAGE_ROOT } from '../helpers/child.js';
import { sotuTexts } from '../helpers/real-text.js';
import { freePort } from '../helpers/free-port.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-onnx-'));
const sentences = sotuTexts(12, 6000)
  .flatMap((t) => t.split(/(?<=[.!?])\s+/))
  .filter((s) => s.length > 30);
const labelled = sentences.slice(0, 160).map((text, i) => ({ text, label: i % 3 === 0 ? 'first' : 'other' }));
// Short and long sentences, a paragraph, and one document of some 2,000 tokens (beyond the default maxLen 1440).
const samples = [...sentences.slice(160, 176), sentences.slice(176, 186).join(' '), sentences.slice(0, 160).join(' '), ''];

const lms: AnyLanguageModel[] = [];
const classifiers: { name: string; model: AnyClassifier; file: string }[] = [];

async function build(layers: number, direction: 'forward' | 'backward' | 'both', classifier: Record<string, unknown>) {
  const lm = await pretrainLanguageModel(sentences, {
    config: { embSize: 8, hiddenSize: 12, numLayers: layers },
    encode: { vocabularyOptions: { minFreq: 2 } },
    batchSize: 8,
    seqLen: 16,
    epochs: 1,
    direction,
  });
  lms.push(lm);
  const model = await trainClassifier(lm, labelled, { batchSize: 8, epochs: 1, minStepsPerEpoch: 0, ...classifier, direction });
  const name = `${layers} layer(s), ${direction}, ${JSON.stringify(classifier)}`;
  const file = path.join(tmp, `classifier-${layers}-${direction}.onnx`);
  exportOnnx(model, file);
  classifiers.push({ name, model, file });
}

beforeAll(async () => {
  await build(1, 'forward', { config: { seqLen: 16 } });
  await build(2, 'both', { config: { seqLen: 16, maxLen: 20 } });
  await build(3, 'backward', { config: { seqLen: 8, maxLen: 24 }, maxTokens: 40 });
}, 300_000);

afterAll(() => {
  for (const c of classifiers) dispose(c.model);
  for (const lm of lms) dispose(lm);
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Every node input defined before use (graph input, initializer or earlier output), outputs produced, one opset. */
function structuralProblems(file: string): string[] {
  const model = onnxProto.onnx.ModelProto.decode(fs.readFileSync(file));
  const graph = model.graph!;
  const defined = new Set([...(graph.input ?? []).map((i) => i.name), ...(graph.initializer ?? []).map((t) => t.name)]);
  const problems: string[] = [];
  for (const node of graph.node ?? []) {
    for (const input of node.input ?? [])
      if (input !== '' && !defined.has(input)) problems.push(`${node.opType}: ${input} used before it is defined`);
    for (const output of node.output ?? []) defined.add(output);
  }
  for (const output of graph.output ?? []) if (!defined.has(output.name)) problems.push(`output ${output.name} is never produced`);
  if (model.opsetImport.length !== 1 || Number(model.opsetImport[0]!.version) !== 17) problems.push('not opset 17 alone');
  return problems;
}

// Python's own checker where `onnx` imports (ULMFIT_TEST_PYTHONPATH may hold it), else null.
function pythonChecker(file: string): string | null {
  const env = { ...process.env, PYTHONPATH: process.env.ULMFIT_TEST_PYTHONPATH ?? '' };
  if (spawnSync('python3', ['-c', 'import onnx'], { env }).status !== 0) return null;
  const run = spawnSync('python3', ['-c', 'import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)', file], {
    env,
    encoding: 'utf8',
  });
  return run.status === 0 ? 'ok' : run.stderr;
}

describe('ONNX export', () => {
  it('classifiers of 1, 2 and 3 layers, forward, backward and a pair: ONNX Runtime gives predict() within 1e-4', async () => {
    expect(samples.some((s) => s.split(' ').length > 1440)).toBe(true);
    for (const c of classifiers) {
      const ours = await predict(c.model, samples);
      const onnx = await loadOnnxClassifier(c.file);
      const theirs = await onnx.predict(samples, { batchSize: 5 });
      await onnx.dispose();
      let worst = 0;
      ours.forEach((p, i) => {
        expect(theirs[i]!.label, `${c.name}: text ${i}`).toBe(p.label);
        for (const k of Object.keys(p.probabilities)) worst = Math.max(worst, Math.abs(p.probabilities[k]! - theirs[i]!.probabilities[k]!));
      });
      expect(worst, c.name).toBeLessThan(1e-4);
      expect(structuralProblems(c.file), c.name).toEqual([]);
      const checked = pythonChecker(c.file);
      // CI installs Python's onnx (ULMFIT_REQUIRE_ONNX_CHECKER=1): there the checker must run.
      if (checked === null) expect(process.env.ULMFIT_REQUIRE_ONNX_CHECKER, 'python3 cannot import onnx').not.toBe('1');
      else expect(checked, c.name).toBe('ok');
    }
  });

  it("a language model: ONNX Runtime's next-token logits are the engine's", async () => {
    const lm = lms[1]!.kind === 'bidirectional' ? (lms[1]!.forward as TextLanguageModel) : (lms[1] as TextLanguageModel);
    const [rows, time] = [3, 12];
    const ids = Int32Array.from({ length: rows * time }, (_, i) => 2 + ((i * 7) % (lm.vocab.length - 2)));
    lm.model.resetState('generate');
    const ours = await lm.model.nextTokenLogits(ids, rows);
    const session = await ort.InferenceSession.create(languageModelToOnnx(lm));
    const result = await session.run({
      tokens: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [rows, time]),
      lengths: new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: rows }, () => BigInt(time)),
        [rows],
      ),
    });
    const logits = result.logits!.data as Float32Array;
    const vocab = lm.vocab.length;
    let worst = 0;
    for (let r = 0; r < rows; r++)
      for (let v = 0; v < vocab; v++)
        worst = Math.max(worst, Math.abs(logits[(r * time + time - 1) * vocab + v]! - ours.logits[r * vocab + v]!));
    expect(worst).toBeLessThan(1e-4);
    await session.release();
  });

  it('refuses files that are not ONNX, not ours, or not a classifier, and a model directory of another version', async () => {
    const json = path.join(tmp, 'notes.json');
    fs.writeFileSync(json, JSON.stringify({ hello: 'world' }));
    await expect(loadOnnxClassifier(json)).rejects.toThrow(new RegExp(`${json}: not an ONNX model`));
    await expect(loadOnnxClassifier(path.join(tmp, 'missing.onnx'))).rejects.toThrow(/missing\.onnx: cannot read it \(ENOENT\)/);
    const foreign = path.join(tmp, 'foreign.onnx');
    const g = new GraphBuilder();
    g.nodes.push({ opType: 'Identity', name: 'id', input: ['x'], output: ['y'] });
    fs.writeFileSync(
      foreign,
      encodeModel(g, 'other', [{ name: 'x', type: 'float', shape: [1] }], [{ name: 'y', type: 'float', shape: [1] }], {}, '0'),
    );
    await expect(loadOnnxClassifier(foreign)).rejects.toThrow(/foreign\.onnx: an ONNX model, but not one exported by ulmfit/);
    const lmFile = path.join(tmp, 'lm.onnx');
    exportOnnx(lms[0]!, lmFile);
    await expect(loadOnnxClassifier(lmFile)).rejects.toThrow(/lm\.onnx: holds a language-model, not a classifier/);

    // Our file with its metadata changed: another format version, tokenizer rules the entry point lacks.
    const rewrite = (change: (m: Record<string, unknown>) => void) => {
      const model = onnxProto.onnx.ModelProto.decode(fs.readFileSync(classifiers[0]!.file));
      const meta = JSON.parse(model.metadataProps[0]!.value!) as Record<string, unknown>;
      change(meta);
      model.metadataProps[0]!.value = JSON.stringify(meta);
      const file = path.join(tmp, 'rewritten.onnx');
      fs.writeFileSync(file, onnxProto.onnx.ModelProto.encode(model).finish());
      return file;
    };
    await expect(loadOnnxClassifier(rewrite((m) => (m.formatVersion = 2)))).rejects.toThrow(
      /rewritten\.onnx: exported in format version 2; this ulmfit reads version 1/,
    );
    await expect(loadOnnxClassifier(rewrite((m) => (m.rulesVersion = 'fastai-1+mine')))).rejects.toThrow(
      /rewritten\.onnx: its vocabulary was built with tokenizer rules "fastai-1\+mine"; the ONNX entry point has the default rules/,
    );

    const dir = path.join(tmp, 'old-classifier');
    const { save } = await import('../../src/index.js');
    save(classifiers[0]!.model, dir);
    const config = path.join(dir, 'config.json');
    fs.writeFileSync(config, JSON.stringify({ ...JSON.parse(fs.readFileSync(config, 'utf8')), formatVersion: 99 }));
    expect(() => exportOnnx(dir, path.join(tmp, 'old.onnx'))).toThrow(/config\.json: format version 99; this ulmfit reads version 1/);
  });

  it("the README's ONNX server example answers a POST with the classifier's predictions", async () => {
    const readme = fs.readFileSync(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const example = /<!-- example: onnx server[^>]*-->\n```js\n([\s\S]*?)```/.exec(readme)![1]!;
    const work = fs.mkdtempSync(path.join(tmp, 'server-'));
    fs.copyFileSync(classifiers[0]!.file, path.join(work, 'classifier.onnx'));
    // As written, but on a free port; imports resolve from the package root ('ulmfit' is the package itself).
    const port = await freePort();
    const script = path.join(PACKAGE_ROOT, `.readme-onnx-${process.pid}.mjs`);
    fs.writeFileSync(script, `process.chdir(${JSON.stringify(work)});\n${example.replace('listen(8080)', `listen(${port})`)}`);
    const server = spawn(process.execPath, [script], { cwd: PACKAGE_ROOT, stdio: 'ignore' });
    try {
      const texts = samples.slice(0, 3);
      let response: Response | null = null;
      for (let tries = 0; !response && tries < 100; tries++) {
        response = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify({ texts }) }).catch(() => null);
        if (!response) await new Promise((r) => setTimeout(r, 100));
      }
      const answered = (await response!.json()) as { label: string }[];
      expect(answered.map((p) => p.label)).toEqual((await predict(classifiers[0]!.model, texts)).map((p) => p.label));
    } finally {
      server.kill();
      fs.rmSync(script, { force: true });
    }
  });

  it('ulmfit export --format onnx writes the file; a wrong extension is named', () => {
    const dir = path.join(tmp, 'cli-classifier');
    const out = path.join(tmp, 'cli.onnx');
    const cli = (args: string[]) =>
      spawnSync(process.execPath, [path.join(PACKAGE_ROOT, 'bin/ulmfit.js'), 'export', ...args], { encoding: 'utf8' });
    return import('../../src/index.js').then(({ save }) => {
      save(classifiers[1]!.model, dir);
      const ok = cli(['--from', dir, '--out', out, '--format', 'onnx', '--json']);
      expect(ok.status, ok.stderr).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ out, format: 'onnx' });
      expect(structuralProblems(out)).toEqual([]);
      const wrong = cli(['--from', dir, '--out', path.join(tmp, 'x.safetensors'), '--format', 'onnx']);
      expect(wrong.status).toBe(2);
      expect(wrong.stderr).toMatch(/must name a file ending in \.safetensors \(--format pytorch\) or \.onnx \(--format onnx\)/);
    });
  });
});
