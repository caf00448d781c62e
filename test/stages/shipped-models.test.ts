// The general-domain LM shipped in models/general-lm: reachable by name, bfloat16 on disk, trained (far
// better than chance on English it never saw), and a starting point for fine-tuning by name.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { dispose, evaluate, fineTuneLanguageModel, load, modelDirectory, shippedModel, type TextLanguageModel } from '../../src/index.js';
import { describeModelDirectory } from '../../src/cli/model-info.js';
import { RULES_VERSION } from '../../src/text/tokenizer.js';
import { sotuTexts } from '../helpers/real-text.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-shipped-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('the shipped general-domain language model', () => {
  const dir = shippedModel('general');

  it('is in the package with bf16 weights and its provenance', () => {
    expect(dir).not.toBeNull();
    const config = JSON.parse(fs.readFileSync(path.join(dir!, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ kind: 'awd-lstm-lm', model: { embSize: 96, hiddenSize: 256, numLayers: 2 } });
    expect(config.vocabulary).toMatchObject({ direction: 'forward', rulesVersion: RULES_VERSION });
    const weights = fs.readFileSync(path.join(dir!, 'weights.safetensors'));
    const header = JSON.parse(weights.subarray(8, 8 + Number(weights.readBigUInt64LE(0))).toString('utf8'));
    expect(new Set(Object.entries(header).flatMap(([k, v]) => (k === '__metadata__' ? [] : [(v as { dtype: string }).dtype])))).toEqual(
      new Set(['BF16']),
    );
    expect(fs.existsSync(path.join(dir!, 'optimizer.safetensors'))).toBe(false);
    const provenance = JSON.parse(fs.readFileSync(path.join(dir!, 'provenance.json'), 'utf8'));
    expect(provenance.weights.sha256).toBe(config.files['weights.safetensors'].sha256);
    expect(provenance.reproduce.join('\n')).toContain('ulmfit pretrain general-corpus-out/train.jsonl');
  });

  it('loads by name and reads English it never saw far better than chance', async () => {
    expect(modelDirectory('general')).toBe(dir);
    expect(describeModelDirectory('general')[0]).toMatchObject({ dir, kind: 'awd-lstm-lm', training: { state: 'none saved' } });
    const lm = load('general') as TextLanguageModel;
    try {
      expect(lm.kind).toBe('language-model');
      // State of the Union addresses are kept out of its corpus.
      const metrics = await evaluate(lm, sotuTexts(3, 3000), { batchSize: 8, seqLen: 64 });
      expect(metrics.perplexity).toBeLessThan(400); // uniform over 30,008 tokens: 30,008
    } finally {
      dispose(lm);
    }
  }, 120_000);

  it("is fine-tuned by name ('general'), a directory of that name coming first", async () => {
    const target = (await fineTuneLanguageModel('general', sotuTexts(4, 1500).slice(2), {
      batchSize: 8,
      seqLen: 32,
      epochs: 1,
      frozenEpochs: 0,
      encode: { vocabularyOptions: { minFreq: 1 } },
    })) as TextLanguageModel;
    expect(target.model.config).toMatchObject({ embSize: 96, hiddenSize: 256 });
    dispose(target);
    const own = path.join(tmp, 'general');
    fs.mkdirSync(own);
    const cwd = process.cwd();
    process.chdir(tmp);
    try {
      expect(modelDirectory('general')).toBe('general');
      expect(() => load('general')).toThrow(/general\/config\.json is missing/);
    } finally {
      process.chdir(cwd);
    }
  }, 120_000);
});
