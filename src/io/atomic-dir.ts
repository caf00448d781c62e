// Writes a whole directory atomically: every file goes into a temporary sibling, is fsynced, and the
// sibling is renamed into place. A crash leaves either the old directory or the new one, never a mix; the
// old one is moved aside (not deleted) until the new one is in place, so nothing saved is lost.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

function fsyncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function writeDirectoryAtomic(dir: string, files: Record<string, Buffer | string>): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.tmp-${tag}`);
  fs.mkdirSync(staging);
  try {
    for (const [name, content] of Object.entries(files)) {
      const file = path.join(staging, name);
      const fd = fs.openSync(file, 'w');
      try {
        fs.writeFileSync(fd, content);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    }
    fsyncPath(staging);
    const old = path.join(parent, `.${path.basename(target)}.old-${tag}`);
    const hadOld = fs.existsSync(target);
    if (hadOld) fs.renameSync(target, old);
    fs.renameSync(staging, target);
    fsyncPath(parent);
    if (hadOld) fs.rmSync(old, { recursive: true, force: true });
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}

export function sha256(content: Buffer | string): string {
  return crypto.createHash('sha256').update(content).digest('hex');
}
