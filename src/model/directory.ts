// The model directory, the on-disk format every stage uses:
//   config.json           format and version, model kind and sizes, the vocabulary contract, checksums
//   vocab.json            {"tokens": the vocabulary in id order, "classes": a classifier's class list}
//   weights.safetensors   fastai's key names; the tied embedding is stored once (aliases in the metadata)
//   optimizer.safetensors optional: <parameter>.<exp_avg|exp_avg_sq|step|momentum_buffer>
//   training-state.json   optional: where a Learner's run stands (plan, position, history, RNG states)
//   training-state.safetensors  optional: its tensors (a language model's hidden state)
// A save replaces the whole directory atomically; a load checks every file against its checksum and every
// tensor against the model, and names the first thing that does not fit.
import fs from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { restoreMovedAside, sha256, writeDirectoryAtomic } from '../io/atomic-dir.js';
import { decodeSafetensors, encodeSafetensors, type FloatDtype, type NamedTensor } from '../io/safetensors.js';
import { parseVocabularyFile, Vocabulary, VocabularyError } from '../text/vocabulary.js';
import { ClassifierConfigSchema, EncoderConfigSchema, LanguageModelConfigSchema } from './config.js';

export const MODEL_FORMAT = 'ulmfit-model';
export const FORMAT_VERSION = 1;
export const FILES = {
  config: 'config.json',
  vocab: 'vocab.json',
  weights: 'weights.safetensors',
  optimizer: 'optimizer.safetensors',
  trainingState: 'training-state.json',
  trainingTensors: 'training-state.safetensors',
};

/** A training state as read back (checked against its checksums, not yet against the run). */
export interface SavedTrainingState {
  json: unknown;
  tensors: Map<string, NamedTensor>;
  /** The directory it was read from, for error messages. */
  dir: string;
}

/** A Learner's training state as written into a model directory: JSON and named tensors. */
export interface TrainingStateFiles {
  json: unknown;
  tensors: NamedTensor[];
}

export class ModelDirectoryError extends Error {
  readonly code = 'ERR_ULMFIT_MODEL_DIR';
  constructor(message: string) {
    super(message);
    this.name = 'ModelDirectoryError';
  }
}

export const VocabularyContractSchema = z.object({
  size: z.number().int().min(2),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  /** Token order the model reads: a backward model is trained on reversed documents. */
  direction: z.enum(['forward', 'backward']),
  /** The tokenizer rules the vocabulary was built with; null when unknown. */
  rulesVersion: z.string().nullable(),
  specialTokens: z.array(z.string()),
});

/**
 * How a classifier's documents were shaped in training: predict and evaluate shape theirs the same way
 * unless told otherwise. Absent (a model saved before it was recorded, or a language model): no limit, one field.
 */
export const InputShapeSchema = z.object({
  /** Tokens of each document the model read (its first); null: all. */
  maxTokens: z.number().int().min(1).nullable(),
  /** The text fields (JSONL) or columns (CSV) joined into each document, in order; null: one text. */
  textFields: z
    .array(z.union([z.string().min(1), z.number().int().min(0)]))
    .min(2)
    .nullable(),
});

export type InputShape = z.output<typeof InputShapeSchema>;
export const PLAIN_INPUT: InputShape = Object.freeze({ maxTokens: null, textFields: null }) as InputShape;

const FileEntrySchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() });

const CommonConfigFields = {
  format: z.literal(MODEL_FORMAT),
  formatVersion: z.number().int(),
  vocabulary: VocabularyContractSchema,
  training: z.object({ frozenBefore: z.number().int().nonnegative() }),
  input: InputShapeSchema.optional(),
  files: z.record(z.string(), FileEntrySchema),
};

export const ModelConfigFileSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('awd-lstm-lm'), model: LanguageModelConfigSchema, ...CommonConfigFields }),
  z.object({ kind: z.literal('awd-lstm-classifier'), model: ClassifierConfigSchema, ...CommonConfigFields }),
  z.object({ kind: z.literal('awd-lstm-encoder'), model: EncoderConfigSchema, ...CommonConfigFields }),
]);

export type ModelConfigFile = z.output<typeof ModelConfigFileSchema>;
export type ModelConfigFileInput = z.input<typeof ModelConfigFileSchema>;

