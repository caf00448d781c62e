// A bounded cache from text chunks to their tokens, looked up by a region of the document (start, end and
// a hash the caller computes while scanning), so a hit cuts no substring and hashes no string twice.
// Two generations keep it bounded: when the young table is full it becomes the old one, and what the old
// one answers is copied back into the young one.

/** FNV-1a over UTF-16 code units: start with HASH_SEED, then h = hashStep(h, code) per unit. */
export const HASH_SEED = 0x811c9dc5 | 0;
export const hashStep = (h: number, code: number): number => Math.imul(h ^ code, 0x01000193);

export function hashOf(s: string): number {
  let h = HASH_SEED;
  for (let i = 0; i < s.length; i++) h = hashStep(h, s.charCodeAt(i));
  return h;
}

// One array of [hash, key, value] triples: a probe reads one cache line, not three. Hashes are kept to 30
// bits so they stay small integers in the array.
class Table<V> {
  readonly slots: (number | string | V | undefined)[];
  readonly mask: number;
  size = 0;

  constructor(capacity: number) {
    let slots = 16;
    while (slots < capacity * 2) slots *= 2; // at most half full: probes stay short
    this.slots = new Array<number | string | V | undefined>(slots * 3).fill(undefined);
    this.mask = slots - 1;
  }

  /** The index (of the hash) of the triple holding the region, or of the empty one where it would go. */
  find(text: string, start: number, end: number, hash: number): number {
    const slots = this.slots;
    const len = end - start;
    let i = Math.imul(hash ^ (hash >>> 15), 0x45d9f3b) & this.mask;
    for (;;) {
      const at = i * 3;
      const h = slots[at];
      if (h === undefined) return at;
      if (h === hash) {
        const key = slots[at + 1] as string;
        if (key.length === len && sameRegion(key, text, start)) return at;
      }
      i = (i + 1) & this.mask;
    }
  }
}

function sameRegion(key: string, text: string, start: number): boolean {
  for (let k = 0; k < key.length; k++) if (key.charCodeAt(k) !== text.charCodeAt(start + k)) return false;
  return true;
}

export class ChunkCache<V> {
  private young: Table<V>;
  private old: Table<V> | null = null;

  constructor(private readonly capacity: number) {
    this.young = new Table(capacity);
  }

  /** The value cached for text[start, end), whose hash (from hashStep) is `hash`. */
  get(text: string, start: number, end: number, hash: number): V | undefined {
    const h = hash & 0x3fffffff;
    const young = this.young;
    const at = young.find(text, start, end, h);
    if (young.slots[at] !== undefined) return young.slots[at + 2] as V;
    const old = this.old;
    if (!old) return undefined;
    const j = old.find(text, start, end, h);
    if (old.slots[j] === undefined) return undefined;
    const value = old.slots[j + 2] as V;
    this.set(old.slots[j + 1] as string, hash, value);
    return value;
  }

  /** Caches `value` for `key` (not already cached), whose hash is `hash`. */
  set(key: string, hash: number, value: V): void {
    const h = hash & 0x3fffffff;
    let young = this.young;
    if (young.size >= this.capacity) {
      this.old = young;
      young = this.young = new Table(this.capacity);
    }
    const at = young.find(key, 0, key.length, h);
    young.slots[at] = h;
    young.slots[at + 1] = key;
    young.slots[at + 2] = value;
    young.size++;
  }
}
