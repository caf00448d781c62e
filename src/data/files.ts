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

async function* counted(file: string, summary: ReadSummary): AsyncGenerator<Buffer> {
  summary.files++;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
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
    summary.bytesRead += bytes.length;
    return stripBom(bytes);
  } finally {
    await handle.close();
  }
}
