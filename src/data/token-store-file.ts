// A TokenStore on disk, so that a corpus is tokenized once: a directory written atomically with
//   tokens.i32    every token id, little-endian int32, documents end to end
//   offsets.f64   where each document starts, then the end (little-endian float64)
//   store.json    format, version, counts, each file's SHA-256 and size, and the caller's metadata (e.g. the
//                 vocabulary's SHA-256 and the tokenizer rules, to refuse a store built with others)
// Opening memory-maps tokens.i32 (nothing is read into memory up front) after checking sizes, offsets and,
// unless told not to, the checksums.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { replaceDirectoryAtomic, writeFileSynced } from '../io/atomic-dir.js';
import { native } from '../native/loader.js';
import { DataError } from './read-error.js';
import { MAPPED_VIEW_TOKENS, TokenStore } from './token-store.js';

export const TOKEN_STORE_FORMAT = 'ulmfit-token-store';
export const TOKEN_STORE_VERSION = 1;
const FILES = { tokens: 'tokens.i32', offsets: 'offsets.f64', meta: 'store.json' } as const;

const FileEntrySchema = z.object({ sha256: z.string().regex(/^[0-9a-f]{64}$/), bytes: z.number().int().nonnegative() });
const StoreFileSchema = z.object({
  format: z.literal(TOKEN_STORE_FORMAT),
  version: z.literal(TOKEN_STORE_VERSION),
  byteOrder: z.literal('little'),
  tokens: z.number().int().nonnegative(),
  documents: z.number().int().nonnegative(),
  files: z.object({ [FILES.tokens]: FileEntrySchema, [FILES.offsets]: FileEntrySchema }),
  meta: z.record(z.string(), z.unknown()),
});

/** Writes `store` to `dir` (replacing it atomically), with `meta` kept in store.json. */
export function saveTokenStore(store: TokenStore, dir: string, meta: Record<string, unknown> = {}): void {
  replaceDirectoryAtomic(
    dir,
    (staging) => {
      const bytesOf = (a: Int32Array | Float64Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
      const tokens = writeFileSynced(
        path.join(staging, FILES.tokens),
        (function* () {
          for (const chunk of store.chunks()) yield bytesOf(chunk);
        })(),
      );
      const offsets = writeFileSynced(path.join(staging, FILES.offsets), [bytesOf(store.documentOffsets())]);
      const head: z.infer<typeof StoreFileSchema> = {
        format: TOKEN_STORE_FORMAT,
        version: TOKEN_STORE_VERSION,
        byteOrder: 'little',
        tokens: store.tokenCount,
        documents: store.documentCount,
        files: { [FILES.tokens]: tokens, [FILES.offsets]: offsets },
        meta,
      };
      writeFileSynced(path.join(staging, FILES.meta), [JSON.stringify(head, null, 2) + '\n']);
    },
    Object.values(FILES),
  );
}

export interface OpenedTokenStore {
  store: TokenStore;
  meta: Record<string, unknown>;
}

/** Opens a saved store, memory-mapped; every inconsistency is a DataError naming the file. */
export function openTokenStore(dir: string, options: { verify?: boolean } = {}): OpenedTokenStore {
  const metaFile = path.join(dir, FILES.meta);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(metaFile, 'utf8'));
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'ENOENT'
        ? 'is missing: is this a saved token store?'
        : `cannot be read: ${(error as Error).message}`;
    throw new DataError(why, metaFile);
  }
  const parsed = StoreFileSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new DataError(
      `not a ${TOKEN_STORE_FORMAT} version ${TOKEN_STORE_VERSION} file (${issue.path.join('.') || 'value'}: ${issue.message})`,
      metaFile,
    );
  }
  const head = parsed.data;
  const check = (name: string, bytes: number): string => {
    const file = path.join(dir, name);
    const entry = head.files[name as keyof typeof head.files];
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      throw new DataError(`is missing (listed in ${FILES.meta})`, file);
    }
    if (size !== bytes || size !== entry.bytes) {
      throw new DataError(
        `holds ${size} bytes; ${FILES.meta} says ${entry.bytes} (${bytes} for its counts): truncated or not this store's`,
        file,
      );
    }
    if (options.verify !== false && sha256File(file) !== entry.sha256)
      throw new DataError(`does not match its checksum in ${FILES.meta}: the file is corrupt`, file);
    return file;
  };
  const tokensFile = check(FILES.tokens, head.tokens * 4);
  const offsetsFile = check(FILES.offsets, (head.documents + 1) * 8);

  const buffer = fs.readFileSync(offsetsFile);
  const offsets = new Float64Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength));
  for (let i = 0; i < offsets.length; i++) {
    const ok = i === 0 ? offsets[0] === 0 : offsets[i]! >= offsets[i - 1]! && Number.isInteger(offsets[i]);
    if (!ok) throw new DataError(`document offsets are not increasing from 0 (entry ${i})`, offsetsFile);
  }
  if (offsets[offsets.length - 1] !== head.tokens)
    throw new DataError(`the offsets end at ${offsets[offsets.length - 1]}, not at ${head.tokens} tokens`, offsetsFile);

  const views: Int32Array[] = [];
  if (head.tokens > 0) {
    const mapped = native().mapFile(tokensFile);
    for (let at = 0; at < head.tokens; at += MAPPED_VIEW_TOKENS) {
      views.push(new Int32Array(mapped.view(at * 4, Math.min(MAPPED_VIEW_TOKENS, head.tokens - at) * 4)));
    }
  }
  return { store: TokenStore.fromParts(views, MAPPED_VIEW_TOKENS, offsets, 'mapped'), meta: head.meta };
}

function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const chunk = Buffer.allocUnsafe(1 << 22);
    for (let n = fs.readSync(fd, chunk); n > 0; n = fs.readSync(fd, chunk)) hash.update(chunk.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
