// `ulmfit info --model DIR`: what a model directory holds, from its files alone (no LibTorch): the model's
// kind and sizes, its vocabulary, a classifier's classes and how its documents were shaped in training
// (predict and evaluate shape theirs the same way), and where its training stands.
import fs from 'node:fs';
import path from 'node:path';

import { FILES, PLAIN_INPUT, readModelDirectory } from '../model/directory.js';
import { modelDirectory } from '../stages/shipped-models.js';

/** The model directory `source` (a pair: forward/ and backward/ inside it; or a shipped model's name), as JSON-ready data. */
export function describeModelDirectory(source: string): Record<string, unknown>[] {
  const dir = modelDirectory(source);
  const pair = !fs.existsSync(path.join(dir, FILES.config)) && fs.existsSync(path.join(dir, 'forward', FILES.config));
  return (pair ? [path.join(dir, 'forward'), path.join(dir, 'backward')] : [dir]).map(describeOne);
}

function describeOne(dir: string): Record<string, unknown> {
  const { config, classes, trainingState } = readModelDirectory(dir);
  const state = trainingState?.json as { finished?: boolean; history?: unknown[]; position?: { stepsDone?: number } } | undefined;
  return {
    dir,
    kind: config.kind,
    direction: config.vocabulary.direction,
    model: config.model,
    vocabulary: { size: config.vocabulary.size, rulesVersion: config.vocabulary.rulesVersion },
    ...(classes ? { classes, input: config.input ?? PLAIN_INPUT } : {}),
    training: {
      frozenBefore: config.training.frozenBefore,
      state: state ? (state.finished ? 'finished' : 'stopped (resumable)') : 'none saved',
      epochs: state?.history?.length ?? 0,
      steps: state?.position?.stepsDone ?? 0,
    },
    files: Object.fromEntries(Object.entries(config.files).map(([name, f]) => [name, f.bytes])),
  };
}

/** The same, as lines of text. */
export function modelDirectoryLines(described: Record<string, unknown>[]): string[] {
  return described.flatMap((d) => {
    const model = d.model as Record<string, unknown>;
    const vocabulary = d.vocabulary as { size: number; rulesVersion: string | null };
    const training = d.training as { frozenBefore: number; state: string; epochs: number; steps: number };
    const input = d.input as { maxTokens: number | null; textFields: (string | number)[] | null } | undefined;
    const bytes = Object.values(d.files as Record<string, number>).reduce((a, b) => a + b, 0);
    return [
      `${String(d.dir)}: ${String(d.kind)} (${String(d.direction)}), emb ${String(model.embSize)}, hidden ${String(model.hiddenSize)}, ${String(model.numLayers)} layers`,
      `  vocabulary: ${vocabulary.size} tokens, tokenizer rules ${vocabulary.rulesVersion ?? 'unknown'}`,
      ...(d.classes ? [`  classes: ${(d.classes as string[]).join(', ')}`] : []),
      ...(input
        ? [
            `  input: ${input.maxTokens === null ? 'every token' : `first ${input.maxTokens} tokens`} of each document; ` +
              (input.textFields ? `text fields ${input.textFields.join(', ')} (joined with xxfld markers)` : 'one text field'),
          ]
        : []),
      `  training: ${training.state}, ${training.epochs} epochs, ${training.steps} steps; groups from ${training.frozenBefore} train`,
      `  files: ${Object.keys(d.files as object).join(', ')} (${(bytes / 2 ** 20).toFixed(1)} MiB)`,
    ];
  });
}
