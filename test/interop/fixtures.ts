// Runs fixtures.py (the real torch.save and pickle) once per version of the script, into a temp folder that
// the interop test files share: each file calls torchFixtures() in beforeAll, the first to get there writes.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { discover } from '../../scripts/libtorch.js';

const SCRIPT = fileURLToPath(new URL('./fixtures.py', import.meta.url));

export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  stride: number[];
  storageOffset: number;
  requiresGrad: boolean;
  bytes: string;
}

export interface Manifest {
  torch: string;
  fixtures: Record<string, { format: 'zip' | 'legacy'; tensors: Record<string, ExpectedTensor>; shared: string[][] }>;
}

export interface Fixtures {
  dir: string;
  manifest: Manifest;
  bytes(name: string): Uint8Array;
  json(name: string): unknown;
}

/** PYTHONPATH for a python3 that imports torch: the pip-installed torch that holds our LibTorch. */
export function torchPythonPath(): string | null {
  let site: string;
  try {
    const libDir = (discover() as { libDir?: string }).libDir;
    if (!libDir) return null;
    site = path.dirname(path.dirname(libDir));
  } catch {
    return null;
  }
  const extra = process.env.ULMFIT_TEST_PYTHONPATH;
  return extra ? `${extra}${path.delimiter}${site}` : site;
}

const importsTorch = (pythonPath: string) =>
  spawnSync('python3', ['-c', 'import torch'], { env: { ...process.env, PYTHONPATH: pythonPath } }).status === 0;

let cached: Fixtures | null | undefined;

/** The fixtures, or null (with the reason on stderr) where no python3 can import torch. */
export function torchFixtures(): Fixtures | null {
  if (cached !== undefined) return cached;
  const pythonPath = torchPythonPath();
  const hash = pythonPath && crypto.createHash('sha256').update(fs.readFileSync(SCRIPT)).update(pythonPath).digest('hex').slice(0, 16);
  const dir = path.join(os.tmpdir(), `ulmfit-interop-fixtures-${hash}`);
  if (!pythonPath || (!fs.existsSync(path.join(dir, 'expected.json')) && !importsTorch(pythonPath))) {
    console.warn('interop: skipped: no python3 here can import torch (the pip-installed LibTorch); fixtures.py needs it');
    return (cached = null);
  }
  if (!fs.existsSync(path.join(dir, 'expected.json'))) {
    const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-interop-fixtures-tmp-'));
    const run = spawnSync('python3', [SCRIPT, scratch], {
      env: { ...process.env, PYTHONPATH: pythonPath },
      encoding: 'utf8',
      timeout: 280_000,
    });
    if (run.status !== 0) throw new Error(`fixtures.py failed (${run.status}):\n${run.stderr}`);
    try {
      fs.renameSync(scratch, dir); // atomic: another test file may have got there first
    } catch {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'expected.json'), 'utf8')) as Manifest;
  return (cached = {
    dir,
    manifest,
    bytes: (name) => new Uint8Array(fs.readFileSync(path.join(dir, name))),
    json: (name) => JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')),
  });
}
