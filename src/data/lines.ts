// Lines as raw bytes, split on 0x0A, so each line is decoded (and its invalid UTF-8 counted) on its own.
// Memory stays bounded for any file size: at most one line plus one chunk is held.
import { DataError } from './read-error.js';

export interface RawLine {
  /** The line's bytes without its terminator (LF or CRLF). */
  bytes: Buffer;
  /** 1-based. */
  line: number;
}

export async function* splitLines(chunks: AsyncIterable<Buffer>, maxLineBytes: number, file: string): AsyncGenerator<RawLine> {
  let pending: Buffer[] = []; // the start of a line that runs past the chunk it began in
  let pendingBytes = 0;
  let line = 1;
  const tooLong = () => new DataError(`line is longer than maxRecordBytes (${maxLineBytes} bytes)`, file, line);
  for await (const chunk of chunks) {
    let start = 0;
    for (let end = chunk.indexOf(0x0a, start); end !== -1; end = chunk.indexOf(0x0a, start)) {
      let bytes = chunk.subarray(start, end);
      if (pending.length > 0) {
        bytes = Buffer.concat([...pending, bytes]);
        pending = [];
        pendingBytes = 0;
      }
      bytes = withoutCr(bytes);
      if (bytes.length > maxLineBytes) throw tooLong();
      yield { bytes, line };
      line++;
      start = end + 1;
    }
    if (start < chunk.length) {
      pending.push(chunk.subarray(start));
      pendingBytes += chunk.length - start;
      // A CR may still be stripped, so allow one byte over before giving up.
      if (pendingBytes > maxLineBytes + 1) throw tooLong();
    }
  }
  if (pendingBytes > 0) {
    const bytes = withoutCr(Buffer.concat(pending));
    if (bytes.length > maxLineBytes) throw tooLong();
    yield { bytes, line };
  }
}

function withoutCr(bytes: Buffer): Buffer {
  return bytes.length > 0 && bytes[bytes.length - 1] === 0x0d ? bytes.subarray(0, bytes.length - 1) : bytes;
}
