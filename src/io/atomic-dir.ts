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

/**
 * Fills a temporary sibling of `dir` with `fill(staging)` (which must fsync what it writes), fsyncs the
 * sibling and renames it into place.
 */
export function replaceDirectoryAtomic(dir: string, fill: (staging: string) => void): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const staging = path.join(parent, `.${path.basename(target)}.tmp-${tag}`);
  fs.mkdirSync(staging);
  try {
    fill(staging);
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

/** Writes a file from chunks, fsyncs it, and returns its SHA-256 and size. */
export function writeFileSynced(file: string, chunks: Iterable<Uint8Array | string>): { sha256: string; bytes: number } {
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  const fd = fs.openSync(file, 'w');
  try {
    for (const chunk of chunks) {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      hash.update(data);
      for (let off = 0; off < data.length; ) off += fs.writeSync(fd, data, off, data.length - off);
      bytes += data.length;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

export function writeDirectoryAtomic(dir: string, files: Record<string, Buffer | string>): void {
  replaceDirectoryAtomic(dir, (staging) => {
    for (const [name, content] of Object.entries(files)) writeFileSynced(path.join(staging, name), [content]);
  });
}

export function sha256(content: Buffer | string): string {
  return crypto.createHash('sha256').update(content).digest('hex');
}
