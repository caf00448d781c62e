// Kill and resume. The fault: a real `ulmfit pretrain` run (the CLI in a child process, checkpointing every
// 2 steps) is killed with SIGKILL, so nothing gets to clean up: at steps drawn by a seeded RNG (twice per
// seed: the run, then its resumed run), and once in the middle of writing a checkpoint (the atomic save's
// temporary sibling directory is watched; the process is frozen with SIGSTOP and killed only if that
// directory still exists with the weights file in it, so the kill provably lands mid-save). Checked after
// every kill: every model directory on disk loads (checksums, tensors, training state), a half-written
// temporary directory never passes for a model, and the same command with --resume continues from the saved
// step (not from scratch). At the end: the resumed run's weights.safetensors and optimizer.safetensors are
// byte-identical to an uninterrupted run's, and so is its history. Also: a kill between the two renames of a
// save (simulated: the window is too short to hit) resumes from the directory moved aside; a flipped byte or
// a truncated file in a checkpoint is refused, naming the file, by load() and by --resume.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeSafetensors } from '../../src/io/safetensors.js';
import { dispose, load, ModelDirectoryError, Random } from '../../src/index.js';
import { PACKAGE_ROOT } from '../helpers/child.js';

const bin = path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js');
// On tmpfs where there is one: SIGKILL leaves the page cache intact, so what fsync adds is not under test
// here, and a shared machine's disk stays out of the timing.
const scratchBase = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
const tmp = fs.mkdtempSync(path.join(scratchBase, 'ulmfit-kill-resume-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const corpus = path.join(tmp, 'corpus.txt');
const CHECKPOINT_EVERY = 2;

/** The training command, into `out`: a tiny language model on CPU, fp32, two epochs of a few dozen steps. */
function pretrainArgs(out: string): string[] {
  return [
    'pretrain',
    corpus,
    '--format',
    'lines',
    '--out',
    out,
    '--emb-size',
    '16',
    '--hidden-size',
    '16',
    '--num-layers',
    '2',
    '--batch-size',
    '4',
    '--seq-len',
    '8',
    '--min-freq',
    '1',
    '--epochs',
    '2',
    '--lr',
    '0.01',
    '--seed',
    '3',
    '--device',
    'cpu',
    '--precision',
    'fp32',
    '--checkpoint-every-steps',
    String(CHECKPOINT_EVERY),
    '--json',
  ];
}

// One LibTorch thread: the model is tiny, and on a small shared machine idle threads spinning cost more than
// they give. Every run (the uninterrupted one too) has the same environment.
const childEnv = { ...process.env, OMP_NUM_THREADS: '1' };

type JsonEvent = Record<string, unknown> & { event: string };

interface Exited {
  code: number | null;
  signal: NodeJS.Signals | null;
  events: JsonEvent[];
  stderr: string;
}

/** Runs the CLI; `onEvent` sees each --json line as it arrives, with the child (to kill it). */
function runCli(
  args: string[],
  onEvent?: (event: JsonEvent, child: ChildProcess) => void,
  onSpawn?: (child: ChildProcess) => void,
): Promise<Exited> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: tmp, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  onSpawn?.(child);
  const events: JsonEvent[] = [];
  let pending = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (!line.trim()) continue;
      const event = JSON.parse(line) as JsonEvent;
      events.push(event);
      onEvent?.(event, child);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, events, stderr }));
  });
}

const stepsOf = (events: JsonEvent[]) => events.filter((e) => e.event === 'step').map((e) => e.step as number);

/** Runs the command and SIGKILLs it as soon as it reports step `killAt`; fails if it ended any other way. */
async function killAtStep(args: string[], killAt: number): Promise<Exited> {
  const exited = await runCli(args, (event, child) => {
    if (event.event === 'step' && (event.step as number) >= killAt && child.exitCode === null && !child.killed) child.kill('SIGKILL');
  });
  expect(exited.signal, `the run was to be killed at step ${killAt}; it exited with ${exited.code}: ${exited.stderr}`).toBe('SIGKILL');
  return exited;
}

interface SaveInterrupted extends Exited {
  staging: string;
  /** What the temporary directory held when the process was frozen. */
  stagedFiles: string[];
}

/** Waits (spinning on /proc, a few microseconds) until a SIGSTOP has taken effect: kill() does not wait for it. */
function waitUntilStopped(pid: number): void {
  for (let i = 0; i < 1_000_000; i++) {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'T' || state === 't' || state === 'Z') return;
  }
  throw new Error(`process ${pid} did not stop`);
}

