// Data parallelism across real processes (Gloo on loopback), through the stage functions: N ranks of batch b
// train exactly as one process of batch N b (the language model, and the classifier with its synchronised
// BatchNorm); a rank that dies ends its peers with a clear error and leaves the last checkpoint whole; a
// distributed run stopped with Ctrl-C resumes where it stopped. test/distributed/data-parallel-worker.mjs is
// the worker (compiled package).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { native } from '../../src/native/loader.js';
import { PACKAGE_ROOT } from '../helpers/child.js';
import { freePort } from '../helpers/free-port.js';

const hasGloo = native().info().distributed.gloo || process.env.ULMFIT_REQUIRE_GLOO === '1';
const WORKER = path.join(PACKAGE_ROOT, 'test/distributed/data-parallel-worker.mjs');
const CLI = path.join(PACKAGE_ROOT, 'bin/ulmfit.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-ddp-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Output {
  rank: number;
  aborted: boolean;
  losses: number[];
  valid: { loss: number }[];
  weights: Record<string, number[]>;
}

function start(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, cwd: PACKAGE_ROOT });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status) => resolve({ status, stdout, stderr })),
  );
  return { child, done };
}

/** Runs the worker as `worldSize` ranks (or alone); resolves with each rank's output, failing on any error. */
async function job(args: string[], worldSize: number, extraEnv: Record<string, string> = {}): Promise<Output[]> {
  const port = await freePort();
  const env = (rank: number): Record<string, string> =>
    worldSize > 1 ? { RANK: String(rank), WORLD_SIZE: String(worldSize), MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) } : extraEnv;
  const runs = await Promise.all(Array.from({ length: worldSize }, (_, r) => start([WORKER, ...args], env(r)).done));
  for (const r of runs) if (r.status !== 0) throw new Error(r.stderr);
  return runs.map((r) => JSON.parse(r.stdout) as Output);
}

function maxDiff(a: readonly number[], b: readonly number[]): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

function weightDiff(a: Output, b: Output, names: (name: string) => boolean): number {
  return Math.max(
    ...Object.keys(a.weights)
      .filter(names)
      .map((k) => maxDiff(a.weights[k]!, b.weights[k]!)),
  );
}

