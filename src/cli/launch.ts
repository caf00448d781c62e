// `ulmfit launch`: starts the workers of a data-parallel job on this machine the way torchrun does. Each
// worker is `node <script> [args...]` with RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE, MASTER_ADDR and
// MASTER_PORT set (ProcessGroup.connect reads them); its output lines come prefixed with its rank. Ctrl-C
// (or SIGTERM) goes to every worker; when one worker fails, the others are stopped and the job ends with its
// exit code, naming it. Across machines: the same command on each, with --nnodes and its own --node-rank.
// The script may be one of ulmfit's own commands (`ulmfit launch --nproc 2 pretrain corpus.txt --out lm`):
// each worker then runs that command, which joins the group from the environment. Workers run in their own
// process group, so that a terminal's Ctrl-C reaches them once, through the launcher.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import { Command } from 'commander';
import { z } from 'zod';

import { validate } from '../options.js';
import { Interrupted, UsageError } from './run-context.js';
import { addSchemaFlags, applyFlags } from './schema-flags.js';

export const LaunchOptionsSchema = z
  .object({
    nproc: z.number().int().positive().default(1).describe('workers on this machine'),
    nnodes: z.number().int().positive().default(1).describe('machines in the job'),
    nodeRank: z.number().int().nonnegative().default(0).describe("this machine's place: 0 .. nnodes - 1"),
    masterAddr: z.string().min(1).default('127.0.0.1').describe('the address of node 0, where rank 0 serves the rendezvous'),
    masterPort: z.number().int().min(1).max(65535).default(29500).describe('its port'),
  })
  .refine((o) => o.nodeRank < o.nnodes, { message: 'nodeRank must be below nnodes', path: ['nodeRank'] });

export type LaunchOptionsInput = z.input<typeof LaunchOptionsSchema>;

const ULMFIT_BIN = fileURLToPath(new URL('../../bin/ulmfit.js', import.meta.url));

/** Runs the job's local workers; resolves when all of them succeed, rejects naming the first that failed (Interrupted after Ctrl-C). */
export async function launchWorkers(options: LaunchOptionsInput, script: string, args: string[]): Promise<void> {
  const o = validate(LaunchOptionsSchema, options, 'launch options');
  if (!fs.existsSync(script)) {
    if (!/^[a-z][a-z-]*$/.test(script)) throw new UsageError(`launch: no script at ${script}`);
    [script, args] = [ULMFIT_BIN, [script, ...args]]; // one of ulmfit's commands
  }
  const workers: ChildProcess[] = [];
  let failure: string | null = null;
  let interrupted = false;
  const stopAll = (signal: NodeJS.Signals) => workers.forEach((w) => w.exitCode === null && w.kill(signal));
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    stopAll(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const exits = Array.from({ length: o.nproc }, (_, local) => {
      const rank = o.nodeRank * o.nproc + local;
      const env = {
        ...process.env,
        RANK: String(rank),
        LOCAL_RANK: String(local),
        WORLD_SIZE: String(o.nnodes * o.nproc),
        LOCAL_WORLD_SIZE: String(o.nproc),
        MASTER_ADDR: o.masterAddr,
        MASTER_PORT: String(o.masterPort),
      };
      const worker = spawn(process.execPath, [script, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      workers.push(worker);
      for (const [stream, out] of [
        [worker.stdout, process.stdout],
        [worker.stderr, process.stderr],
      ] as const) {
        readline.createInterface({ input: stream }).on('line', (line) => out.write(`[rank ${rank}] ${line}\n`));
      }
      return new Promise<void>((resolve) =>
        worker.on('close', (code, signal) => {
          const status = code ?? (signal ? 128 + (signal === 'SIGINT' ? 2 : 15) : 1);
          if (status !== 0 && !failure && !interrupted) {
            failure = `launch: rank ${rank} (pid ${worker.pid}) exited with ${code ?? signal}; the other workers were stopped`;
            stopAll('SIGTERM');
          }
          resolve();
        }),
      );
    });
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (interrupted) throw new Interrupted('launch: interrupted; every worker was told');
  if (failure) throw new Error(failure);
}

export function addLaunchCommand(cli: Command): void {
  const command = cli
    .command('launch')
    .description('start the workers of a data-parallel job on this machine, torchrun style: node <script> per rank')
    .argument('<script>', "the worker script (run with this Node), or one of ulmfit's commands (pretrain, finetune, train)")
    .argument('[args...]', "the script's own arguments")
    .passThroughOptions();
  const flags = addSchemaFlags(command, LaunchOptionsSchema);
  command.action((script: string, args: string[]) => launchWorkers(applyFlags(command, flags, {}), script, args));
}
