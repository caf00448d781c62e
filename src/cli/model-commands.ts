// `ulmfit evaluate | predict | generate`: using a trained model directory from the command line.
import fs from 'node:fs';

import { Command } from 'commander';

import { LabelledSourceSchema } from '../data/labelled-reader.js';
import { CorpusSourceSchema } from '../data/corpus-reader.js';
import { evaluate, predict, PredictOptionsSchema } from '../stages/inference.js';
import { generate, GenerateOptionsSchema } from '../stages/generate.js';
import { dispose, load, type AnyClassifier, type AnyTextModel, type TextLanguageModel } from '../stages/text-models.js';
import type { FieldsInput } from '../data/fields.js';
import { positiveInt, UsageError } from './run-context.js';
import { addSchemaFlags, applyFlags } from './schema-flags.js';

function isClassifier(model: AnyTextModel): model is AnyClassifier {
  return (model.kind === 'bidirectional' ? model.forward.kind : model.kind) === 'classifier';
}

function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(
      `predict: --file ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message}`,
    );
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

// One input of a model trained on several text fields: a JSON object of those fields, or a JSON list of their values.
function fieldsOf(line: string, fields: readonly (string | number)[], where: string): FieldsInput {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new UsageError(
      `predict: ${where}: the model reads ${fields.length} text fields (${fields.join(', ')}); give each text as a JSON object of them or a JSON list of their values`,
    );
  }
  return value as FieldsInput;
}

export function addModelCommands(cli: Command): void {
  const evaluateCmd = cli
    .command('evaluate')
    .description(
      "a classifier's metrics on a labelled set (loss, accuracy, error rate, macro-F1, confusion), or a language model's perplexity on text",
    )
    .argument('<data...>', 'the labelled set (or, for a language model, the text): files, directories, globs')
    .requiredOption('--model <dir>', 'the model directory (a pair: the directory holding forward/ and backward/)')
    .option('--max-tokens <n>', "keep at most this many tokens of each document (default: the model's, as in training)", positiveInt)
    .option('--json', 'print JSON');
  const labelled = addSchemaFlags(evaluateCmd, LabelledSourceSchema, ['source'], ['path', 'classes']);
  evaluateCmd.action(async (data: string[], flags: Record<string, unknown>, command: Command) => {
    const { source = {} } = applyFlags(command, labelled, {}) as { source?: Record<string, unknown> };
    const model = load(flags.model as string);
    try {
      let metrics: Record<string, unknown>;
      if (isClassifier(model)) {
        metrics = {
          ...(await evaluate(model, { ...source, path: data } as never, flags.maxTokens ? { maxTokens: flags.maxTokens as number } : {})),
        };
      } else {
        const lm = model.kind === 'bidirectional' ? model.forward : model;
        const corpus = CorpusSourceSchema.parse({ path: data });
        metrics = { ...(await evaluate(lm as TextLanguageModel, corpus)) };
      }
      if (flags.json) process.stdout.write(`${JSON.stringify(metrics)}\n`);
      else {
        for (const [k, v] of Object.entries(metrics))
          process.stdout.write(`${k}: ${typeof v === 'number' ? Number(v.toPrecision(6)) : JSON.stringify(v)}\n`);
      }
    } finally {
      dispose(model);
    }
  });

  const predictCmd = cli
    .command('predict')
    .description('class probabilities for texts (arguments, --file with one text per line, or stdin): one JSON line per text, in order')
    .argument('[texts...]', 'texts to classify')
    .requiredOption('--model <dir>', 'the classifier directory (a pair: the directory holding forward/ and backward/)')
    .option('--file <file>', 'read texts from a file, one per line');
  const predictFlags = addSchemaFlags(predictCmd, PredictOptionsSchema, [], ['tokenizer']);
  predictCmd.action(async (texts: string[], flags: Record<string, unknown>, command: Command) => {
    const options = applyFlags(command, predictFlags, {});
    let inputs = texts;
    if (flags.file) {
      if (texts.length) throw new UsageError('predict: give texts as arguments or --file, not both');
      inputs = readTextFile(flags.file as string)
        .split(/\r?\n/)
        .filter((l) => l.length > 0);
    } else if (texts.length === 0) {
      if (process.stdin.isTTY) throw new UsageError('predict: give texts as arguments, --file, or on stdin');
      inputs = (await readStdin()).split(/\r?\n/).filter((l) => l.length > 0);
    }
    const model = load(flags.model as string);
    try {
      if (!isClassifier(model))
        throw new UsageError(`predict: ${String(flags.model)} holds a language model, not a classifier (try generate)`);
      const fields = (model.kind === 'bidirectional' ? model.forward : model).input.textFields;
      const where = flags.file ? String(flags.file) : texts.length ? 'argument' : 'stdin';
      const predictions = await predict(
        model,
        fields ? inputs.map((line, i) => fieldsOf(line, fields, `${where} ${i + 1}`)) : inputs,
        options,
      );
      predictions.forEach((p, i) => process.stdout.write(`${JSON.stringify({ text: inputs[i], ...p })}\n`));
    } finally {
      dispose(model);
    }
  });

  const generateCmd = cli
    .command('generate')
    .description('text from a language model: the prompt, continued')
    .argument('<prompt>', 'the text to continue')
    .requiredOption('--model <dir>', 'the language model directory')
    .option('--json', 'print JSON');
  const generateFlags = addSchemaFlags(generateCmd, GenerateOptionsSchema, [], ['tokenizer']);
  generateCmd.action(async (prompt: string, flags: Record<string, unknown>, command: Command) => {
    const model = load(flags.model as string);
    try {
      if (isClassifier(model)) throw new UsageError(`generate: ${String(flags.model)} holds a classifier, not a language model`);
      const out = await generate(model, prompt, applyFlags(command, generateFlags, {}));
      process.stdout.write(flags.json ? `${JSON.stringify(out)}\n` : `${out.text}\n`);
    } finally {
      dispose(model);
    }
  });
}
