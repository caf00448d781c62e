// `ulmfit <command>`: exit code 0 on success, 1 on a failed run, 2 on bad usage, 130 after Ctrl-C.
import { Command, CommanderError } from 'commander';

import { OptionsError } from '../options.js';
import { addBenchCommand } from './bench.js';
import { addDemoCommand } from './demo.js';
import { addExportCommand } from './export-command.js';
import { addImportCommand } from './import-command.js';
import { addLaunchCommand } from './launch.js';
import { runInfo } from './info.js';
import { addModelCommands } from './model-commands.js';
import { EXIT, Interrupted, positiveInt, UsageError } from './run-context.js';
import { runSetup } from './setup.js';
import { addStageCommands } from './stage-commands.js';

export { EXIT };

function program(): Command {
  const cli = new Command('ulmfit')
    .description('ULMFiT for Node.js: AWD-LSTM language models and text classifiers on LibTorch')
    .exitOverride()
    // Options after a subcommand belong to it (`ulmfit launch` passes those after its script to the script).
    .enablePositionalOptions()
    .showHelpAfterError('(run `ulmfit --help` for usage)');

  cli
    .command('setup')
    .description('find or install LibTorch (pip into ULMFIT_HOME), then make sure a native binary fits it')
    .option('--variant <variant>', 'cpu or cuda (default: cuda where an NVIDIA driver is seen, else cpu)')
    .option('--torch-version <version>', 'the torch release pip installs (default: the pinned one)')
    .option('--rebuild', 'compile the addon from source even when a prebuilt binary fits')
    .action((options) => runSetup(options));

  cli
    .command('info')
    .description(
      'what ulmfit runs on: LibTorch and where it was found, CUDA, cuDNN, threads, CPU features; with --model, what a model directory holds',
    )
    .option(
      '--model <dir>',
      'describe a model directory instead: kind, sizes, vocabulary, classes, how its documents were shaped, its training',
    )
    .option('--json', 'print JSON')
    .option('--bench', 'also time a float32 matrix product on the device')
    .option('--device <device>', 'device for --bench: cpu, cuda or cuda:N', 'cpu')
    .option('--size <n>', 'matrix size for --bench', positiveInt, 1024)
    .action((options) => runInfo(options));

  addDemoCommand(cli);
  addStageCommands(cli);
  addModelCommands(cli);
  addBenchCommand(cli);
  addImportCommand(cli);
  addExportCommand(cli);
  addLaunchCommand(cli);
  return cli;
}

export async function main(argv: string[]): Promise<number> {
  const cli = program();
  if (argv.length === 0) {
    cli.outputHelp();
    return EXIT.usage;
  }
  try {
    await cli.parseAsync(argv, { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    process.stderr.write(`ulmfit: ${(err as Error).message}\n`);
    if (err instanceof Interrupted) return EXIT.interrupted;
    if (err instanceof UsageError || err instanceof OptionsError) return EXIT.usage;
    return EXIT.failed;
  }
}
