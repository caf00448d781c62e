// A seeded mutation fuzzer for the readers: each case takes a fixture, mutates it (bit flips, byte
// overwrites, truncation, splicing in bytes of another fixture, deleting or repeating a range), reads it,
// and passes when the reader returns or throws CheckpointError. Anything else escaping (a RangeError, a
// TypeError) is a failure, and so is a case slower than the time limit. The same seed gives the same cases.
import { CheckpointError } from '../../src/index.js';

export interface FuzzTarget {
  name: string;
  bytes: Uint8Array;
  /** Reads the mutated bytes (after `wrap`, if given). */
  read(bytes: Uint8Array): unknown;
  /** Puts the mutated bytes back into a container (a pickle into a fresh zip, so the zip stays valid). */
  wrap?(mutated: Uint8Array): Uint8Array;
}

export interface FuzzFailure {
  index: number;
  target: string;
  mutations: string[];
  error: string;
}

export interface FuzzResult {
  seed: number;
  cases: number;
  read: number;
  refused: number;
  failures: FuzzFailure[];
  seconds: number;
  slowestMs: number;
}

/** xorshift32 (Marsaglia): small, fast, and the same sequence everywhere for a seed. */
export function prng(seed: number): () => number {
  let state = seed >>> 0 || 0x9e3779b9;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x2e, 0x28, 0x71, 0x58];

type Mutation = (bytes: Uint8Array, random: () => number, donors: Uint8Array[]) => [Uint8Array, string];

const int = (random: () => number, below: number) => Math.floor(random() * below);

const MUTATIONS: Mutation[] = [
  (b, r) => {
    const out = b.slice();
    const flips = 1 + int(r, 8);
    for (let i = 0; i < flips && out.length; i++) out[int(r, out.length)]! ^= 1 << int(r, 8);
    return [out, `flip ${flips} bits`];
  },
  (b, r) => {
    const out = b.slice();
    const count = 1 + int(r, 8);
    for (let i = 0; i < count && out.length; i++)
      out[int(r, out.length)] = r() < 0.5 ? INTERESTING[int(r, INTERESTING.length)]! : int(r, 256);
    return [out, `overwrite ${count} bytes`];
  },
  (b, r) => {
    const length = int(r, b.length);
    return [b.slice(0, length), `truncate to ${length}`];
  },
  (b, r, donors) => {
    const donor = donors[int(r, donors.length)]!;
    const from = int(r, donor.length);
    const chunk = donor.subarray(from, from + 1 + int(r, 64));
    const at = int(r, b.length + 1);
    const out = new Uint8Array(b.length + chunk.length);
    out.set(b.subarray(0, at));
    out.set(chunk, at);
    out.set(b.subarray(at), at + chunk.length);
    return [out, `splice ${chunk.length} donor bytes at ${at}`];
  },
  (b, r) => {
    const at = int(r, b.length);
    const length = Math.min(1 + int(r, 32), b.length - at);
    const out = new Uint8Array(b.length - length);
    out.set(b.subarray(0, at));
    out.set(b.subarray(at + length), at);
    return [out, `delete ${length} bytes at ${at}`];
  },
  (b, r) => {
    const at = int(r, b.length);
    const chunk = b.subarray(at, at + 1 + int(r, 32));
    const out = new Uint8Array(b.length + chunk.length);
    out.set(b.subarray(0, at + chunk.length));
    out.set(b.subarray(at), at + chunk.length);
    return [out, `repeat ${chunk.length} bytes at ${at}`];
  },
];

/** Runs `cases` mutated reads over `targets` in turn, from `seed`. */
export function fuzzReaders(
  targets: FuzzTarget[],
  { seed, cases, caseTimeLimitMs = 2000 }: { seed: number; cases: number; caseTimeLimitMs?: number },
): FuzzResult {
  const random = prng(seed);
  const donors = targets.map((t) => t.bytes);
  const result: FuzzResult = { seed, cases: 0, read: 0, refused: 0, failures: [], seconds: 0, slowestMs: 0 };
  const started = performance.now();
  for (let index = 0; index < cases; index++) {
    const target = targets[index % targets.length]!;
    let bytes = target.bytes;
    const mutations: string[] = [];
    for (let m = random() < 0.7 ? 1 : 2 + int(random, 2); m > 0; m--) {
      // mostly one mutation: more cases get deep
      const [mutated, what] = MUTATIONS[int(random, MUTATIONS.length)]!(bytes, random, donors);
      bytes = mutated;
      mutations.push(what);
    }
    const fail = (error: string) => result.failures.push({ index, target: target.name, mutations, error });
    const input = target.wrap ? target.wrap(bytes) : bytes;
    const t0 = performance.now();
    try {
      target.read(input);
      result.read++;
    } catch (err) {
      if (err instanceof CheckpointError) result.refused++;
      else fail(`${(err as Error)?.name}: ${(err as Error)?.message}\n${(err as Error)?.stack?.split('\n').slice(1, 4).join('\n')}`);
    }
    const ms = performance.now() - t0;
    result.slowestMs = Math.max(result.slowestMs, ms);
    if (ms > caseTimeLimitMs) fail(`took ${ms.toFixed(0)} ms (limit ${caseTimeLimitMs} ms)`);
    result.cases++;
  }
  result.seconds = (performance.now() - started) / 1000;
  return result;
}
