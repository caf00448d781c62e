// Writes a whole directory atomically: every file goes into a temporary sibling, is fsynced, and the
// sibling is renamed into place. A crash leaves either the old directory or the new one, never a mix; the
// old one is moved aside (not deleted) until the new one is in place, so nothing saved is lost. Files in the
// old directory that the new one does not write (a report, the user's own notes) are carried over. What a
// killed save leaves behind is dealt with by the next save (leftovers removed) or load (restoreMovedAside).
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

// Siblings of `target`: ".<name>.tmp-<pid>-<hex>" while a save fills it, ".<name>.old-<pid>-<hex>" while
// the previous directory waits to be deleted.
const sibling = (target: string, kind: 'tmp' | 'old', tag: string) =>
  path.join(path.dirname(target), `.${path.basename(target)}.${kind}-${tag}`);

function siblings(target: string, kind: 'tmp' | 'old'): { file: string; pid: number }[] {
  const prefix = `.${path.basename(target)}.${kind}-`;
  let names: string[];
  try {
    names = fs.readdirSync(path.dirname(target));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.startsWith(prefix))
    .map((n) => ({ file: path.join(path.dirname(target), n), pid: Number.parseInt(n.slice(prefix.length), 10) }));
}

function isRunning(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes what saves of `target` killed midway left: a staging directory whose process is gone, and, when
 * `target` itself is there (so the rename that replaced it completed), the previous directories moved aside.
 */
function removeLeftovers(target: string): void {
  for (const { file, pid } of siblings(target, 'tmp')) if (!isRunning(pid)) fs.rmSync(file, { recursive: true, force: true });
  if (!fs.existsSync(target)) return;
  for (const { file, pid } of siblings(target, 'old')) if (!isRunning(pid)) fs.rmSync(file, { recursive: true, force: true });
}

/**
 * A save killed between moving the previous directory aside and renaming the new one into place leaves no
 * `dir`: puts back the newest moved-aside directory that `isWhole` accepts (one killed while being deleted
 * is partial). Returns whether it restored one.
 */
export function restoreMovedAside(dir: string, isWhole: (candidate: string) => boolean): boolean {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) return false;
  const newest = siblings(target, 'old')
    .filter(({ file, pid }) => !isRunning(pid) && isWhole(file))
    .map(({ file }) => ({ file, mtimeMs: fs.statSync(file).mtimeMs }))
    .sort((a, b) => b.mtimeMs - a.mtimeMs)[0];
  if (!newest) return false;
  fs.renameSync(newest.file, target);
  return true;
}

/** Copies into `staging` (hard links where it can) each entry of `previous` that `staging` lacks and the format does not own. */
function carryOver(previous: string, staging: string, owned: readonly string[]): void {
  for (const entry of fs.readdirSync(previous, { withFileTypes: true })) {
    const to = path.join(staging, entry.name);
    if (owned.includes(entry.name) || fs.existsSync(to)) continue;
    const from = path.join(previous, entry.name);
    if (entry.isFile()) {
      try {
        fs.linkSync(from, to);
      } catch {
        fs.copyFileSync(from, to);
      }
    } else fs.cpSync(from, to, { recursive: true, verbatimSymlinks: true });
  }
}

/**
 * Fills a temporary sibling of `dir` with `fill(staging)` (which must fsync what it writes), adds the files
 * of the old `dir` it did not write (except those named in `owned`: the format's own files, which a save
 * may drop on purpose), fsyncs the sibling and renames it into place.
 */
export function replaceDirectoryAtomic(dir: string, fill: (staging: string) => void, owned: readonly string[] = []): void {
  const target = path.resolve(dir);
  const parent = path.dirname(target);
  fs.mkdirSync(parent, { recursive: true });
  removeLeftovers(target);
  const tag = `${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  const staging = sibling(target, 'tmp', tag);
  fs.mkdirSync(staging);
  try {
    fill(staging);
    const hadOld = fs.existsSync(target);
    if (hadOld) carryOver(target, staging, owned);
    fsyncPath(staging);
    const old = sibling(target, 'old', tag);
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
      for (let off = 0; off < data.length;) off += fs.writeSync(fd, data, off, data.length - off);
      bytes += data.length;
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return { sha256: hash.digest('hex'), bytes };
}

export function writeDirectoryAtomic(dir: string, files: Record<string, Buffer | string>, owned: readonly string[] = []): void {
  replaceDirectoryAtomic(
    dir,
    (staging) => {
      for (const [name, content] of Object.entries(files)) writeFileSynced(path.join(staging, name), [content]);
    },
    owned,
  );
}

export function sha256(content: Buffer | string): string {
  return crypto.createHash('sha256').update(content).digest('hex');
}
