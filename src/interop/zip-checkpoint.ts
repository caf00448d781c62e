// torch.save's zip format (torch >= 1.6): <archive>/data.pkl (the object pickle), <archive>/data/<key> (one
// file of raw little-endian bytes per storage), <archive>/byteorder, <archive>/version. The archive is read
// with fflate; every entry name is checked (no '..', nothing absolute) and every size bounded before fflate
// allocates for it.
import { unzipSync } from 'fflate';

import { CheckpointError } from './checkpoint-error.js';

export interface ZipCheckpoint {
  /** The folder every record lives in ('archive', or the file's name in older torch). */
  archive: string;
  pickle: Uint8Array;
  /** The bytes of <archive>/data/<key>, if there is such an entry. */
  storage(key: string): Uint8Array | undefined;
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];
/** Central-directory records are at least this long, so a file cannot hold more entries than length / 46. */
const MIN_ENTRY_BYTES = 46;
/** Deflate cannot expand data more than ~1032 times; a size claiming more is a lie. */
const MAX_DEFLATE_RATIO = 1032;
/**
 * torch stores entries uncompressed; a re-zipped checkpoint may deflate them, but all its entries together
 * may not inflate past this (per byte of file, plus a floor): a zip bomb is refused before it is inflated.
 */
const MAX_INFLATED_PER_BYTE = 16;
const MIN_INFLATED_ALLOWANCE = 64 * 1024 * 1024;
const WANTED = /^[^/]+\/(data\.pkl|byteorder|version|data\/[^/]+)$/;

export const looksLikeZip = (bytes: Uint8Array) => ZIP_MAGIC.every((b, i) => bytes[i] === b);

export function readZipCheckpoint(bytes: Uint8Array, file: string): ZipCheckpoint {
  const expectedSizes = new Map<string, number>();
  let entries = 0;
  let inflateAllowance = MIN_INFLATED_ALLOWANCE + MAX_INFLATED_PER_BYTE * bytes.length;
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes, {
      filter: (entry) => {
        // fflate trusts the entry count it reads; a forged one would have it walk garbage for a long time.
        if (++entries > bytes.length / MIN_ENTRY_BYTES + 1) {
          throw new CheckpointError(file, 'the zip directory lists more entries than the file can hold');
        }
        checkEntryName(entry.name, file);
        if (!WANTED.test(entry.name)) return false;
        if (expectedSizes.has(entry.name)) throw new CheckpointError(file, `the zip holds ${entry.name} twice`);
        const stored = entry.compression === 0;
        if (!stored && entry.compression !== 8) {
          throw new CheckpointError(file, `zip entry ${entry.name} uses compression method ${entry.compression}`);
        }
        if (stored ? entry.originalSize !== entry.size : entry.originalSize > entry.size * MAX_DEFLATE_RATIO + 1024) {
          throw new CheckpointError(file, `zip entry ${entry.name} claims ${entry.originalSize} bytes from ${entry.size}`);
        }
        if (!stored && (inflateAllowance -= entry.originalSize) < 0) {
          throw new CheckpointError(file, `the zip's compressed entries would inflate to far more than the file's size`);
        }
        expectedSizes.set(entry.name, entry.originalSize);
        return true;
      },
    });
  } catch (err) {
    if (err instanceof CheckpointError) throw err;
    throw new CheckpointError(file, `not a readable zip archive (${(err as Error).message})`);
  }
  const entriesByName = new Map<string, Uint8Array>();
  for (const [name, size] of expectedSizes) {
    const data = files[name];
    if (!data || data.length !== size) throw new CheckpointError(file, `zip entry ${name} is cut short (the file is truncated or damaged)`);
    entriesByName.set(name, data);
  }

  const pickles = [...entriesByName.keys()].filter((name) => name.endsWith('/data.pkl'));
  if (pickles.length !== 1) {
    const what = pickles.length ? 'the zip holds more than one data.pkl' : 'a zip without data.pkl is not a torch.save checkpoint';
    throw new CheckpointError(file, what);
  }
  const archive = pickles[0]!.slice(0, -'/data.pkl'.length);
  const byteorder = entriesByName.get(`${archive}/byteorder`);
  if (byteorder) {
    const order = new TextDecoder().decode(byteorder);
    if (order === 'big') throw new CheckpointError(file, 'it was written on a big-endian machine; only little-endian checkpoints are read');
    if (order !== 'little') throw new CheckpointError(file, `its byteorder record says ${JSON.stringify(order.slice(0, 20))}`);
  } // no record: written before torch 1.10 added it, when every writer was little-endian
  return {
    archive,
    pickle: entriesByName.get(pickles[0]!)!,
    storage: (key) => entriesByName.get(`${archive}/data/${key}`),
  };
}

/** Refuses names that would escape a folder if anyone extracted the archive: '..' parts or absolute paths. */
function checkEntryName(name: string, file: string): void {
  const parts = name.split(/[/\\]/);
  if (name === '' || name.includes('\0') || /^([/\\]|[A-Za-z]:)/.test(name) || parts.includes('..')) {
    throw new CheckpointError(
      file,
      `the zip has an entry named ${JSON.stringify(name.slice(0, 200))}, which no checkpoint has; refusing to load`,
    );
  }
}