/**
 * Runs the command and, at the first checkpoint after step `afterStep`, SIGKILLs it in the middle of the
 * atomic save: once the save's temporary directory (`.<name>.tmp-<pid>-<hex>`, next to `out`) has received
 * `file`. Each time the process is frozen (SIGSTOP) to look: a temporary directory that has appeared gets
 * watched itself; the kill comes only if the directory is still there with `file` in it, else the process
 * is let go (SIGCONT) and the next checkpoint is tried.
 */
async function killDuringSave(args: string[], out: string, afterStep: number, file: string): Promise<SaveInterrupted> {
  const parent = path.dirname(out);
  fs.mkdirSync(parent, { recursive: true });
  const stagingPrefix = `.${path.basename(out)}.tmp-`;
  let stepsSeen = 0;
  let caught = null as { staging: string; stagedFiles: string[] } | null;
  let child = null as ChildProcess | null;
  const stagingWatchers: fs.FSWatcher[] = [];
  // Freezes the child and calls `look` while it stands still; lets it go unless `look` killed it.
  const frozen = (look: () => void) => {
    if (caught || !child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGSTOP');
    waitUntilStopped(child.pid);
    look();
    if (!caught) child.kill('SIGCONT');
  };
  const killIfSaving = (staging: string) => {
    if (fs.existsSync(path.join(staging, file))) {
      caught = { staging, stagedFiles: fs.readdirSync(staging).sort() };
      child!.kill('SIGKILL');
    }
  };
  const watcher = fs.watch(parent, (_type, name) => {
    if (stepsSeen < afterStep || !name?.startsWith(stagingPrefix)) return;
    const staging = path.join(parent, name);
    frozen(() => {
      if (!fs.existsSync(staging)) return;
      killIfSaving(staging);
      if (caught) return;
      const stagingWatcher = fs.watch(staging, () => frozen(() => fs.existsSync(staging) && killIfSaving(staging)));
      stagingWatcher.on('error', () => {}); // the directory, renamed into place, is replaced by the next save
      stagingWatchers.push(stagingWatcher);
    });
  });
  try {
    const exited = await runCli(
      args,
      (event) => {
        if (event.event === 'step') stepsSeen = event.step as number;
      },
      (c) => (child = c),
    );
    expect(caught, `no checkpoint save was caught with ${file} written; the run exited with ${exited.code}`).not.toBeNull();
    expect(exited.signal).toBe('SIGKILL');
    return { ...exited, ...caught! };
  } finally {
    watcher.close();
    for (const w of stagingWatchers) w.close();
  }
}

interface OnDisk {
  /** The checkpoint's stepsDone (0: no checkpoint was written). */
  stepsDone: number;
  /** Leftovers of interrupted saves: temporary directories, and directories moved aside. */
  leftovers: string[];
}

/**
 * The model directory `out`, where there is one, must load with its optimizer and training state. A
 * leftover of an interrupted save next to it (a temporary directory killed while being filled, or the
 * previous model directory moved aside, killed while being deleted) must load or be refused with a
 * ModelDirectoryError: never pass for a model with some other error.
 */
function checkOnDisk(out: string): OnDisk {
  const parent = path.dirname(out);
  const name = path.basename(out);
  const leftovers: string[] = [];
  // Without `out` (a kill between the two renames of a save), --resume takes the newest whole one moved aside.
  let movedAsideStepsDone = 0;
  for (const entry of fs.readdirSync(parent)) {
    const dir = path.join(parent, entry);
    if (entry === name) dispose(load(dir, { optimizer: true }));
    else if (entry.startsWith(`.${name}.tmp-`) || entry.startsWith(`.${name}.old-`)) {
      leftovers.push(entry);
      try {
        dispose(load(dir, { optimizer: true }));
        if (entry.startsWith(`.${name}.old-`)) movedAsideStepsDone = Math.max(movedAsideStepsDone, stepsDoneIn(dir));
      } catch (err) {
        expect(err, `${dir}: a part of a save must be refused as a model directory`).toBeInstanceOf(ModelDirectoryError);
      }
    }
  }
  return { stepsDone: fs.existsSync(out) ? stepsDoneIn(out) : movedAsideStepsDone, leftovers };
}

/** Where the (unfinished) run saved in `dir` stands. */
function stepsDoneIn(dir: string): number {
  const state = JSON.parse(fs.readFileSync(path.join(dir, 'training-state.json'), 'utf8')) as {
    position: { stepsDone: number };
    finished: boolean;
  };
  expect(state.finished).toBe(false);
  return state.position.stepsDone;
}

/** Resumes the killed run and checks that it picks up right after the checkpoint on disk. */
async function resumeFrom(args: string[], onDisk: OnDisk, killAt?: number): Promise<Exited> {
  const resumeArgs = [...args, '--resume'];
  const exited = killAt === undefined ? await runCli(resumeArgs) : await killAtStep(resumeArgs, killAt);
  if (killAt === undefined) expect(exited.code, exited.stderr).toBe(0);
  expect(stepsOf(exited.events)[0], 'the resumed run starts right after the saved step').toBe(onDisk.stepsDone + 1);
  return exited;
}

let reference: { out: string; totalSteps: number };

function differingTensors(file: string, other: string): string[] {
  const a = decodeSafetensors(fs.readFileSync(file), file).tensors;
  const b = decodeSafetensors(fs.readFileSync(other), other).tensors;
  const names = [...new Set([...a.keys(), ...b.keys()])];
  return names.filter((n) => {
    const x = a.get(n)?.data;
    const y = b.get(n)?.data;
    return !x || !y || !Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(y.buffer, y.byteOffset, y.byteLength));
  });
}

