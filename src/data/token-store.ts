// A numericalized corpus: every document's token ids, end to end, as int32, plus where each document starts.
// In memory it is a list of fixed-size blocks (growing never copies what is already there); past a limit it
// spills to a file that is then memory-mapped (Node has no mmap: the addon provides it) and read through
// views of at most 2^28 tokens each, because one typed array stops at 2^32 bytes. Positions are doubles:
// exact far beyond any corpus.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { native } from '../native/loader.js';

/** Tokens per in-memory block (64 MiB). */
export const BLOCK_TOKENS = 1 << 24;
/** Tokens per view of a mapped file (1 GiB: under a typed array's 2^32-byte limit). */
export const MAPPED_VIEW_TOKENS = 1 << 28;
/** Default in-memory limit before a store spills to a mapped file: 2^28 tokens (1 GiB). */
export const DEFAULT_MEMORY_TOKENS = 1 << 28;

export class TokenStore {
  private constructor(
    private readonly blocks: Int32Array[],
    private readonly blockTokens: number,
    private readonly offsets: Float64Array,
    /** 'memory', or 'mapped' when the tokens live in a memory-mapped file. */
    readonly backing: 'memory' | 'mapped',
  ) {}

  /** A store of the given documents, in memory (for small corpora and tests). */
  static fromDocuments(docs: readonly ArrayLike<number>[]): TokenStore {
    const writer = new TokenStoreWriter();
    for (const d of docs) writer.append(d);
    return writer.finish();
  }

  /** @internal */
  static fromParts(blocks: Int32Array[], blockTokens: number, offsets: Float64Array, backing: 'memory' | 'mapped'): TokenStore {
    return new TokenStore(blocks, blockTokens, offsets, backing);
  }

  get documentCount(): number {
    return this.offsets.length - 1;
  }

  get tokenCount(): number {
    return this.offsets[this.offsets.length - 1]!;
  }

  documentStart(i: number): number {
    return this.offsets[i]!;
  }

  documentLength(i: number): number {
    return this.offsets[i + 1]! - this.offsets[i]!;
  }

  /** Every document's length, in document order. */
  lengths(): Int32Array {
    const n = this.documentCount;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.offsets[i + 1]! - this.offsets[i]!;
    return out;
  }

  /** Copies stored tokens [start, start + count) into out[outOffset...]. */
  copy(start: number, count: number, out: Int32Array, outOffset = 0): void {
    if (start < 0 || count < 0 || start + count > this.tokenCount) {
      throw new RangeError(`TokenStore.copy: [${start}, ${start + count}) is outside the ${this.tokenCount} stored tokens`);
    }
    while (count > 0) {
      const b = Math.floor(start / this.blockTokens);
      const at = start - b * this.blockTokens;
      const take = Math.min(count, this.blockTokens - at);
      out.set(this.blocks[b]!.subarray(at, at + take), outOffset);
      start += take;
      outOffset += take;
      count -= take;
    }
  }

  /** Copies stored tokens [start, start + count) into out[outOffset...] last first. */
  copyReversed(start: number, count: number, out: Int32Array, outOffset = 0): void {
    let end = start + count;
    if (start < 0 || count < 0 || end > this.tokenCount) {
      throw new RangeError(`TokenStore.copyReversed: [${start}, ${end}) is outside the ${this.tokenCount} stored tokens`);
    }
    while (end > start) {
      const b = Math.floor((end - 1) / this.blockTokens);
      const blockStart = b * this.blockTokens;
      const from = Math.max(start, blockStart);
      const block = this.blocks[b]!;
      for (let p = end - 1 - blockStart; p >= from - blockStart; p--) out[outOffset++] = block[p]!;
      end = from;
    }
  }

  /** The stored tokens, in order, as views of the blocks (for writing them out). */
  *chunks(): Generator<Int32Array> {
    let left = this.tokenCount;
    for (const block of this.blocks) {
      if (left <= 0) break;
      const view = block.subarray(0, Math.min(block.length, left));
      left -= view.length;
      yield view;
    }
  }

