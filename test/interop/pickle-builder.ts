// Hand-assembled pickles and checkpoints for the hostile-file tests: every byte is spelled out here, so a
// test can put exactly the lie it means (a huge length, a forbidden global, a view past its storage).
import { zipSync } from 'fflate';

export class PickleBuilder {
  private readonly out: number[] = [];

  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }
  private u32(n: number): this {
    return this.raw(n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff);
  }
  proto(version = 2): this {
    return this.raw(0x80, version);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.raw(0x58)
      .u32(b.length)
      .raw(...b);
  }
  int(n: number): this {
    if (n >= 0 && n < 256) return this.raw(0x4b, n);
    return n >= 0 && n < 2 ** 31 ? this.raw(0x4a).u32(n) : this.long(BigInt(n));
  }
  /** LONG1 of a non-negative bigint. */
  long(n: bigint): this {
    const bytes: number[] = [];
    for (let v = n; v > 0n; v >>= 8n) bytes.push(Number(v & 0xffn));
    if (bytes.length && bytes[bytes.length - 1]! & 0x80) bytes.push(0);
    return this.raw(0x8a, bytes.length, ...bytes);
  }
  global(module: string, name: string): this {
    return this.raw(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  mark = () => this.raw(0x28);
  tuple = () => this.raw(0x74);
  tuple1 = () => this.raw(0x85);
  emptyTuple = () => this.raw(0x29);
  emptyDict = () => this.raw(0x7d);
  emptyList = () => this.raw(0x5d);
  setitems = () => this.raw(0x75);
  append = () => this.raw(0x61);
  reduce = () => this.raw(0x52);
  persid = () => this.raw(0x51);
  none = () => this.raw(0x4e);
  false = () => this.raw(0x89);
  true = () => this.raw(0x88);
  stop = () => this.raw(0x2e);

  /** (tuple of sizes) */
  ints(values: number[]): this {
    this.mark();
    for (const v of values) this.int(v);
    return this.tuple();
  }

  /** A _rebuild_tensor_v2 call on the storage record ('storage', torch.<cls>, key, 'cpu', numel). */
  tensor(cls: string, key: string, numel: number, offset: number, shape: number[], stride: number[]): this {
    this.global('torch._utils', '_rebuild_tensor_v2').mark();
    this.mark().str('storage').global('torch', cls).str(key).str('cpu').int(numel).tuple().persid();
    this.int(offset).ints(shape).ints(stride).false().global('collections', 'OrderedDict').emptyTuple().reduce();
    return this.tuple().reduce();
  }

  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

/** { name: tensor } as a protocol-2 pickle, tensors given as PickleBuilder.tensor arguments. */
export function stateDictPickle(entries: [string, (p: PickleBuilder) => PickleBuilder][]): Uint8Array {
  const p = new PickleBuilder().proto(2).emptyDict().mark();
  for (const [name, value] of entries) value(p.str(name));
  return p.setitems().stop().bytes();
}

/** A zip-format checkpoint: <archive>/data.pkl, byteorder, and data/<key> per storage; stored, like torch. */
export function zipCheckpoint(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array>,
  extra: Record<string, Uint8Array> = {},
  byteorder = 'little',
): Uint8Array {
  const files: Record<string, Uint8Array> = { 'archive/data.pkl': pickle, 'archive/byteorder': new TextEncoder().encode(byteorder) };
  for (const [key, data] of Object.entries(storages)) files[`archive/data/${key}`] = data;
  return zipSync({ ...files, ...extra }, { level: 0 });
}

const MAGIC = 0x1950a86a20f9469cfc6cn;

/** A legacy-format checkpoint: the header pickles, `object`, the keys, then each storage (count, bytes). */
export function legacyCheckpoint(object: Uint8Array, storages: { key: string; count: bigint; data: Uint8Array }[]): Uint8Array {
  const header = [
    new PickleBuilder().proto(2).long(MAGIC).stop().bytes(),
    new PickleBuilder()
      .proto(2)
      .raw(0x4d, 1001 & 0xff, 1001 >> 8)
      .stop()
      .bytes(),
    new PickleBuilder()
      .proto(2)
      .emptyDict()
      .mark()
      .str('protocol_version')
      .raw(0x4d, 1001 & 0xff, 1001 >> 8)
      .str('little_endian')
      .true()
      .setitems()
      .stop()
      .bytes(),
  ];
  const keys = new PickleBuilder().proto(2).emptyList().mark();
  for (const s of storages) keys.str(s.key);
  const parts = [...header, object, keys.raw(0x65).stop().bytes()];
  for (const s of storages) {
    const count = new Uint8Array(8);
    new DataView(count.buffer).setBigUint64(0, s.count, true);
    parts.push(count, s.data);
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export const floats = (...values: number[]) => new Uint8Array(Float32Array.from(values).buffer);
