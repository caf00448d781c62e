// `ulmfit pretrain | finetune | train`, and `ulmfit lr-find <stage>`: the three stages from the command
// line. Data are paths (files, directories, globs) read by the corpus or labelled readers; every option is
// a flag made from the stage's zod schema (or comes from --config file.json); the model directory --out
// receives checkpoints, the model and report.html. Ctrl-C stops after the step in flight with the training
// state saved; the same command with --resume continues.
import path from 'node:path';

import { Command, Option } from 'commander';
import type { z } from 'zod';

import { CorpusSourceSchema } from '../data/corpus-reader.js';
import { ProcessGroup } from '../distributed/process-group.js';
import { info } from '../runtime.js';
import { LabelledSourceSchema } from '../data/labelled-reader.js';
import { ClassifierConfigSchema, LanguageModelConfigSchema } from '../model/config.js';
import { fineTuneLanguageModel, pretrainLanguageModel } from '../stages/language-model-stages.js';
import { trainClassifier } from '../stages/classifier-stage.js';
import { FineTuneOptionsSchema, PretrainOptionsSchema, TrainClassifierOptionsSchema } from '../stages/stage-options.js';
import { dispose, type AnyTextModel, type TextClassifier, type TextLanguageModel } from '../stages/text-models.js';
import { VocabularyOptionsSchema } from '../text/vocabulary.js';
import { fitOptionsSchemaFor } from '../train/learner.js';
import { Progress } from './progress.js';
import { Interrupted, interruptSignal, positiveInt, readConfigFile, reportFor } from './run-context.js';
import { addSchemaFlags, applyFlags, type FlagTarget } from './schema-flags.js';
import { defaultSize, presetOptions, SIZE_NAMES, withPreset, type SizeName, type StageName } from './size-presets.js';

// Stage fields that are not simple flags (data, hooks, nested objects) or have their own.
const NOT_FLAGS = ['dir', 'valid', 'plan', 'config', 'fit', 'encode', 'onStep', 'onEpoch', 'signal', 'lrFindOnly', 'processGroup'];

interface StageSpec {
  description: string;
  data: string;
  schema: z.ZodObject;
  kind: 'language-model' | 'classifier';
  /** The model config schema whose fields become flags (into options.config), if the stage takes one. */
  config: z.ZodObject | null;
  source: z.ZodObject;
  /** --from / --encoder: the model the stage starts from. */
  from: { flag: string; help: string } | null;
}

const STAGES: Record<StageName, StageSpec> = {
  pretrain: {
    description: 'stage 1: train a language model from scratch on a general-domain corpus',
    data: 'the corpus: text files (one document each, or --format lines), .jsonl or .csv; directories or globs',
    schema: PretrainOptionsSchema,
    kind: 'language-model',
    config: LanguageModelConfigSchema,
    source: CorpusSourceSchema,
    from: null,
  },
  finetune: {
    description: "stage 2: fine-tune a pretrained language model on the target task's text",
    data: "the target corpus (the task's text; labels not needed)",
    schema: FineTuneOptionsSchema,
    kind: 'language-model',
    config: null,
    source: CorpusSourceSchema,
    from: {
      flag: '--from <dir>',
      help: "the pretrained language model directory (a pair: the directory holding forward/ and backward/), or 'general': the general-domain LM shipped with ulmfit",
    },
  },
  train: {
    description: "stage 3: train a classifier on a language model's encoder",
    data: 'the labelled set: .csv or .jsonl with label and text, or a folder per label',
    schema: TrainClassifierOptionsSchema,
    kind: 'classifier',
    config: ClassifierConfigSchema,
    source: LabelledSourceSchema,
    from: { flag: '--encoder <dir>', help: 'the fine-tuned language model (or encoder) directory' },
  },
};

function defineStage(parent: Command, name: StageName, lrFindOnly: boolean): Command {
  const spec = STAGES[name];
  const cmd = parent
    .command(name)
    .description(lrFindOnly ? `the learning-rate finder for ${name}: sweep, print suggestions, train nothing` : spec.description)
    .argument('<data...>', spec.data)
    .requiredOption('--out <dir>', lrFindOnly ? 'where report.html goes' : 'the model directory: checkpoints, the model, report.html');
  if (spec.from) cmd.requiredOption(spec.from.flag, spec.from.help);
  cmd
    .option('--valid <paths...>', 'a validation set in the same format (default: validFraction of the data, seeded)')
    .option('--config <file>', "a JSON file of options (any field of the stage's options); flags override it")
    .addOption(
      new Option(
        '--size <size>',
        "the demo's sizes and schedule as the starting options: cpu (a 96/256/2 model, minutes on 2 cores) or paper (the paper's AWD-LSTM); flags override them (default: paper with --device cuda, else cpu)",
      ).choices(SIZE_NAMES),
    )
    .option('--threads <n>', 'tokenizer threads (default: auto)', positiveInt)
    .option('--json', 'machine-readable progress: JSON lines on stdout');
  const targets: FlagTarget[] = [
    ...addSchemaFlags(cmd, spec.schema, [], NOT_FLAGS),
    ...addSchemaFlags(cmd, fitOptionsSchemaFor(spec.kind), ['fit'], ['moms', 'classWeights']),
    // The sizes come from the data (vocabulary) or, for a classifier, from its language model.
    ...(spec.config
      ? addSchemaFlags(
          cmd,
          spec.config,
          ['config'],
          name === 'pretrain' ? ['vocabSize', 'padId'] : ['vocabSize', 'padId', 'numClasses', 'embSize', 'hiddenSize', 'numLayers'],
        )
      : []),
    ...addSchemaFlags(cmd, spec.source, ['source'], ['path', 'classes']),
    ...(name === 'train' ? [] : addSchemaFlags(cmd, VocabularyOptionsSchema, ['encode', 'vocabularyOptions'], ['specialTokens'])),
  ];
  cmd.action(async (data: string[], flags: Record<string, unknown>, command: Command) => {
    const options = applyFlags(command, targets, readConfigFile(flags.config as string | undefined));
    const size = (flags.size as SizeName | undefined) ?? defaultSize(options.device);
    await runStageCommand(name, data, flags, withPreset(presetOptions(name, size), options), lrFindOnly);
  });
  return cmd;
}