  /** Where each document starts, and the end (documentCount + 1 entries). Read-only by contract. */
  documentOffsets(): Float64Array {
    return this.offsets;
  }

  /** A copy of document i's tokens (reversed for a backward model). */
  document(i: number, direction: 'forward' | 'backward' = 'forward'): Int32Array {
    if (!Number.isInteger(i) || i < 0 || i >= this.documentCount) {
      throw new RangeError(`TokenStore.document: no document ${i} (the store has ${this.documentCount})`);
    }
    const out = new Int32Array(this.documentLength(i));
    if (direction === 'backward') this.copyReversed(this.offsets[i]!, out.length, out);
    else this.copy(this.offsets[i]!, out.length, out);
    return out;
  }
}

export interface TokenStoreWriterOptions {
  /** Tokens kept in memory before the store spills to a memory-mapped file. */
  memoryTokens?: number;
  /** Where a spilled store's file goes (deleted once mapped: nothing is left behind). Default: os.tmpdir(). */
  spillDir?: string;
}

/** Builds a TokenStore one document (or one batch of documents) at a time. */
export class TokenStoreWriter {
  private readonly memoryTokens: number;
  private readonly spillDir: string;
  private blocks: Int32Array[] = [];
  private filled = 0; // tokens in the last block
  private total = 0;
  private offsets = new Float64Array(1024);
  private docs = 0;
  private spill: { path: string; fd: number; buffer: Int32Array; used: number; written: number } | null = null;
  private finished = false;

  constructor(options: TokenStoreWriterOptions = {}) {
    this.memoryTokens = options.memoryTokens ?? DEFAULT_MEMORY_TOKENS;
    this.spillDir = options.spillDir ?? os.tmpdir();
  }

  get tokenCount(): number {
    return this.total;
  }

  get documentCount(): number {
    return this.docs;
  }

  get spilled(): boolean {
    return this.spill !== null;
  }

  /** Appends one document. */
  append(tokens: ArrayLike<number>): void {
    this.write(tokens instanceof Int32Array ? tokens : Int32Array.from(tokens));
    this.endDocument();
  }

