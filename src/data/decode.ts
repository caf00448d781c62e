// UTF-8 decoding that repairs and counts: invalid sequences become U+FFFD (WHATWG rules, one per maximal
// invalid subpart) and the number replaced is reported, so bad bytes are visible in the read summary.
import { isUtf8 } from 'node:buffer';

export interface Decoded {
  text: string;
  /** Invalid UTF-8 sequences replaced by U+FFFD. */
  invalidSequences: number;
}

const REPLACEMENT = '\uFFFD';
// U+FFFD encoded: EF is never a continuation byte, so these three bytes always decode to one genuine U+FFFD.
const ENCODED_REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);

export function decodeUtf8(bytes: Uint8Array): Decoded {
  const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buffer.toString('utf8');
  if (isUtf8(buffer)) return { text, invalidSequences: 0 };
  // Replacements made = U+FFFD in the output minus those the input spelled out itself.
  return { text, invalidSequences: countOf(text, REPLACEMENT) - countBytes(buffer, ENCODED_REPLACEMENT) };
}

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

function countBytes(buffer: Buffer, needle: Buffer): number {
  let n = 0;
  for (let i = buffer.indexOf(needle); i !== -1; i = buffer.indexOf(needle, i + needle.length)) n++;
  return n;
}

const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** The bytes without a leading UTF-8 byte order mark. */
export function stripBom(bytes: Buffer): Buffer {
  return bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? bytes.subarray(3) : bytes;
}

/** A file's chunks without the byte order mark at its start (a mark later on is text, U+FEFF, and stays). */
export async function* withoutBom(chunks: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let head: Buffer | null = Buffer.alloc(0); // the first bytes, until there are enough to tell
  for await (const chunk of chunks) {
    if (head === null) {
      yield chunk;
      continue;
    }
    head = Buffer.concat([head, chunk]);
    if (head.length < BOM.length && BOM.subarray(0, head.length).equals(head)) continue;
    const rest = stripBom(head);
    head = null;
    if (rest.length > 0) yield rest;
  }
  if (head !== null && head.length > 0) yield head; // shorter than a mark: a short file's only bytes
}
