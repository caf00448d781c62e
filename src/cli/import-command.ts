// `ulmfit import`: a fastai / PyTorch checkpoint (and its itos pickle) into one of our model directories,
// read by our restricted reader: nothing in the file runs. Flags come from ImportCheckpointOptionsSchema.
import { Command } from 'commander';

import { importCheckpoint, ImportCheckpointOptionsSchema } from '../interop/import-checkpoint.js';
import { addSchemaFlags, applyFlags } from './schema-flags.js';

export function addImportCommand(cli: Command): void {
  const cmd = cli
    .command('import')
    .description("a fastai / PyTorch checkpoint (e.g. WikiText-103's lstm_fwd.pth with itos_wt103.pkl) into a model directory")
    .option('--json', 'print JSON');
  const flags = addSchemaFlags(cmd, ImportCheckpointOptionsSchema);
  cmd.action(async (options: Record<string, unknown>, command: Command) => {
    const done = await importCheckpoint(applyFlags(command, flags, {}) as never);
    if (options.json) process.stdout.write(`${JSON.stringify(done)}\n`);
    else {
      for (const w of done.warnings) process.stderr.write(`warning: ${w}\n`);
      const c = done.config;
      process.stdout.write(
        `imported a ${done.dialect} ${done.kind} (vocabulary ${c.vocabSize}, emb ${c.embSize}, hidden ${c.hiddenSize}, ${c.numLayers} layers) into ${done.out}\n`,
      );
    }
  });
}
