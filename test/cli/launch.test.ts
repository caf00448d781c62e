// `ulmfit launch`: the workers get torchrun's variables and a rank prefix on their output; one failing worker
// ends the job (the others stopped, the failure named); Ctrl-C reaches every worker; a process group forms
// across the launched workers; `ulmfit launch --nproc 2 pretrain ...` trains one model with two ranks, rank 0
// alone speaking and writing the model directory.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { native } from '../../src/native/loader.js';
import { DIST_INDEX, PACKAGE_ROOT } from '../helpers/child.js';
import { freePort } from '../helpers/free-port.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-launch-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
const bin = path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js');

function script(name: string, code: string): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, code);
  return file;
}

/** Runs `ulmfit launch ...`; `onStart` may signal the launcher once its workers have printed `ready`. */
function launch(args: string[], onReady?: (pid: number) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [bin, 'launch', ...args], { cwd: PACKAGE_ROOT });
  let stdout = '';
  let stderr = '';
  let ready = 0;
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
    const now = (stdout.match(/ready/g) ?? []).length;
    if (onReady && now > ready && (ready = now) === 2) onReady(child.pid!);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d));
  return new Promise((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
}

describe('ulmfit launch', () => {
  it("gives each worker torchrun's variables and prefixes its lines with its rank", async () => {
    const env = script(
      'env.mjs',
      `const e = process.env; console.log([e.RANK, e.LOCAL_RANK, e.WORLD_SIZE, e.LOCAL_WORLD_SIZE, e.MASTER_ADDR, e.MASTER_PORT, process.argv[2]].join(' '));`,
    );
    const r = await launch(['--nproc', '2', '--nnodes', '2', '--node-rank', '1', '--master-port', '29555', env, '--flag-of-the-script']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('[rank 2] 2 0 4 2 127.0.0.1 29555 --flag-of-the-script');
    expect(r.stdout).toContain('[rank 3] 3 1 4 2 127.0.0.1 29555 --flag-of-the-script');
  });

  it('ends the job when one worker fails: the others stopped, the failure named', async () => {
    const failing = script('fail.mjs', `if (process.env.RANK === '1') process.exit(3); setInterval(() => {}, 1000);`);
    const started = Date.now();
    const r = await launch(['--nproc', '2', failing]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/ulmfit: launch: rank 1 \(pid \d+\) exited with 3; the other workers were stopped/);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('passes Ctrl-C to every worker and exits 130', async () => {
    const waiting = script(
      'wait.mjs',
      `process.on('SIGINT', () => { console.log('got SIGINT'); process.exit(0); }); console.log('ready'); setInterval(() => {}, 1000);`,
    );
    const r = await launch(['--nproc', '2', waiting], (pid) => process.kill(pid, 'SIGINT'));
    expect(r.status).toBe(130);
    expect(r.stdout).toContain('[rank 0] got SIGINT');
    expect(r.stdout).toContain('[rank 1] got SIGINT');
  });

  it('refuses a script that is not there and a node rank outside the job', async () => {
    expect((await launch(['--nproc', '2', path.join(tmp, 'missing.mjs')])).stderr).toMatch(/launch: no script at .*missing\.mjs/);
    const r = await launch(['--nnodes', '2', '--node-rank', '2', script('ok.mjs', '')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nodeRank must be below nnodes/);
  });

  it.skipIf(!native().info().distributed.gloo && process.env.ULMFIT_REQUIRE_GLOO !== '1')(
    'launched workers form a process group',
    async () => {
      const worker = script(
        'group.mjs',
        `import { ProcessGroup } from '${DIST_INDEX}';
const group = await ProcessGroup.connect({ timeoutMs: 60000 });
console.log('sum', (await group.allReduce(Float32Array.of(group.rank + 1)))[0]);
group.dispose();`,
      );
      const r = await launch(['--nproc', '3', '--master-port', String(await freePort()), worker]);
      expect(r.status, r.stderr).toBe(0);
      for (const rank of [0, 1, 2]) expect(r.stdout).toContain(`[rank ${rank}] sum 6`);
    },
    60_000,
  );

  it.skipIf(!native().info().distributed.gloo && process.env.ULMFIT_REQUIRE_GLOO !== '1')(
    "runs one of ulmfit's commands as the workers: one model, rank 0 alone reports and writes it",
    async () => {
      const corpus = path.join(tmp, 'corpus.txt');
      const line = (i: number) =>
        `the ${['quick', 'lazy', 'brown', 'red'][i % 4]} fox jumps over the ${['dog', 'cat', 'hen'][i % 3]} again`;
      fs.writeFileSync(corpus, Array.from({ length: 200 }, (_, i) => line(i)).join('\n') + '\n');
      const out = path.join(tmp, 'lm');
      const model = ['--emb-size', '8', '--hidden-size', '12', '--num-layers', '2', '--batch-size', '4', '--seq-len', '8'];
      const flags = ['--format', 'lines', '--epochs', '1', '--min-freq', '1', '--json', '--out', out, ...model];
      const r = await launch(['--nproc', '2', '--master-port', String(await freePort()), 'pretrain', corpus, ...flags]);
      expect(r.status, r.stderr).toBe(0);
      const events = (rank: number) => r.stdout.split('\n').filter((l) => l.startsWith(`[rank ${rank}] {`));
      expect(events(1)).toEqual([]); // rank 1 trains in silence
      const done = events(0)
        .map((l) => JSON.parse(l.slice('[rank 0] '.length)))
        .find((e) => e.event === 'done');
      expect(done).toMatchObject({ stage: 'pretrain', dir: out });
      expect(JSON.parse(fs.readFileSync(path.join(out, 'training-state.json'), 'utf8'))).toMatchObject({ finished: true, worldSize: 2 });
      expect(fs.existsSync(path.join(out, 'report.html'))).toBe(true);
    },
    120_000,
  );
});