  /** Appends documents given end to end in `ids`, with their lengths. */
  appendMany(ids: Int32Array, lengths: ArrayLike<number>): void {
    let at = 0;
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i]!;
      this.write(ids.subarray(at, at + n));
      at += n;
      this.endDocument();
    }
    if (at !== ids.length) throw new RangeError(`appendMany: the lengths sum to ${at}, the ids hold ${ids.length}`);
  }

  /** Replaces every stored id x by table[x] (provisional ids -> vocabulary ids), before finish(). */
  remap(table: Int32Array): void {
    this.assertOpen();
    const apply = (a: Int32Array): void => {
      for (let i = 0; i < a.length; i++) a[i] = table[a[i]!]!;
    };
    if (!this.spill) {
      for (let b = 0; b < this.blocks.length; b++)
        apply(this.blocks[b]!.subarray(0, b === this.blocks.length - 1 ? this.filled : BLOCK_TOKENS));
      return;
    }
    this.flush();
    const chunk = new Int32Array(1 << 22);
    const bytes = new Uint8Array(chunk.buffer);
    for (let pos = 0; pos < this.total * 4;) {
      const n = fs.readSync(this.spill.fd, bytes, 0, Math.min(bytes.length, this.total * 4 - pos), pos);
      if (n <= 0 || n % 4 !== 0) throw new Error(`remap: short read from ${this.spill.path} at byte ${pos}`);
      apply(chunk.subarray(0, n / 4));
      fs.writeSync(this.spill.fd, bytes, 0, n, pos);
      pos += n;
    }
  }

  finish(): TokenStore {
    this.assertOpen();
    this.finished = true;
    const offsets = this.offsets.slice(0, this.docs + 1);
    if (!this.spill) {
      // Trim the last block, so that a small store does not hold a whole 64 MiB block.
      if (this.blocks.length) this.blocks[this.blocks.length - 1] = this.blocks[this.blocks.length - 1]!.slice(0, this.filled);
      return TokenStore.fromParts(this.blocks, BLOCK_TOKENS, offsets, 'memory');
    }
    this.flush();
    const { path: file, fd } = this.spill;
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    try {
      const mapped = native().mapFile(file);
      const views: Int32Array[] = [];
      for (let at = 0; at < this.total; at += MAPPED_VIEW_TOKENS) {
        const n = Math.min(MAPPED_VIEW_TOKENS, this.total - at);
        views.push(new Int32Array(mapped.view(at * 4, n * 4)));
      }
      return TokenStore.fromParts(views, MAPPED_VIEW_TOKENS, offsets, 'mapped');
    } finally {
      fs.rmSync(file, { force: true }); // the mapping keeps the data; the file needs no cleanup later
    }
  }

  /** Gives up a store being written (deletes its spill file). */
  abort(): void {
    this.finished = true;
    this.blocks = [];
    if (this.spill) {
      fs.closeSync(this.spill.fd);
      fs.rmSync(this.spill.path, { force: true });
      this.spill = null;
    }
  }

  private assertOpen(): void {
    if (this.finished) throw new Error('TokenStoreWriter: already finished');
  }

  private endDocument(): void {
    this.docs++;
    if (this.docs + 1 > this.offsets.length) {
      const grown = new Float64Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.offsets[this.docs] = this.total;
  }

  private write(tokens: Int32Array): void {
    this.assertOpen();
    if (!this.spill && this.total + tokens.length > this.memoryTokens) this.startSpill();
    this.total += tokens.length;
    if (this.spill) {
      let at = 0;
      while (at < tokens.length) {
        const take = Math.min(tokens.length - at, this.spill.buffer.length - this.spill.used);
        this.spill.buffer.set(tokens.subarray(at, at + take), this.spill.used);
        this.spill.used += take;
        at += take;
        if (this.spill.used === this.spill.buffer.length) this.flush();
      }
      return;
    }
    let at = 0;
    while (at < tokens.length) {
      if (!this.blocks.length || this.filled === BLOCK_TOKENS) {
        this.blocks.push(new Int32Array(BLOCK_TOKENS));
        this.filled = 0;
      }
      const take = Math.min(tokens.length - at, BLOCK_TOKENS - this.filled);
      this.blocks[this.blocks.length - 1]!.set(tokens.subarray(at, at + take), this.filled);
      this.filled += take;
      at += take;
    }
  }

  // Moves what is in memory to a new file; later writes go through a 4 MiB buffer.
  private startSpill(): void {
    fs.mkdirSync(this.spillDir, { recursive: true });
    const file = path.join(this.spillDir, `ulmfit-tokens-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.i32`);
    const fd = fs.openSync(file, 'wx+', 0o600);
    this.spill = { path: file, fd, buffer: new Int32Array(1 << 20), used: 0, written: 0 };
    let pos = 0;
    for (let b = 0; b < this.blocks.length; b++) {
      const n = b === this.blocks.length - 1 ? this.filled : BLOCK_TOKENS;
      const bytes = new Uint8Array(this.blocks[b]!.buffer, 0, n * 4);
      for (let off = 0; off < bytes.length;) off += fs.writeSync(fd, bytes, off, bytes.length - off, pos + off);
      pos += n * 4;
    }
    this.spill.written = pos / 4;
    this.blocks = [];
    this.filled = 0;
  }

  private flush(): void {
    const spill = this.spill!;
    if (!spill.used) return;
    const bytes = new Uint8Array(spill.buffer.buffer, 0, spill.used * 4);
    const pos = spill.written * 4;
    for (let off = 0; off < bytes.length;) off += fs.writeSync(spill.fd, bytes, off, bytes.length - off, pos + off);
    spill.written += spill.used;
    spill.used = 0;
  }
}