async function runStageCommand(
  name: StageName,
  data: string[],
  flags: Record<string, unknown>,
  options: Record<string, unknown>,
  lrFindOnly: boolean,
): Promise<void> {
  const spec = STAGES[name];
  const out = flags.out as string;
  const { source = {}, ...stageOptions } = options as { source?: Record<string, unknown> } & Record<string, unknown>;
  if (flags.threads !== undefined) stageOptions.encode = { ...(stageOptions.encode as object), threads: flags.threads };
  const input = { ...source, path: data };
  const valid = flags.valid ? { ...source, path: flags.valid } : undefined;
  // A worker of `ulmfit launch` (or torchrun) joins its group; rank 0 alone reports and writes --out. On GPUs,
  // each rank takes the one its local rank names (torchrun's convention), and NCCL where the build has it.
  const onGpu = String(stageOptions.device ?? 'cpu').startsWith('cuda');
  const group = await ProcessGroup.fromEnvironment({ backend: onGpu && info().distributed.nccl ? 'nccl' : 'gloo' });
  const speaks = (group?.rank ?? 0) === 0;
  if (group && stageOptions.device === 'cuda') stageOptions.device = `cuda:${process.env.LOCAL_RANK ?? '0'}`;
  const progress = new Progress(Boolean(flags.json));
  const report = reportFor(
    `ulmfit ${lrFindOnly ? 'lr-find ' : ''}${name}`,
    { command: name, data, ...options, ranks: group?.worldSize ?? 1 },
    out,
  );
  const { recorder } = report;
  const write = (finished: boolean) => (speaks ? report.write(finished) : path.join(out, 'report.html'));
  const hooks = recorder.hooks(name, spec.kind, speaks ? progress.hooks(name) : {});
  const { signal, release } = interruptSignal((t) => speaks && progress.say(t));
  const run = {
    ...stageOptions,
    ...(valid ? { valid } : {}),
    ...(lrFindOnly ? { lrFind: stageOptions.lrFind ?? true, lrFindOnly: true } : { dir: out }),
    signal,
    onStep: hooks.onStep,
    onEpoch: (e: Parameters<typeof hooks.onEpoch>[0]) => {
      hooks.onEpoch(e);
      write(false);
    },
    ...(group ? { processGroup: group } : {}),
  };
  let result: AnyTextModel;
  try {
    if (name === 'pretrain') result = await pretrainLanguageModel(input, run as never);
    else if (name === 'finetune') result = await fineTuneLanguageModel(flags.from as string, input, run as never);
    else result = await trainClassifier(flags.encoder as string, input, run as never);
  } finally {
    release();
    progress.stop();
    group?.dispose();
  }
  try {
    const models = (result.kind === 'bidirectional' ? [result.forward, result.backward] : [result]) as (
      TextLanguageModel | TextClassifier
    )[];
    for (const m of models) {
      recorder.finishStage(name, spec.kind, m);
      recorder.stage(name, spec.kind, m.direction).lrFinder = m.lrFinder;
    }
    const reportFile = write(!signal.aborted);
    if (signal.aborted) {
      throw new Interrupted(
        `stopped; the training state is in ${out}: run the same command with --resume to continue (report: ${reportFile})`,
      );
    }
    for (const m of speaks ? models : []) {
      const last = m.history.at(-1)?.valid as Record<string, unknown> | undefined;
      if (flags.json)
        progress.emit({
          event: 'done',
          stage: name,
          direction: m.direction,
          dir: lrFindOnly ? null : out,
          report: reportFile,
          valid: last ?? null,
          lrFinder: m.lrFinder,
        });
      else if (m.lrFinder) {
        const s = m.lrFinder.suggestions;
        process.stdout.write(
          `${name}${m.direction === 'backward' ? ' (backward)' : ''}: suggested learning rates: valley ${s.valley.toPrecision(3)}, steepest ${s.steepest.toPrecision(3)}, minimum/10 ${s.minimumOverTen.toPrecision(3)}\n`,
        );
      }
      if (!flags.json && !lrFindOnly) {
        const what =
          m.kind === 'classifier'
            ? `validation error ${(((last?.errorRate as number) ?? NaN) * 100).toFixed(2)}%`
            : `validation perplexity ${((last?.perplexity as number) ?? NaN).toFixed(2)}`;
        process.stdout.write(`${name}${m.direction === 'backward' ? ' (backward)' : ''}: ${what}; model in ${out}\n`);
      }
    }
    if (!flags.json && speaks) process.stdout.write(`report: ${reportFile}\n`);
  } finally {
    dispose(result);
  }
}

/** Adds pretrain, finetune, train and lr-find <stage> to the program. */
export function addStageCommands(cli: Command): void {
  for (const name of Object.keys(STAGES) as StageName[]) defineStage(cli, name, false);
  const lrFind = cli
    .command('lr-find')
    .description('the learning-rate finder: sweep the rate exponentially, plot the loss, suggest a rate');
  for (const name of Object.keys(STAGES) as StageName[]) defineStage(lrFind, name, true);
}
