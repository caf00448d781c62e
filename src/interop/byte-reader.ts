// A cursor over untrusted bytes: every read checks that the bytes are there first, so a length field in a
// hostile file can make a read fail (with the file, the part and the offset) but never run past the data or
// size an allocation.
import { CheckpointError } from './checkpoint-error.js';

export class ByteReader {
  private readonly view: DataView;
  pos: number;

  /** `part` says which piece of `file` these bytes are (e.g. "archive/data.pkl"), for messages. */
  constructor(
    readonly bytes: Uint8Array,
    readonly file: string,
    readonly part: string,
    start = 0,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  fail(message: string, at = this.pos): never {
    throw new CheckpointError(this.file, `${this.part} byte ${at}: ${message}`);
  }

  /** Fails unless `count` more bytes are there; `count` may be a bigint read from the file. */
  need(count: number | bigint, what: string): number {
    if (typeof count === 'bigint' ? count > BigInt(this.remaining) : count > this.remaining) {
      this.fail(`${what} needs ${count} bytes, past the end of the data (${this.bytes.length} bytes)`);
    }
    return Number(count);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.view.getUint8(this.pos++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.view.getUint16(this.pos, true);
    this.pos += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return v;
  }

  i32(what: string): number {
    this.need(4, what);
    const v = this.view.getInt32(this.pos, true);
    this.pos += 4;
    return v;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const v = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return v;
  }

  /** Pickle's BINFLOAT is the one big-endian field. */
  f64be(what: string): number {
    this.need(8, what);
    const v = this.view.getFloat64(this.pos, false);
    this.pos += 8;
    return v;
  }

  take(count: number | bigint, what: string): Uint8Array {
    const n = this.need(count, what);
    const out = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}
