// `ulmfit demo`: ULMFiT end to end on real English text with no arguments. A general-domain language
// model (at size cpu the one shipped with the package, else pretrained here on State of the Union
// addresses), fine-tuned on every SpamAssassin message (labels unused), then
// the spam/ham classifier with gradual unfreezing, discriminative rates and STLR, validated on the fixed
// split (demo-data.ts). The CPU size is chosen to finish within 15 minutes on 2 cores (bf16 where the CPU
// has it); --size paper runs the paper's AWD-LSTM (the default with CUDA). What is cut to fit the time
// (documents truncated, part of the general corpus) is said in the output and the report.
import path from 'node:path';

import { Command } from 'commander';
import { z } from 'zod';

import { cpuFeatures } from '../cpu.js';
import { validate } from '../options.js';
import { info } from '../runtime.js';
import { trainClassifier } from '../stages/classifier-stage.js';
import { evaluate } from '../stages/inference.js';
import { fineTuneLanguageModel, pretrainLanguageModel } from '../stages/language-model-stages.js';
import { SHIPPED_MODELS, shippedModel } from '../stages/shipped-models.js';
import { dispose, load, type AnyTextModel, type TextClassifier, type TextLanguageModel } from '../stages/text-models.js';
import { demoCorpora } from './demo-data.js';
import { Progress } from './progress.js';
import { Interrupted, interruptSignal, nonNegativeInt, reportFor } from './run-context.js';

const DemoOptionsSchema = z.object({
  out: z.string().min(1).default('ulmfit-demo'),
  size: z.enum(['quick', 'cpu', 'paper', 'paper-short']).optional(),
  device: z.string().optional(),
  seed: z.number().int().nonnegative().default(0),
  resume: z.boolean().default(false),
  /** Pretrain the general-domain LM on State of the Union addresses even where the size starts from the shipped one. */
  pretrain: z.boolean().default(false),
  overwrite: z.boolean().default(false),
  json: z.boolean().default(false),
});

/** One size of the demo: the model, what is read of each corpus, and each stage's schedule. */
export interface DemoSize {
  /** Where the general-domain LM comes from: the one shipped with the package (its sizes), or pretraining on the addresses. */
  general: 'shipped' | 'pretrain';
  config: { embSize?: number; hiddenSize?: number; numLayers?: number };
  /** Characters read from the start of each address / message (Infinity: all). */
  speechChars: number;
  messageChars: number;
  /** Tokens of each message the classifier reads (its first). */
  maxTokens: number;
  /** Keep every k-th message of each split (1: all). */
  messagesEvery: number;
  batchSize: number;
  seqLen: number;
  pretrain: { epochs: number; lr: number };
  finetune: { epochs: number; lr: number };
  classifier: { epochs: number; lr: number };
}

export const DEMO_SIZES: Record<'quick' | 'cpu' | 'paper' | 'paper-short', DemoSize> = {
  // A one-minute look at the whole pipeline: a tiny model on a tenth of the messages (far from cpu's accuracy).
  quick: {
    general: 'pretrain',
    config: { embSize: 32, hiddenSize: 64, numLayers: 2 },
    speechChars: 2_000,
    messageChars: 400,
    maxTokens: 64,
    messagesEvery: 10,
    batchSize: 32,
    seqLen: 32,
    pretrain: { epochs: 1, lr: 1e-2 },
    finetune: { epochs: 1, lr: 1e-2 },
    classifier: { epochs: 1, lr: 2e-2 },
  },
  // Measured on 2 cores (AVX512-BF16, bf16), from the shipped general LM: 7.8 minutes, 1.49% validation error
  // (with 6 final classifier epochs: 5.7 minutes, 2.07%, the validation loss still falling). From an LM
  // pretrained on the addresses (--pretrain) at 6 epochs: 6.2 minutes, 1.74%.
  cpu: {
    general: 'shipped',
    config: { embSize: 96, hiddenSize: 256, numLayers: 2 },
    speechChars: 6_000,
    messageChars: 800,
    maxTokens: 256,
    messagesEvery: 1,
    batchSize: 64,
    seqLen: 64,
    pretrain: { epochs: 1, lr: 1e-2 },
    finetune: { epochs: 1, lr: 1e-2 },
    classifier: { epochs: 10, lr: 2e-2 },
  },
  paper: {
    general: 'pretrain',
    config: {},
    speechChars: Infinity,
    messageChars: Infinity,
    maxTokens: 1440,
    messagesEvery: 1,
    batchSize: 64,
    seqLen: 72,
    pretrain: { epochs: 10, lr: 5e-3 },
    finetune: { epochs: 10, lr: 4e-3 },
    classifier: { epochs: 2, lr: 1e-2 },
  },
  // The paper's model, one epoch per language-model stage on all of the text, the classifier on every
  // second message: the whole pipeline at full size in minutes on a GPU (bench/gpu.sh times it).
  'paper-short': {
    general: 'pretrain',
    config: {},
    speechChars: Infinity,
    messageChars: 8_000,
    maxTokens: 512,
    messagesEvery: 2,
    batchSize: 64,
    seqLen: 72,
    pretrain: { epochs: 1, lr: 5e-3 },
    finetune: { epochs: 1, lr: 4e-3 },
    classifier: { epochs: 2, lr: 1e-2 },
  },
};

