// A classifier remembers how its training documents were shaped (the token limit, the text fields joined
// into each document) and predict / evaluate shape theirs the same way unless told otherwise; a stage never
// replaces a saved model unless it resumes it or is told to overwrite it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  DataError,
  dispose,
  evaluate,
  joinFields,
  load,
  ModelDirectoryError,
  predict,
  pretrainLanguageModel,
  trainClassifier,
  type AnyClassifier,
  type TextClassifier,
  type TextLanguageModel,
} from '../../src/index.js';
import { sotuTexts, spamAssassinMessages } from '../helpers/real-text.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-input-shape-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tiny = { batchSize: 8, seqLen: 16, seed: 3 };
const cls = { batchSize: 8, seed: 3 };
const messages = spamAssassinMessages(20, 600);
// Each message as two fields: its first line as a subject, the rest as its body.
const records = messages.map((m) => {
  const cut = m.text.indexOf('\n') > 0 ? m.text.indexOf('\n') : 40;
  return { subject: m.text.slice(0, cut), body: m.text.slice(cut + 1), label: m.label };
});
const jsonl = path.join(tmp, 'messages.jsonl');
const fields = { path: jsonl, textField: ['subject', 'body'] };
const dir = path.join(tmp, 'classifier');
let lm: TextLanguageModel;
let loaded: TextClassifier;

beforeAll(async () => {
  fs.writeFileSync(jsonl, records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  lm = (await pretrainLanguageModel(sotuTexts(6, 1000), {
    ...tiny,
    config: { embSize: 16, hiddenSize: 24, numLayers: 2 },
    epochs: 1,
    encode: { vocabularyOptions: { minFreq: 1 } },
  })) as TextLanguageModel;
  const trained = (await trainClassifier(lm, fields, {
    ...cls,
    config: { seqLen: 16 },
    maxTokens: 24,
    epochs: 1,
    minStepsPerEpoch: 0,
    dir,
  })) as TextClassifier;
  expect(trained.input).toEqual({ maxTokens: 24, textFields: ['subject', 'body'] });
  dispose(trained);
  loaded = load(dir) as TextClassifier;
}, 300_000);

afterAll(() => {
  if (loaded) dispose(loaded);
  if (lm) dispose(lm);
});

describe('a classifier keeps how its documents were shaped', () => {
  it('stores the token limit and the text fields in config.json and reads them back', () => {
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config.input).toEqual({ maxTokens: 24, textFields: ['subject', 'body'] });
    expect(loaded.input).toEqual(config.input);
  });

  it("predicts with the model's token limit and fields by default; an explicit option overrides", async () => {
    const some = records.slice(0, 10);
    const byName = await predict(
      loaded,
      some.map(({ subject, body }) => ({ subject, body })),
    );
    expect(
      await predict(
        loaded,
        some.map((r) => [r.subject, r.body]),
      ),
    ).toEqual(byName);
    expect(
      await predict(
        loaded,
        some.map((r) => joinFields([r.subject, r.body])),
      ),
    ).toEqual(byName);
    expect(
      await predict(
        loaded,
        some.map((r) => ({ subject: r.subject, body: r.body })),
        { maxTokens: 24 },
      ),
    ).toEqual(byName);
    const everyToken = await predict(
      loaded,
      some.map((r) => [r.subject, r.body]),
      { maxTokens: null },
    );
    expect(everyToken).not.toEqual(byName); // the messages are longer than 24 tokens
  });

  it('names the fields when a text comes without them, and refuses other tokenizer rules', async () => {
    await expect(predict(loaded, ['just a body'])).rejects.toThrow(DataError);
    await expect(predict(loaded, ['just a body'])).rejects.toThrow(
      /texts\[0\]: the classifier reads documents of 2 fields \(subject, body\): give each as an object of those fields/,
    );
    await expect(predict(loaded, [{ subject: 'hi' }])).rejects.toThrow(/texts\[0\] has no field "body"/);
    await expect(predict(loaded, [['a', 'b', 'c']])).rejects.toThrow(/texts\[0\] has 3 field values; the model reads 2/);
    await expect(predict(loaded, [['a', 'b']], { tokenizer: { rulesName: 'mine' } })).rejects.toThrow(
      /built with tokenizer rules "fastai2\.7-spacy3\.8-en\.1", these options give "fastai2\.7-spacy3\.8-en\.1\+mine"/,
    );
  });

  it("evaluates files with the model's fields and token limit unless they are given", async () => {
    const byDefault = await evaluate(loaded as AnyClassifier, { path: jsonl });
    expect(await evaluate(loaded as AnyClassifier, fields, { maxTokens: 24 })).toEqual(byDefault);
    const inMemory = records.map((r) => ({ text: { subject: r.subject, body: r.body }, label: r.label }));
    expect(await evaluate(loaded as AnyClassifier, inMemory)).toEqual(byDefault);
  });
});

describe('a saved model is never replaced by mistake', () => {
  it('refuses to train into a model directory without resume or overwrite, leaving it as it was', async () => {
    const before = fs.readFileSync(path.join(dir, 'config.json'));
    const again = trainClassifier(lm, fields, { ...cls, config: { seqLen: 16 }, epochs: 1, minStepsPerEpoch: 0, dir });
    await expect(again).rejects.toThrow(ModelDirectoryError);
    await expect(trainClassifier(lm, fields, { ...cls, dir })).rejects.toThrow(
      `${dir} already holds a model: resume its run (resume: true, --resume) or replace it (overwrite: true, --overwrite)`,
    );
    expect(fs.readFileSync(path.join(dir, 'config.json'))).toEqual(before);
    await expect(pretrainLanguageModel(sotuTexts(2, 500), { ...tiny, dir })).rejects.toThrow(/already holds a model/);
    await expect(trainClassifier(lm, fields, { ...cls, dir, resume: true, overwrite: true })).rejects.toThrow(
      'resume and overwrite contradict each other',
    );
  });

  it('replaces it when told to overwrite', async () => {
    const replaced = (await trainClassifier(
      lm,
      { path: jsonl, textField: 'body' },
      {
        ...cls,
        config: { seqLen: 16 },
        epochs: 1,
        minStepsPerEpoch: 0,
        maxTokens: 16,
        dir,
        overwrite: true,
      },
    )) as TextClassifier;
    dispose(replaced);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).input).toEqual({ maxTokens: 16, textFields: null });
  }, 120_000);
});
