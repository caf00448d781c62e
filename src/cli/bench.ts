// `ulmfit bench [suite]`: the benchmarks against the PyTorch reference (bench/run.js). They come with a
// checkout of the repository (they need Python with torch for the reference), not with the npm package.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';

import { UsageError } from './run-context.js';

const RUNNER = fileURLToPath(new URL('../../bench/run.js', import.meta.url));

export function addBenchCommand(cli: Command): void {
  cli
    .command('bench')
    .description('speed and memory against the PyTorch reference, in one run (a checkout of the repository; writes its tables to stdout)')
    .argument('[suite...]', 'lm, clas, data, ddp or onnx (default: lm), and its options')
    .allowUnknownOption()
    .action((args: string[]) => {
      if (!fs.existsSync(RUNNER))
        throw new UsageError('the benchmarks come with a checkout of the ulmfit repository (bench/run.js), not with the npm package');
      const run = spawnSync(process.execPath, [RUNNER, ...args], { stdio: 'inherit' });
      // The runner has said what was wrong; its usage errors stay usage errors (exit 2).
      if (run.status === 2) throw new UsageError('bench: bad arguments (the runner says which above)');
      if (run.status !== 0) throw new Error(`bench exited with ${run.status ?? run.signal}`);
    });
}