function seconds(since: number): number {
  return (performance.now() - since) / 1000;
}

export async function runDemo(raw: Record<string, unknown>): Promise<void> {
  const o = validate(DemoOptionsSchema, raw, 'demo options');
  const started = performance.now();
  const cuda = info().cuda.available;
  const sizeName = o.size ?? (cuda ? 'paper' : 'cpu');
  const size = DEMO_SIZES[sizeName];
  const device = o.device ?? (cuda ? 'cuda' : 'cpu');
  const precision = device === 'cpu' ? (cpuFeatures().bf16 ? 'bf16' : 'fp32') : 'bf16';
  const progress = new Progress(o.json);
  const all = demoCorpora();
  const every = <T>(list: T[]) => list.filter((_, i) => i % size.messagesEvery === 0);
  const corpora = { ...all, train: every(all.train), valid: every(all.valid) };
  const cut = (texts: string[], chars: number) => texts.map((t) => (t.length > chars ? t.slice(0, chars) : t));
  const speeches = cut(corpora.speeches, size.speechChars);
  const messages = [...corpora.train, ...corpora.valid];
  const shipped = size.general === 'shipped' && !o.pretrain ? shippedModel('general') : null;
  const notes = [
    ...(size.messagesEvery > 1 ? [`every ${size.messagesEvery}th message of each split only (size ${sizeName})`] : []),
    `size ${sizeName} on ${device} (${precision}); ` +
      (shipped
        ? `the general-domain LM shipped with ulmfit (${shipped}): ${SHIPPED_MODELS.general.about}`
        : `the general-domain LM pretrained here on ${corpora.speeches.length} State of the Union addresses` +
          (Number.isFinite(size.speechChars) ? ` (each cut to its first ${size.speechChars} characters)` : '') +
          (size.general === 'shipped' && !o.pretrain ? ' (this copy of ulmfit has no models/general-lm)' : '')),
    `${messages.length} SpamAssassin messages as the corpus gives them (headers and body)` +
      (Number.isFinite(size.messageChars) ? `, each cut to its first ${size.messageChars} characters for the language model` : '') +
      `; the classifier reads each message's first ${size.maxTokens} tokens; ${corpora.train.length} train / ${corpora.valid.length} validation (index % 5 == 0)`,
  ];
  for (const n of notes) progress.say(n);

  const { recorder, write } = reportFor('ulmfit demo: ULMFiT on SpamAssassin', { size: sizeName, device, precision, ...size }, o.out);
  recorder.record.notes.push(...notes);
  const { signal, release } = interruptSignal((t) => progress.say(t));
  const run = { seed: o.seed, device, precision, resume: o.resume, overwrite: o.overwrite, signal } as const;
  const common = { ...run, batchSize: size.batchSize, seqLen: size.seqLen } as const;
  const hooks = (stage: string, kind: 'language-model' | 'classifier') => {
    const h = recorder.hooks(stage, kind, progress.hooks(stage));
    return { onStep: h.onStep, onEpoch: (e: Parameters<typeof h.onEpoch>[0]) => (h.onEpoch(e), void write(false)) };
  };
  const models: AnyTextModel[] = [];
  const stopped = () => {
    if (!signal.aborted) return;
    const report = write(false);
    throw new Interrupted(`stopped; the training state is in ${o.out}: run \`ulmfit demo --resume\` to continue (report: ${report})`);
  };
  try {
    let general: TextLanguageModel;
    if (shipped) general = load(shipped, { device, precision }) as TextLanguageModel;
    else {
      general = (await pretrainLanguageModel(speeches, {
        ...common,
        config: size.config,
        ...size.pretrain,
        dir: path.join(o.out, 'general-lm'),
        encode: { vocabularyOptions: { maxVocab: 30_000 } },
        ...hooks('pretrain', 'language-model'),
      })) as TextLanguageModel;
      recorder.finishStage('pretrain', 'language-model', general);
    }
    models.push(general);
    stopped();
    progress.say(`general-domain language model: ${seconds(started).toFixed(0)} s`);

    const target = (await fineTuneLanguageModel(
      general,
      cut(
        messages.map((m) => m.text),
        size.messageChars,
      ),
      {
        ...common,
        ...size.finetune,
        dir: path.join(o.out, 'target-lm'),
        encode: { vocabularyOptions: { maxVocab: 30_000 } },
        ...hooks('finetune', 'language-model'),
      },
    )) as TextLanguageModel;
    models.push(target);
    recorder.finishStage('finetune', 'language-model', target);
    stopped();
    progress.say(`target language model: ${seconds(started).toFixed(0)} s`);

    const labelled = (list: typeof messages) => list.map(({ text, label }) => ({ text, label }));
    const classifier = (await trainClassifier(target, labelled(corpora.train), {
      ...run,
      batchSize: size.batchSize,
      valid: labelled(corpora.valid),
      classes: ['ham', 'spam'],
      config: { seqLen: size.seqLen },
      maxTokens: size.maxTokens,
      ...size.classifier,
      dir: path.join(o.out, 'classifier'),
      ...hooks('classifier', 'classifier'),
    })) as TextClassifier;
    models.push(classifier);
    recorder.finishStage('classifier', 'classifier', classifier);
    stopped();

    const metrics = await evaluate(classifier, labelled(corpora.valid), { maxTokens: size.maxTokens, batchSize: size.batchSize });
    const total = seconds(started);
    recorder.record.notes.push(
      `validation error ${(metrics.errorRate * 100).toFixed(2)}% on ${metrics.count} messages; ${total.toFixed(0)} s in all`,
    );
    const report = write(true);
    if (o.json) progress.emit({ event: 'done', errorRate: metrics.errorRate, count: metrics.count, seconds: total, report, dir: o.out });
    else {
      process.stdout.write(
        `validation error: ${(metrics.errorRate * 100).toFixed(2)}% (${Math.round(metrics.errorRate * metrics.count)} of ${metrics.count} messages), macro-F1 ${metrics.macroF1.toFixed(4)}\n` +
          `time: ${(total / 60).toFixed(1)} min\nmodels: ${o.out}/{${shipped ? '' : 'general-lm,'}target-lm,classifier}\nreport: ${report}\n`,
      );
    }
  } finally {
    release();
    progress.stop();
    for (const m of models) dispose(m);
  }
}

export function addDemoCommand(cli: Command): void {
  cli
    .command('demo')
    .description(
      'ULMFiT end to end on real text: a general-domain LM (shipped, or pretrained on State of the Union addresses), fine-tuned on SpamAssassin, then the spam classifier',
    )
    .option('--out <dir>', 'where the models and report.html go', 'ulmfit-demo')
    .option(
      '--size <size>',
      "cpu (within 15 minutes on 2 cores), paper (the paper's AWD-LSTM; the default with CUDA), paper-short (the paper's model, one epoch per LM stage: minutes on a GPU), or quick (a one-minute look)",
    )
    .option('--device <device>', 'cpu, cuda or cuda:N (default: cuda when available)')
    .option('--seed <n>', 'random seed', nonNegativeInt, 0)
    .option('--resume', 'continue a demo stopped with Ctrl-C')
    .option(
      '--pretrain',
      'pretrain the general-domain LM on State of the Union addresses instead of starting from the one shipped with ulmfit (size cpu)',
    )
    .option('--overwrite', "start over in --out, replacing an earlier demo's models")
    .option('--json', 'machine-readable progress: JSON lines on stdout')
    .action((options: Record<string, unknown>) => runDemo(options));
}
