// What every training command shares: exit codes, usage errors, `--config file.json`, Ctrl-C (the first
// stops after the step in flight and saves the training state; a second quits at once), and the report.
import fs from 'node:fs';

import { InvalidArgumentError } from 'commander';

import { info } from '../runtime.js';
import { RunRecorder } from '../report/run-record.js';
import { writeReport } from '../report/write-report.js';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** A flag's value as an integer of at least `min` (commander names the flag when it is not). */
function integerAtLeast(min: number, what: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be ${what}`);
    return n;
  };
}

export const positiveInt = integerAtLeast(1, 'a positive integer');
export const nonNegativeInt = integerAtLeast(0, 'a whole number, 0 or more');

/** Bad usage: exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** A run that Ctrl-C stopped after saving its state: exit code 130. */
export class Interrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Interrupted';
  }
}

/** The options in a --config file: a JSON object whose fields the command's flags override. */
export function readConfigFile(file: string | undefined): Record<string, unknown> {
  if (file === undefined) return {};
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`--config ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`--config ${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`--config ${file}: must hold a JSON object of options`);
  return value as Record<string, unknown>;
}

/** An AbortSignal that Ctrl-C (SIGINT) aborts; a second Ctrl-C exits at once. Call `release` when done. */
export function interruptSignal(say: (text: string) => void): { signal: AbortSignal; release: () => void } {
  const controller = new AbortController();
  const onSigint = () => {
    if (controller.signal.aborted) process.exit(EXIT.interrupted);
    say('stopping after the step in flight (Ctrl-C again to quit at once)...');
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  return { signal: controller.signal, release: () => process.off('SIGINT', onSigint) };
}

/** What the report says about where the run ran. */
export function environment(): Record<string, unknown> {
  const i = info();
  return {
    ulmfit: i.ulmfit,
    node: i.node,
    platform: i.platform,
    libtorch: `${i.libtorch.version} (${i.libtorch.variant})`,
    cuda: i.cuda,
    threads: i.threads,
    cpu: i.cpu,
  };
}

/** A recorder for a run whose report goes into `dir`, and a function that writes it (returns its path). */
export function reportFor(title: string, config: unknown, dir: string): { recorder: RunRecorder; write: (finished: boolean) => string } {
  const recorder = new RunRecorder(title, config, environment());
  return {
    recorder,
    write: (finished) => writeReport(dir, finished ? recorder.finish() : recorder.record),
  };
}