async function waitFor(file: string, ms: number): Promise<void> {
  for (const until = Date.now() + ms; !fs.existsSync(file);) {
    if (Date.now() > until) throw new Error(`${file} did not appear within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(!hasGloo)('data parallelism (2 processes, Gloo)', () => {
  it('a language model: 2 ranks x batch 4 train as 1 process x batch 8 (34 steps, losses and weights within 1e-5)', async () => {
    const [[one], [a, b]] = await Promise.all([job(['lm', '8'], 1), job(['lm', '4'], 2)]);
    expect(one!.losses.length).toBe(34);
    expect(maxDiff(a!.losses, one!.losses)).toBeLessThan(1e-5);
    expect(
      maxDiff(
        a!.valid.map((v) => v.loss),
        one!.valid.map((v) => v.loss),
      ),
    ).toBeLessThan(1e-5);
    expect(weightDiff(a!, one!, () => true)).toBeLessThan(1e-5);
    expect(b!.weights).toEqual(a!.weights); // the ranks never drift apart
    expect(b!.losses).toEqual(a!.losses); // both report the mean over the ranks
  }, 120_000);

  // The tiny encoder's pooled features barely vary within a batch (variances of 1e-10 to 1e-6, below
  // BatchNorm's eps of 1e-5), so BatchNorm divides rounding noise by sqrt(eps) and training amplifies it: one
  // process whose BatchNorm merely sums in another order (the synchronised formula in a group of one, against
  // at::batch_norm) drifts by ~1e-4 in the loss over these steps. So the first steps (forward, backward with
  // the all-reduces inside BatchNorm, update) must agree within 1e-5, and the whole run within ten times
  // that rounding drift, measured here in the same way.
  it('a classifier: 2 ranks x batch 4 train as 1 process x batch 8 (synchronised BatchNorm; 24 steps)', async () => {
    const port = String(await freePort());
    const [[one], [a, b], [floor]] = await Promise.all([
      job(['classifier', '8'], 1),
      job(['classifier', '4'], 2),
      job(['classifier', '8', '--alone-in-group'], 1, { MASTER_PORT: port }),
    ]);
    expect(one!.losses.length).toBe(24);
    expect(maxDiff(a!.losses.slice(0, 3), one!.losses.slice(0, 3))).toBeLessThan(1e-5);
    const noise = { losses: maxDiff(floor!.losses, one!.losses), weights: weightDiff(floor!, one!, () => true) };
    expect(maxDiff(a!.losses, one!.losses)).toBeLessThan(1e-5 + 10 * noise.losses);
    expect(weightDiff(a!, one!, () => true)).toBeLessThan(1e-5 + 10 * noise.weights);
    expect(b!.weights).toEqual(a!.weights);
  }, 180_000);

  it('a rank that dies ends the others with an error naming it, and the last checkpoint stays whole', async () => {
    const dir = path.join(tmp, 'killed');
    const port = await freePort();
    const env = (rank: number) => ({ RANK: String(rank), WORLD_SIZE: '2', MASTER_ADDR: '127.0.0.1', MASTER_PORT: String(port) });
    const args = [WORKER, 'lm', '4', '--dir', dir, '--epochs', '400', '--checkpoint-every', '5'];
    const [rank0, rank1] = [start(args, env(0)), start(args, env(1))];
    await waitFor(path.join(dir, 'training-state.json'), 60_000);
    const killedAt = Date.now();
    rank1.child.kill('SIGKILL');
    const r = await rank0.done;
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/rank 0 of 2: a collective failed: another rank exited/);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'training-state.json'), 'utf8'));
    expect(state).toMatchObject({ finished: false, worldSize: 2 });
    const { load, dispose } = await import('../../src/index.js');
    dispose(load(dir)); // weights, vocabulary and config read back
  }, 120_000);

  it('a distributed run stopped with Ctrl-C (ulmfit launch) resumes where it stopped and ends as an uninterrupted one', async () => {
    const epochs = ['--epochs', '12'];
    const [reference] = await job(['lm', '4', ...epochs], 2);
    const dir = path.join(tmp, 'resumed');
    const launch = async (extra: string[]) =>
      start([
        CLI,
        'launch',
        '--nproc',
        '2',
        '--master-port',
        String(await freePort()),
        WORKER,
        'lm',
        '4',
        '--dir',
        dir,
        ...epochs,
        ...extra,
      ]);
    const first = await launch(['--checkpoint-every', '3']);
    await waitFor(path.join(dir, 'training-state.json'), 60_000);
    first.child.kill('SIGINT');
    const stopped = await first.done;
    expect(stopped.status).toBe(130);
    const lines = (text: string) => text.split('\n').filter((l) => l.startsWith('[rank 0] {'));
    const before = JSON.parse(lines(stopped.stdout)[0]!.slice('[rank 0] '.length)) as Output;
    expect(before.aborted).toBe(true);
    expect(before.losses.length).toBeLessThan(reference!.losses.length);
    const state = JSON.parse(fs.readFileSync(path.join(dir, 'training-state.json'), 'utf8'));
    expect(state.finished).toBe(false);

    const second = await (await launch(['--resume'])).done;
    expect(second.status, second.stderr).toBe(0);
    const after = JSON.parse(lines(second.stdout)[0]!.slice('[rank 0] '.length)) as Output;
    expect(before.losses.length + after.losses.length).toBe(reference!.losses.length);
    expect(maxDiff([...before.losses, ...after.losses], reference!.losses)).toBeLessThan(1e-6);
    expect(weightDiff(after, reference!, () => true)).toBeLessThan(1e-6);
  }, 240_000);
});
