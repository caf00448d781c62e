// Runs a snippet of ESM in a fresh Node process (a clean dlopen state per case), against the compiled package.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const DIST_INDEX = new URL('../../dist/index.js', import.meta.url).href;
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function runNode(code: string, env: Record<string, string | undefined>, cwd = PACKAGE_ROOT) {
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, cwd, encoding: 'utf8', timeout: 120_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}
