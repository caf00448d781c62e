// Which files a read covers. A path may name a file, a directory (its files with a wanted extension, at any
// depth), or a glob; the list is sorted by code unit and de-duplicated, so a read is the same on every machine.
import fs from 'node:fs';
import path from 'node:path';

import { glob, isDynamicPattern } from 'tinyglobby';
import { z } from 'zod';

import { DataError } from './read-error.js';

export const PathsSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** The largest line, CSV record or whole-file document accepted; it bounds the memory a read holds. */
export const MaxRecordBytesSchema = z
  .number()
  .int()
  .min(1)
  .max(256 * 2 ** 20) // a document becomes one string, and V8 strings stop near 2^29 UTF-16 units
  .default(64 * 2 ** 20);

/**
 * Absolute paths of the files `paths` names. A file named outright, or matched by a glob, is taken whatever its
 * extension; a directory contributes its files ending in one of `extensions` (lower case, with the dot).
 * Names starting with "." are skipped in directories, as globs skip them. No match is an error naming the path.
 */
export async function resolveSources(paths: string | readonly string[], extensions: readonly string[]): Promise<string[]> {
  const found = new Set<string>();
  for (const p of typeof paths === 'string' ? [paths] : paths) {
    const stat = await statOrNull(p);
    let files: string[];
    if (stat?.isFile()) files = [path.resolve(p)];
    else if (stat?.isDirectory()) {
      files = await walk(path.resolve(p), extensions, new Set());
      if (files.length === 0) throw new DataError(`no ${extensions.join(', ')} files in this directory`, p);
    } else if (isDynamicPattern(p)) {
      files = await glob(p, { absolute: true, onlyFiles: true, expandDirectories: false });
      if (files.length === 0) throw new DataError(`no files match the pattern "${p}"`);
    } else {
      throw new DataError('no such file or directory', p);
    }
    for (const file of files) found.add(path.resolve(file));
  }
  return [...found].sort(byCodeUnit);
}

/** Sorting by UTF-16 code unit: unlike localeCompare, the same order everywhere. */
export function byCodeUnit(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The files under `dir`, at any depth, ending in one of `extensions`; sorted, possibly none. */
export async function filesUnder(dir: string, extensions: readonly string[]): Promise<string[]> {
  return (await walk(path.resolve(dir), extensions, new Set())).sort(byCodeUnit);
}

async function walk(dir: string, extensions: readonly string[], seen: Set<string>): Promise<string[]> {
  // A symbolic link may lead back up the tree: each real directory is listed once.
  const real = await fs.promises.realpath(dir);
  if (seen.has(real)) return [];
  seen.add(real);
  const files: string[] = [];
  for (const { name, entry } of await listDirectory(dir)) {
    if (name.startsWith('.')) continue;
    const full = path.join(dir, name);
    const stat = entry.isSymbolicLink() ? await statOrNull(full) : entry;
    if (stat?.isDirectory()) files.push(...(await walk(full, extensions, seen)));
    else if (stat?.isFile() && extensions.includes(path.extname(name).toLowerCase())) files.push(full);
  }
  return files;
}

/**
 * The entries of `dir`, each with its name as a string. A name that is not valid UTF-8 (a Latin-1 name from an
 * old archive, say) has no exact JavaScript string, so Node could not open the file by it: such a name is an
 * error naming the directory and the name's bytes, never a file silently missed or an ENOENT about a name that
 * is not on disk.
 */
async function listDirectory(dir: string): Promise<{ name: string; entry: fs.Dirent<Buffer> }[]> {
  return (await fs.promises.readdir(dir, { withFileTypes: true, encoding: 'buffer' })).map((entry) => {
    const raw = entry.name;
    const name = raw.toString('utf8');
    if (!Buffer.from(name, 'utf8').equals(raw)) {
      const shown = [...raw]
        .map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`))
        .join('');
      throw new DataError(
        `holds a file name that is not valid UTF-8 ("${shown}"): rename it (e.g. convmv -f latin1 -t utf8) or move it out`,
        dir,
      );
    }
    return { name, entry };
  });
}

async function statOrNull(p: string): Promise<fs.Stats | null> {
  try {
    return await fs.promises.stat(p);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw error;
  }
}

/** The immediate subdirectories of `dir` (not hidden), for a folder-per-label set. */
export async function subdirectories(dir: string): Promise<string[]> {
  const names: string[] = [];
  for (const { name, entry } of await listDirectory(dir)) {
    if (name.startsWith('.')) continue;
    const stat = entry.isSymbolicLink() ? await statOrNull(path.join(dir, name)) : entry;
    if (stat?.isDirectory()) names.push(name);
  }
  return names.sort(byCodeUnit);
}