export function vocabularyHash(vocab: readonly string[]): string {
  return sha256(JSON.stringify(vocab));
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

export interface DirectoryContents {
  config: DistributiveOmit<ModelConfigFileInput, 'files' | 'format' | 'formatVersion'>;
  vocab: readonly string[];
  /** A classifier's class list, in class-id order. */
  classes?: readonly string[];
  weights: NamedTensor[];
  /** How the weights file stores them (BF16: rounded, half the bytes); read back as float32 either way. */
  weightsDtype?: FloatDtype;
  aliases: Record<string, string>;
  optimizer?: NamedTensor[];
  trainingState?: TrainingStateFiles;
}

export function writeModelDirectory(dir: string, contents: DirectoryContents): void {
  const files: Record<string, Buffer> = {
    [FILES.vocab]: Buffer.from(JSON.stringify(new Vocabulary(contents.vocab).toFile(contents.classes)) + '\n'),
    [FILES.weights]: encodeSafetensors(
      contents.weights,
      { format: 'pt', aliases: JSON.stringify(contents.aliases) },
      contents.weightsDtype,
    ),
  };
  if (contents.optimizer) files[FILES.optimizer] = encodeSafetensors(contents.optimizer, { format: 'ulmfit-optimizer' });
  if (contents.trainingState) {
    files[FILES.trainingState] = Buffer.from(JSON.stringify(contents.trainingState.json) + '\n');
    files[FILES.trainingTensors] = encodeSafetensors(contents.trainingState.tensors, { format: 'ulmfit-training-state' });
  }
  const checksums = Object.fromEntries(Object.entries(files).map(([name, b]) => [name, { sha256: sha256(b), bytes: b.length }]));
  const config = { format: MODEL_FORMAT, formatVersion: FORMAT_VERSION, ...contents.config, files: checksums };
  files[FILES.config] = Buffer.from(JSON.stringify(config, null, 2) + '\n');
  // Other files in the directory (report.html, run.json, the user's own) are kept; ours are replaced or dropped.
  writeDirectoryAtomic(dir, files, Object.values(FILES));
}

/**
 * Brings back the last complete save of `dir` when a save was killed between moving it aside and renaming
 * the new one in (the one moment `dir` does not exist). Returns whether it did.
 */
export function recoverModelDirectory(dir: string): boolean {
  return restoreMovedAside(dir, (candidate) => {
    try {
      readModelDirectory(candidate);
      return true;
    } catch {
      return false;
    }
  });
}

function readChecked(dir: string, name: string, entry: z.infer<typeof FileEntrySchema> | undefined): Buffer {
  const file = path.join(dir, name);
  if (!entry) throw new ModelDirectoryError(`${path.join(dir, FILES.config)} lists no checksum for ${name}`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    throw new ModelDirectoryError(`${file} is missing`);
  }
  if (bytes.length !== entry.bytes || sha256(bytes) !== entry.sha256) {
    throw new ModelDirectoryError(
      `${file} is corrupt or truncated: its checksum does not match ${FILES.config} (${bytes.length} bytes, expected ${entry.bytes})`,
    );
  }
  return bytes;
}

export function readModelDirectory(dir: string): {
  config: ModelConfigFile;
  vocab: string[];
  classes: string[] | null;
  weights: Map<string, NamedTensor>;
  optimizer: Map<string, NamedTensor> | null;
  trainingState: SavedTrainingState | null;
} {
  const configFile = path.join(dir, FILES.config);
  if (!fs.existsSync(dir)) recoverModelDirectory(dir);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(configFile, 'utf8'));
  } catch (err) {
    const why =
      (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'is missing: is this a ulmfit model directory?'
        : `is not valid JSON (${(err as Error).message})`;
    throw new ModelDirectoryError(`${configFile} ${why}`);
  }
  const head = raw as { format?: unknown; formatVersion?: unknown };
  if (head?.format !== MODEL_FORMAT)
    throw new ModelDirectoryError(`${configFile}: format is ${JSON.stringify(head?.format)}, not "${MODEL_FORMAT}"`);
  if (head.formatVersion !== FORMAT_VERSION) {
    throw new ModelDirectoryError(
      `${configFile}: format version ${JSON.stringify(head.formatVersion)}; this ulmfit reads version ${FORMAT_VERSION}`,
    );
  }
  const parsed = ModelConfigFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ModelDirectoryError(`${configFile}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const config = parsed.data;
  const vocabFile = path.join(dir, FILES.vocab);
  let vocab: string[];
  let classes: string[] | null;
  try {
    const parsed = parseVocabularyFile(readChecked(dir, FILES.vocab, config.files[FILES.vocab]).toString('utf8'), vocabFile);
    vocab = parsed.tokens;
    classes = parsed.classes ?? null;
  } catch (error) {
    if (error instanceof VocabularyError) throw new ModelDirectoryError(error.message);
    throw error;
  }
  if (vocab.length !== config.vocabulary.size || vocabularyHash(vocab) !== config.vocabulary.sha256) {
    throw new ModelDirectoryError(`${vocabFile} does not match the vocabulary contract in ${FILES.config}`);
  }
  const weights = decodeSafetensors(readChecked(dir, FILES.weights, config.files[FILES.weights]), path.join(dir, FILES.weights)).tensors;
  const optimizer = config.files[FILES.optimizer]
    ? decodeSafetensors(readChecked(dir, FILES.optimizer, config.files[FILES.optimizer]), path.join(dir, FILES.optimizer)).tensors
    : null;
  let trainingState: SavedTrainingState | null = null;
  if (config.files[FILES.trainingState]) {
    const file = path.join(dir, FILES.trainingState);
    let json: unknown;
    try {
      json = JSON.parse(readChecked(dir, FILES.trainingState, config.files[FILES.trainingState]).toString('utf8'));
    } catch (err) {
      if (err instanceof ModelDirectoryError) throw err;
      throw new ModelDirectoryError(`${file} is not valid JSON (${(err as Error).message})`);
    }
    const tensors = decodeSafetensors(
      readChecked(dir, FILES.trainingTensors, config.files[FILES.trainingTensors]),
      path.join(dir, FILES.trainingTensors),
    ).tensors;
    trainingState = { json, tensors, dir };
  }
  return { config, vocab, classes, weights, optimizer, trainingState };
}
