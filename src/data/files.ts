// Raw bytes from a file, counted in the read summary as they are read.
import fs from 'node:fs';

import { stripBom, withoutBom } from './decode.js';
import { DataError } from './read-error.js';
import type { ReadSummary } from './read-summary.js';

export const CHUNK_BYTES = 256 * 1024;

/** The file's bytes as a stream of chunks, its byte order mark dropped. */
export function fileChunks(file: string, summary: ReadSummary): AsyncGenerator<Buffer> {
  return withoutBom(counted(file, summary));
}

// Text never holds a NUL byte; binary files (and UTF-16 text) do, near their start.
const SNIFF_BYTES = 8192;

function refuseBinary(bytes: Buffer, file: string): void {
  const at = bytes.subarray(0, SNIFF_BYTES).indexOf(0);
  if (at >= 0)
    throw new DataError(`not a text file: a NUL byte at offset ${at} (a binary file, or UTF-16 text: convert it to UTF-8)`, file);
}

async function* counted(file: string, summary: ReadSummary): AsyncGenerator<Buffer> {
  summary.files++;
  let first = true;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
    if (first) refuseBinary(chunk as Buffer, file);
    first = false;
    summary.bytesRead += (chunk as Buffer).length;
    yield chunk as Buffer;
  }
}

/** The whole file (one document), its byte order mark dropped; larger than `maxBytes` is an error. */
export async function readWholeFile(file: string, maxBytes: number, summary: ReadSummary): Promise<Buffer> {
  const handle = await fs.promises.open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new DataError(`file is larger than maxRecordBytes (${size} > ${maxBytes} bytes)`, file);
    summary.files++;
    const bytes = await handle.readFile();
    refuseBinary(bytes, file);
    summary.bytesRead += bytes.length;
    return stripBom(bytes);
  } finally {
    await handle.close();
  }
}
