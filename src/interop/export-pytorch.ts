// One of our model directories as a safetensors file a PyTorch user loads with safetensors.torch.load_file:
// fastai v2's state-dict key names, the tied embedding under every name fastai gives it (separate copies:
// safetensors cannot alias), BatchNorm's num_batches_tracked as int64, and the vocabulary, classes and
// model sizes in the file's metadata. docs/interop.md shows the Python side.
import fs from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { encodeSafetensors, type EncodableTensor } from '../io/safetensors.js';
import { FILES, ModelDirectoryError, readModelDirectory } from '../model/directory.js';
import { validate } from '../options.js';

export const ExportCheckpointOptionsSchema = z
  .object({
    from: z.string().min(1).describe('The model directory to export (a language model, classifier or encoder).'),
    out: z
      .string()
      .min(1)
      .refine((f) => f.endsWith('.safetensors'), { message: 'must name a .safetensors file' })
      .describe('The safetensors file to write (replaced atomically if it exists).'),
    format: z.enum(['pytorch']).default('pytorch').describe('pytorch: fastai v2 key names in a safetensors file.'),
  })
  .strict();

export type ExportCheckpointOptions = z.input<typeof ExportCheckpointOptionsSchema>;

export interface ExportedCheckpoint {
  out: string;
  kind: 'awd-lstm-lm' | 'awd-lstm-classifier' | 'awd-lstm-encoder';
  /** Every key written, in file order. */
  keys: string[];
  bytes: number;
}

/** The tied embedding's other names in fastai v2, by the name our directory stores it under. */
const TIED_COPIES: Record<string, string[]> = {
  '0.encoder.weight': ['0.encoder_dp.emb.weight'],
  '0.module.encoder.weight': ['0.module.encoder_dp.emb.weight'],
};

/** Writes the model in `options.from` as a safetensors file of fastai v2 key names; see the schema. */
export function exportCheckpoint(options: ExportCheckpointOptions): ExportedCheckpoint {
  const o = validate(ExportCheckpointOptionsSchema, options, 'exportCheckpoint options');
  if (!fs.existsSync(path.join(o.from, FILES.config)) && fs.existsSync(path.join(o.from, 'forward', FILES.config))) {
    throw new ModelDirectoryError(`${o.from} holds a pair of models (forward/, backward/): export each direction's directory on its own`);
  }
  const saved = readModelDirectory(o.from);
  const kind = saved.config.kind;
  const tensors: EncodableTensor[] = [];
  for (const t of saved.weights.values()) {
    const data = t.name.endsWith('.num_batches_tracked') ? BigInt64Array.from(t.data, (v) => BigInt(Math.round(v))) : t.data;
    tensors.push({ name: t.name, shape: t.shape, data });
    // Each copy is written from the same array: encodeSafetensors lays every entry out in the file on its own.
    for (const copy of TIED_COPIES[t.name] ?? []) tensors.push({ name: copy, shape: t.shape, data: t.data });
    // The language model's decoder is tied to the embedding too.
    if (kind === 'awd-lstm-lm' && t.name === '0.encoder.weight') tensors.push({ name: '1.decoder.weight', shape: t.shape, data: t.data });
  }
  // fastai's save_encoder writes the encoder's own state dict: no "0." in front.
  if (kind === 'awd-lstm-encoder') for (const t of tensors) t.name = t.name.replace(/^0\./, '');

  const metadata: Record<string, string> = {
    format: 'pt',
    'ulmfit.kind': kind,
    'ulmfit.model': JSON.stringify(saved.config.model),
    'ulmfit.direction': saved.config.vocabulary.direction,
    itos: JSON.stringify(saved.vocab),
  };
  if (saved.classes) metadata.classes = JSON.stringify(saved.classes);
  const bytes = encodeSafetensors(tensors, metadata);
  writeFileAtomic(o.out, bytes);
  return { out: o.out, kind, keys: tensors.map((t) => t.name), bytes: bytes.length };
}

/** Writes beside the target, fsyncs and renames: an existing file is replaced whole or not at all. */
function writeFileAtomic(file: string, bytes: Uint8Array): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory())
    throw new ModelDirectoryError(`${file} is a directory; --out names the .safetensors file to write`);
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const staging = `${file}.tmp-${process.pid}`;
  try {
    const fd = fs.openSync(staging, 'w');
    try {
      fs.writeSync(fd, bytes);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(staging, file);
  } catch (err) {
    fs.rmSync(staging, { force: true });
    throw err;
  }
}
