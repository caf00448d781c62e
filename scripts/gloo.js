// Gloo's headers, which c10d's ProcessGroupGloo.hpp includes and LibTorch's wheels do not ship (the libraries
// do: libtorch_cpu exports ProcessGroupGloo). Found where ULMFIT_GLOO_INCLUDE points, in the system's
// /usr/include, or provisioned from Debian's libgloo-dev package into ULMFIT_HOME/gloo (`apt-get download`
// and `dpkg-deb -x`: no root needed). A build without them has no process groups (data-parallel training),
// and the addon says so when one is asked for.
//   node scripts/gloo.js include     the include directory, or nothing
//   node scripts/gloo.js defines     USE_C10D_GLOO when there is one, or nothing
//   node scripts/gloo.js provision   fetch the headers when none are found
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ulmfitHome } from './libtorch.js';

const HEADER = path.join('gloo', 'rendezvous', 'store.h');

/** Where provisioned headers go. */
export function glooHome(env = process.env) {
  return path.join(ulmfitHome(env), 'gloo');
}

/** The include directory holding gloo/, or null. */
export function glooInclude(env = process.env) {
  const candidates = [env.ULMFIT_GLOO_INCLUDE, '/usr/include', path.join(glooHome(env), 'usr', 'include')];
  return candidates.find((dir) => dir && fs.existsSync(path.join(dir, HEADER))) ?? null;
}

/** Unpacks Debian's libgloo-dev into ULMFIT_HOME/gloo when no headers are found; returns the include directory or null. */
export function provisionGloo({ env = process.env, log = console.error } = {}) {
  const found = glooInclude(env);
  if (found) return found;
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-gloo-'));
  try {
    const download = spawnSync('apt-get', ['download', 'libgloo-dev'], { cwd: work, encoding: 'utf8' });
    const deb = fs.readdirSync(work).find((f) => f.endsWith('.deb'));
    if (download.status !== 0 || !deb) {
      log(
        `gloo: no headers found and \`apt-get download libgloo-dev\` failed (${(download.stderr || download.error?.message || '').trim()}); building without process groups`,
      );
      return null;
    }
    const unpack = spawnSync('dpkg-deb', ['-x', path.join(work, deb), glooHome(env)], { encoding: 'utf8' });
    if (unpack.status !== 0) {
      log(`gloo: unpacking ${deb} failed (${unpack.stderr.trim()}); building without process groups`);
      return null;
    }
    log(`gloo: headers from ${deb} in ${glooHome(env)}`);
    return glooInclude(env);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  // The system's /usr/include is on the compiler's path already: named again with -I it would reorder it.
  if (command === 'include') console.log([glooInclude()].filter((dir) => dir && dir !== '/usr/include').join(''));
  else if (command === 'defines') console.log(glooInclude() ? 'USE_C10D_GLOO' : '');
  else if (command === 'provision') console.log(provisionGloo() ?? '');
  else {
    console.error('usage: node scripts/gloo.js include | defines | provision');
    process.exit(2);
  }
}
