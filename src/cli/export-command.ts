// `ulmfit export`: a model directory as a safetensors file of fastai v2 key names, for PyTorch and fastai
// users (--format pytorch, ExportCheckpointOptionsSchema), or as an ONNX file that ONNX Runtime runs without
// LibTorch (--format onnx: a classifier or pair, or a language model; src/onnx/export.ts).
import fs from 'node:fs';

import { Command } from 'commander';
import { z } from 'zod';

import { exportCheckpoint, ExportCheckpointOptionsSchema } from '../interop/export-pytorch.js';
import { exportOnnx } from '../onnx/export.js';
import { validate } from '../options.js';
import { addSchemaFlags, applyFlags } from './schema-flags.js';

const EXTENSION = { pytorch: '.safetensors', onnx: '.onnx' } as const;

export const ExportOptionsSchema = z
  .object({
    ...ExportCheckpointOptionsSchema.shape,
    out: z.string().min(1).describe('The file to write: .safetensors (pytorch) or .onnx (onnx); replaced if it exists.'),
    format: z
      .enum(['pytorch', 'onnx'])
      .default('pytorch')
      .describe('pytorch: fastai v2 key names in a safetensors file; onnx: an ONNX graph for ONNX Runtime (ulmfit/onnx).'),
  })
  .strict()
  .refine((o) => o.out.endsWith(EXTENSION[o.format]), {
    message: 'must name a file ending in .safetensors (--format pytorch) or .onnx (--format onnx)',
    path: ['out'],
  });

export function addExportCommand(cli: Command): void {
  const cmd = cli
    .command('export')
    .description('a model directory as a safetensors file with fastai v2 key names (docs/interop.md), or as ONNX (--format onnx)')
    .option('--json', 'print JSON');
  const flags = addSchemaFlags(cmd, ExportOptionsSchema);
  cmd.action(async (options: Record<string, unknown>, command: Command) => {
    const o = validate(ExportOptionsSchema, applyFlags(command, flags, {}), 'export options');
    if (o.format === 'onnx') {
      exportOnnx(o.from, o.out);
      const bytes = fs.statSync(o.out).size;
      if (options.json) process.stdout.write(`${JSON.stringify({ out: o.out, format: 'onnx', bytes })}\n`);
      else process.stdout.write(`exported ${o.from} as ONNX (${(bytes / 2 ** 20).toFixed(1)} MB) to ${o.out}\n`);
      return;
    }
    const done = exportCheckpoint({ from: o.from, out: o.out, format: o.format });
    if (options.json) process.stdout.write(`${JSON.stringify({ out: done.out, kind: done.kind, keys: done.keys, bytes: done.bytes })}\n`);
    else
      process.stdout.write(`exported ${done.kind} (${done.keys.length} tensors, ${(done.bytes / 2 ** 20).toFixed(1)} MB) to ${done.out}\n`);
  });
}