/** The finished run in `out` equals the uninterrupted one: weights and optimizer byte for byte, and history. */
function expectSameAsUninterrupted(out: string): void {
  for (const file of ['weights.safetensors', 'optimizer.safetensors']) {
    const resumed = path.join(out, file);
    const uninterrupted = path.join(reference.out, file);
    const same = fs.readFileSync(resumed).equals(fs.readFileSync(uninterrupted));
    expect(
      same,
      `${file} differs from the uninterrupted run's; tensors: ${same ? '' : differingTensors(resumed, uninterrupted).join(', ')}`,
    ).toBe(true);
  }
  const state = (dir: string) =>
    JSON.parse(fs.readFileSync(path.join(dir, 'training-state.json'), 'utf8')) as { finished: boolean; history: unknown[] };
  expect(state(out).finished).toBe(true);
  expect(state(out).history).toEqual(state(reference.out).history);
}

beforeAll(async () => {
  // A toy corpus: 30 lines of 12 to 27 words from 40 made-up words (skewed, so the model has something to learn).
  const random = new Random(7);
  const words = Array.from({ length: 40 }, (_, i) => `w${i.toString(36)}x`);
  const lines = Array.from(
    { length: 30 },
    () => Array.from({ length: 12 + random.int(16) }, () => words[Math.floor(random.next() * random.next() * 40)]).join(' ') + '.',
  );
  fs.writeFileSync(corpus, lines.join('\n') + '\n');

  const out = path.join(tmp, 'uninterrupted', 'model');
  const exited = await runCli(pretrainArgs(out));
  expect(exited.code, exited.stderr).toBe(0);
  const steps = stepsOf(exited.events);
  expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i + 1));
  expect(steps.length).toBeGreaterThanOrEqual(24);
  reference = { out, totalSteps: steps.length };
}, 300_000);

describe('a training run killed with SIGKILL and resumed with --resume', () => {
  for (const seed of [1, 2, 3]) {
    it(`killed at two seeded random steps (seed ${seed}) resumes and ends byte-identical`, async () => {
      const random = new Random(seed);
      const last = reference.totalSteps - 4; // the kill must land before the run ends
      const firstKill = 2 + random.int(last - 8);
      const drawnSecondKill = firstKill + 3 + random.int(last - firstKill - 3);
      const out = path.join(tmp, `seed-${seed}`, 'model');
      const args = pretrainArgs(out);

      await killAtStep(args, firstKill);
      const afterFirst = checkOnDisk(out);
      // Step k is reported after every checkpoint before it was written: at most CHECKPOINT_EVERY steps are lost.
      expect(afterFirst.stepsDone).toBeGreaterThanOrEqual(firstKill - CHECKPOINT_EVERY);
      // The child may have run a step or two past the kill point before the signal landed.
      const secondKill = Math.max(drawnSecondKill, afterFirst.stepsDone + CHECKPOINT_EVERY + 1);
      expect(secondKill).toBeLessThan(reference.totalSteps);
      await resumeFrom(args, afterFirst, secondKill);
      const afterSecond = checkOnDisk(out);
      expect(afterSecond.stepsDone, 'the resumed run checkpointed past the first kill').toBeGreaterThan(afterFirst.stepsDone);
      await resumeFrom(args, afterSecond);
      expectSameAsUninterrupted(out);
    }, 180_000);
  }

  it('killed in the middle of writing a checkpoint keeps the previous one, resumes from it and ends byte-identical', async () => {
    const out = path.join(tmp, 'mid-save', 'model');
    const args = pretrainArgs(out);
    const afterStep = Math.floor(reference.totalSteps / 3);
    // weights.safetensors is the second of the six files a save writes (config.json is the last).
    const killed = await killDuringSave(args, out, afterStep, 'weights.safetensors');
    // The previous checkpoint is what is on disk; the interrupted save left its temporary directory.
    const onDisk = checkOnDisk(out);
    expect(onDisk.stepsDone).toBeGreaterThanOrEqual(afterStep - CHECKPOINT_EVERY);
    expect(onDisk.stepsDone).toBeLessThan(Math.max(...stepsOf(killed.events)) + 1);
    expect(onDisk.leftovers, `the save interrupted with ${killed.stagedFiles.join(', ') || 'nothing'} written`).toContain(
      path.basename(killed.staging),
    );
    await resumeFrom(args, onDisk);
    expectSameAsUninterrupted(out);
  }, 180_000);
});

