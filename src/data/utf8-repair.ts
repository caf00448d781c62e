// Streaming UTF-8 repair for parsers that decode on their own (csv-parse): each invalid sequence becomes the
// bytes of U+FFFD, as a WHATWG decoder would replace it, and its position in the output is reported, so the
// replacements can be charged to the record they fall in. A sequence split across chunks waits for the rest.
import { isUtf8 } from 'node:buffer';

const REPLACEMENT = Buffer.from([0xef, 0xbf, 0xbd]);

export interface Repaired {
  /** Valid UTF-8. */
  bytes: Buffer;
  /** Offsets, within `bytes`, of the replacement characters inserted. */
  replacements: number[];
}

export class Utf8Repair {
  private held = Buffer.alloc(0); // the start of a sequence cut off at the end of the last chunk

  push(chunk: Buffer): Repaired {
    const input = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    const keep = incompleteTail(input);
    this.held = Buffer.from(input.subarray(input.length - keep));
    return repair(input.subarray(0, input.length - keep));
  }

  /** At the end of input, a sequence still cut off is invalid. */
  end(): Repaired {
    const rest = repair(this.held);
    this.held = Buffer.alloc(0);
    return rest;
  }
}

/** Bytes and replacement offsets of `input` read to its end. */
function repair(input: Buffer): Repaired {
  if (isUtf8(input)) return { bytes: input, replacements: [] };
  const pieces: Buffer[] = [];
  const replacements: number[] = [];
  let out = 0;
  let run = 0; // start of the current run of valid bytes
  for (let i = 0; i < input.length;) {
    if (input[i]! < 0x80) {
      i++;
      continue;
    }
    const length = sequenceAt(input, i);
    if (length > 0) {
      i += length;
      continue;
    }
    pieces.push(input.subarray(run, i));
    out += i - run;
    replacements.push(out);
    pieces.push(REPLACEMENT);
    out += REPLACEMENT.length;
    i += length === 0 ? input.length - i : -length;
    run = i;
  }
  pieces.push(input.subarray(run));
  return { bytes: Buffer.concat(pieces), replacements };
}

/**
 * The sequence starting at a non-ASCII byte: its length when valid; minus the length of its maximal invalid
 * subpart (the bytes one U+FFFD replaces) when not; 0 when it is a valid start cut off by the end of `input`.
 */
function sequenceAt(input: Uint8Array, i: number): number {
  const lead = input[i]!;
  let need: number;
  let low = 0x80;
  let high = 0xbf;
  if (lead >= 0xc2 && lead <= 0xdf) need = 1;
  else if (lead >= 0xe0 && lead <= 0xef) {
    need = 2;
    if (lead === 0xe0) low = 0xa0; // no overlong forms
    if (lead === 0xed) high = 0x9f; // no surrogates
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    need = 3;
    if (lead === 0xf0) low = 0x90;
    if (lead === 0xf4) high = 0x8f; // nothing above U+10FFFF
  } else return -1;
  for (let k = 1; k <= need; k++) {
    const next = input[i + k];
    if (next === undefined) return 0;
    if (next < low || next > high) return -k;
    low = 0x80;
    high = 0xbf;
  }
  return need + 1;
}

/** How many bytes at the end of `input` are a valid sequence start still waiting for its remaining bytes. */
function incompleteTail(input: Buffer): number {
  for (let k = 1; k <= 3 && k <= input.length; k++) {
    const byte = input[input.length - k]!;
    if (byte >= 0x80 && byte <= 0xbf) continue; // a continuation: look further back for its lead
    return byte >= 0xc2 && sequenceAt(input, input.length - k) === 0 ? k : 0;
  }
  return 0;
}
