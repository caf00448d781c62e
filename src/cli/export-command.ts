// `ulmfit export --format pytorch`: a model directory as a safetensors file of fastai v2 key names, for
// PyTorch and fastai users. Flags come from ExportCheckpointOptionsSchema.
import { Command } from 'commander';

import { exportCheckpoint, ExportCheckpointOptionsSchema } from '../interop/export-pytorch.js';
import { addSchemaFlags, applyFlags } from './schema-flags.js';

export function addExportCommand(cli: Command): void {
  const cmd = cli
    .command('export')
    .description('a model directory as a safetensors file with fastai v2 key names (see docs/interop.md for loading it in PyTorch)')
    .option('--json', 'print JSON');
  const flags = addSchemaFlags(cmd, ExportCheckpointOptionsSchema);
  cmd.action(async (options: Record<string, unknown>, command: Command) => {
    const done = exportCheckpoint(applyFlags(command, flags, {}) as never);
    if (options.json) process.stdout.write(`${JSON.stringify({ out: done.out, kind: done.kind, keys: done.keys, bytes: done.bytes })}\n`);
    else
      process.stdout.write(`exported ${done.kind} (${done.keys.length} tensors, ${(done.bytes / 2 ** 20).toFixed(1)} MB) to ${done.out}\n`);
  });
}