describe('a training run killed between the two renames of a checkpoint save', () => {
  // replaceDirectoryAtomic renames the model directory to `.<name>.old-<tag>`, then the filled temporary one
  // into its place. A SIGKILL between the two leaves no model directory at all (reproduced with a real kill:
  // `strace -e inject=rename:signal=KILL:when=3` on this command). The window is microseconds, too short to
  // hit from here, so the first rename is done by hand on a killed run's checkpoint: the same state on disk.
  it('resumes from the directory moved aside instead of starting over, and ends byte-identical', async () => {
    const out = path.join(tmp, 'between-renames', 'model');
    const args = pretrainArgs(out);
    await killAtStep(args, Math.floor(reference.totalSteps / 2));
    const onDisk = checkOnDisk(out);
    expect(onDisk.stepsDone).toBeGreaterThan(0);
    // Named as the killed process names them: its pid (one no process has: above Linux's largest pid_max).
    const deadPid = 2 ** 22 + 1;
    const movedAside = path.join(path.dirname(out), `.model.old-${deadPid}-0badc0de`);
    // And a newer part of one, as a kill while an earlier save deleted the one it had moved aside leaves.
    const partlyDeleted = path.join(path.dirname(out), `.model.old-${deadPid}-deadbeef`);
    fs.cpSync(out, partlyDeleted, { recursive: true });
    fs.rmSync(path.join(partlyDeleted, 'weights.safetensors'));
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(partlyDeleted, 'config.json'), later, later);
    fs.renameSync(out, movedAside);
    await resumeFrom(args, onDisk);
    expect(fs.existsSync(movedAside), 'the whole directory moved aside was put back').toBe(false);
    expect(fs.existsSync(partlyDeleted), 'the part of one was not taken, and the next save removed it').toBe(false);
    expectSameAsUninterrupted(out);
  }, 180_000);
});

describe('a damaged checkpoint', () => {
  /** A copy of the uninterrupted run's model directory, with `damage` done to one of its files. */
  function damagedCopy(name: string, file: string, damage: (bytes: Buffer) => Buffer): { out: string; file: string } {
    const out = path.join(tmp, `damaged-${name}`, 'model');
    fs.cpSync(reference.out, out, { recursive: true });
    const target = path.join(out, file);
    fs.writeFileSync(target, damage(fs.readFileSync(target)));
    return { out, file: target };
  }
  const flipByte = (bytes: Buffer) => {
    const copy = Buffer.from(bytes);
    const middle = copy.length >> 1;
    copy.writeUInt8(copy.readUInt8(middle) ^ 0x01, middle);
    return copy;
  };
  const truncate = (bytes: Buffer) => bytes.subarray(0, bytes.length - 7);

  it('is refused on load, naming the corrupt or truncated file', () => {
    for (const [name, file, damage] of [
      ['flipped-weights', 'weights.safetensors', flipByte],
      ['truncated-weights', 'weights.safetensors', truncate],
      ['truncated-optimizer', 'optimizer.safetensors', truncate],
      ['flipped-state', 'training-state.json', flipByte],
      ['truncated-state-tensors', 'training-state.safetensors', truncate],
    ] as const) {
      const damaged = damagedCopy(name, file, damage);
      expect(() => load(damaged.out, { optimizer: true }), name).toThrow(`${damaged.file} is corrupt or truncated`);
    }
  });

  it('makes --resume fail with exit 1 naming the file, instead of starting over', async () => {
    const damaged = damagedCopy('resume', 'weights.safetensors', flipByte);
    const exited = await runCli([...pretrainArgs(damaged.out), '--resume']);
    expect(exited.code).toBe(1);
    expect(exited.stderr).toContain(`${damaged.file} is corrupt or truncated`);
    expect(stepsOf(exited.events)).toEqual([]);
  }, 120_000);
});
