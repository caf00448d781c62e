// A pickle *interpreter*, not Python's unpickler: it runs only the opcodes that torch.save checkpoints and
// pickled lists of strings use, builds plain JS values, and never calls anything a file names. A global is
// whatever the caller's `global` hook returns for its name (our own JS stand-in, or a refusal); REDUCE can
// only call those stand-ins. Every length is checked against the bytes left before it is used, the stack is
// an explicit array (no recursion for a hostile file to exhaust), and each opcode consumes at least one byte
// and does work proportional to the items it pops, so a run is linear in the pickle's length.
//
// Values: None -> null, bool -> boolean, int -> number (bigint past 2^53), float -> number, str -> string,
// list and tuple -> array, dict -> Map (insertion order kept, keys of any type).
import { ByteReader } from './byte-reader.js';

/** A global the caller allowed, which REDUCE (or NEWOBJ) may call: our own code, given the arguments as data. */
export class PickleCallable {
  constructor(
    readonly qualifiedName: string,
    readonly call: (args: unknown[], at: number) => unknown,
  ) {}
}

/** A global the caller did not vouch for but let through by name (only where it asked to skip a part). */
export class UnknownGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** What calling or instantiating an UnknownGlobal gives: nothing runs; its arguments and state stay as data. */
export class OpaqueObject {
  state: unknown = undefined;
  constructor(
    readonly global: UnknownGlobal,
    readonly args: unknown[],
  ) {}
}

export interface PickleHooks {
  /** The value a GLOBAL / STACK_GLOBAL stands for; throw to refuse the name. */
  global(module: string, name: string, at: number): unknown;
  /** The object a persistent id (BINPERSID) stands for; without this hook BINPERSID is refused. */
  persistentLoad?(id: unknown, at: number): unknown;
}

const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  BINFLOAT: 0x47, // G
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  BINPERSID: 0x51, // Q
  REDUCE: 0x52, // R
  BINUNICODE: 0x58, // X
  EMPTY_LIST: 0x5d, // ]
  APPEND: 0x61, // a
  BUILD: 0x62, // b
  GLOBAL: 0x63, // c
  APPENDS: 0x65, // e
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  SETITEMS: 0x75, // u
  EMPTY_DICT: 0x7d, // }
  EMPTY_TUPLE: 0x29, // )
  PROTO: 0x80,
  NEWOBJ: 0x81,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  STACK_GLOBAL: 0x93,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

// Names of the opcodes we refuse, so the message says which one a file used.
const REFUSED_NAMES: Record<number, string> = {
  0x30: 'POP',
  0x31: 'POP_MARK',
  0x32: 'DUP',
  0x46: 'FLOAT',
  0x49: 'INT',
  0x4c: 'LONG',
  0x50: 'PERSID',
  0x53: 'STRING',
  0x54: 'BINSTRING',
  0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE',
  0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES',
  0x64: 'DICT',
  0x67: 'GET',
  0x69: 'INST',
  0x6c: 'LIST',
  0x6f: 'OBJ',
  0x70: 'PUT',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x8b: 'LONG4',
  0x8e: 'BINBYTES8',
  0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS',
  0x91: 'FROZENSET',
  0x92: 'NEWOBJ_EX',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const MAX_GLOBAL_LINE = 1024;
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Hooks for pickles that hold plain values only (a list of strings, torch's header pickles). */
export function plainValuesOnly(reader: ByteReader, what: string): PickleHooks {
  return {
    global: (module, name, at) =>
      reader.fail(`the pickle names ${printableName(module, name)}, which ${what} never needs; refusing to load`, at),
  };
}

/** module.name for messages; quoted when a hostile file put something other than an identifier there. */
export function printableName(module: string, name: string): string {
  const full = `${module}.${name}`;
  return /^[\w.<>-]{1,200}$/.test(full) ? full : JSON.stringify(full.slice(0, 200));
}

/** A short name for a value's type, for messages. */
export function describe(value: unknown): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return 'a list or tuple';
  if (value instanceof Map) return 'a dict';
  if (value instanceof PickleCallable) return value.qualifiedName;
  if (value instanceof UnknownGlobal) return value.qualifiedName;
  if (value instanceof OpaqueObject) return `a ${value.global.qualifiedName} object`;
  if (typeof value === 'object') return `a ${value.constructor?.name ?? 'object'}`;
  return `a ${typeof value === 'bigint' ? 'number' : typeof value}`;
}

/** Runs one pickle from `reader.pos` to its STOP (leaving `reader.pos` just past it) and returns its value. */
export function interpretPickle(reader: ByteReader, hooks: PickleHooks): unknown {
  const stack: unknown[] = [];
  const marks: number[] = []; // stack lengths at each MARK: what follows a mark is a separate stack in Python
  const memo = new Map<number, unknown>();
  let at = reader.pos; // offset of the opcode being run, for messages

  const floor = () => (marks.length ? marks[marks.length - 1]! : 0);
  const pop = (): unknown => {
    if (stack.length <= floor()) reader.fail('an opcode needs a value but the stack is empty', at);
    return stack.pop();
  };
  const top = (): unknown => {
    if (stack.length <= floor()) reader.fail('an opcode needs a value but the stack is empty', at);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    const mark = marks.pop();
    if (mark === undefined) reader.fail('an opcode needs a MARK but there is none', at);
    return stack.splice(mark);
  };
  const text = (bytes: Uint8Array): string => {
    try {
      return utf8.decode(bytes);
    } catch {
      return reader.fail('a string is not valid UTF-8', at);
    }
  };
  const put = (index: number) => memo.set(index, top());
  const get = (index: number) => {
    if (!memo.has(index)) reader.fail(`memo entry ${index} is read before it is written`, at);
    stack.push(memo.get(index));
  };
  const pushGlobal = (module: string, name: string) => stack.push(hooks.global(module, name, at));

  for (;;) {
    at = reader.pos;
    const op = reader.u8('an opcode (the pickle ends without STOP)');
    switch (op) {
      case OP.PROTO: {
        const version = reader.u8('PROTO version');
        if (version > 5) reader.fail(`pickle protocol ${version} is newer than any Python writes`, at);
        break;
      }
      case OP.FRAME:
        reader.u64('FRAME length'); // a hint for buffered readers; we have all the bytes already
        break;
      case OP.STOP: {
        if (stack.length === 0) reader.fail('STOP with nothing on the stack', at);
        return stack.pop();
      }
      case OP.MARK:
        marks.push(stack.length);
        break;
      case OP.EMPTY_DICT:
        stack.push(new Map());
        break;
      case OP.EMPTY_LIST:
      case OP.EMPTY_TUPLE:
        stack.push([]);
        break;
      case OP.NONE:
        stack.push(null);
        break;
      case OP.NEWTRUE:
        stack.push(true);
        break;
      case OP.NEWFALSE:
        stack.push(false);
        break;
      case OP.BININT:
        stack.push(reader.i32('BININT'));
        break;
      case OP.BININT1:
        stack.push(reader.u8('BININT1'));
        break;
      case OP.BININT2:
        stack.push(reader.u16('BININT2'));
        break;
      case OP.LONG1:
        stack.push(littleEndianSigned(reader.take(reader.u8('LONG1 length'), 'LONG1')));
        break;
      case OP.BINFLOAT:
        stack.push(reader.f64be('BINFLOAT'));
        break;
      case OP.SHORT_BINUNICODE:
        stack.push(text(reader.take(reader.u8('SHORT_BINUNICODE length'), 'a string')));
        break;
      case OP.BINUNICODE:
        stack.push(text(reader.take(reader.u32('BINUNICODE length'), 'a string')));
        break;
      case OP.BINUNICODE8:
        stack.push(text(reader.take(reader.u64('BINUNICODE8 length'), 'a string')));
        break;
      case OP.TUPLE:
        stack.push(popMark());
        break;
      case OP.TUPLE1:
        stack.push([pop()]);
        break;
      case OP.TUPLE2: {
        const b = pop();
        stack.push([pop(), b]);
        break;
      }
      case OP.TUPLE3: {
        const c = pop();
        const b = pop();
        stack.push([pop(), b, c]);
        break;
      }
      case OP.APPEND: {
        const item = pop();
        listAt(top(), reader, at).push(item);
        break;
      }
      case OP.APPENDS: {
        const items = popMark();
        const list = listAt(top(), reader, at);
        for (const item of items) list.push(item); // not push(...items): a long run would overflow the call stack
        break;
      }
      case OP.SETITEM: {
        const value = pop();
        const key = pop();
        dictAt(top(), reader, at).set(key, value);
        break;
      }
      case OP.SETITEMS: {
        const items = popMark();
        if (items.length % 2) reader.fail('SETITEMS with a key and no value', at);
        const dict = dictAt(top(), reader, at);
        for (let i = 0; i < items.length; i += 2) dict.set(items[i], items[i + 1]);
        break;
      }
      case OP.BINPUT:
        put(reader.u8('BINPUT index'));
        break;
      case OP.LONG_BINPUT:
        put(reader.u32('LONG_BINPUT index'));
        break;
      case OP.MEMOIZE:
        put(memo.size);
        break;
      case OP.BINGET:
        get(reader.u8('BINGET index'));
        break;
      case OP.LONG_BINGET:
        get(reader.u32('LONG_BINGET index'));
        break;
      case OP.GLOBAL: {
        const module = text(readLine(reader, 'GLOBAL module'));
        pushGlobal(module, text(readLine(reader, 'GLOBAL name')));
        break;
      }
      case OP.STACK_GLOBAL: {
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') reader.fail('STACK_GLOBAL needs two strings', at);
        pushGlobal(module, name);
        break;
      }
      // Calling a global (REDUCE) and instantiating a class (NEWOBJ) read alike: both go through call()'s allow-list.
      case OP.REDUCE:
      case OP.NEWOBJ: {
        const args = pop();
        const callable = pop();
        if (!Array.isArray(args))
          reader.fail(`${op === OP.REDUCE ? 'REDUCE' : 'NEWOBJ'} needs a tuple of arguments, not ${describe(args)}`, at);
        stack.push(call(callable, args, reader, at));
        break;
      }
      case OP.BUILD: {
        const state = pop();
        const target = top();
        if (target instanceof OpaqueObject) target.state = state;
        // A dict's instance attributes (state_dict()'s `_metadata` module versions) are not needed to read
        // weights, and JS Maps have no place for them: dropped.
        else if (!(target instanceof Map)) reader.fail(`BUILD on ${describe(target)}`, at);
        break;
      }
      case OP.BINPERSID: {
        const id = pop();
        if (!hooks.persistentLoad) reader.fail('a persistent id (BINPERSID) where none can occur', at);
        stack.push(hooks.persistentLoad(id, at));
        break;
      }
      default: {
        const name = REFUSED_NAMES[op];
        reader.fail(`opcode 0x${op.toString(16).padStart(2, '0')}${name ? ` (${name})` : ''} is not one a checkpoint uses`, at);
      }
    }
  }
}

function call(callable: unknown, args: unknown[], reader: ByteReader, at: number): unknown {
  if (callable instanceof PickleCallable) return callable.call(args, at);
  if (callable instanceof UnknownGlobal) return new OpaqueObject(callable, args);
  return reader.fail(`a call of ${describe(callable)}, which is not callable`, at);
}

function listAt(value: unknown, reader: ByteReader, at: number): unknown[] {
  if (!Array.isArray(value)) reader.fail(`APPEND to ${describe(value)}`, at);
  return value;
}

function dictAt(value: unknown, reader: ByteReader, at: number): Map<unknown, unknown> {
  if (!(value instanceof Map)) reader.fail(`SETITEM on ${describe(value)}`, at);
  return value;
}

/** GLOBAL's module and name: newline-terminated, and short. */
function readLine(reader: ByteReader, what: string): Uint8Array {
  const start = reader.pos;
  const end = Math.min(reader.bytes.length, start + MAX_GLOBAL_LINE);
  for (let i = start; i < end; i++) {
    if (reader.bytes[i] === 0x0a) {
      reader.pos = i + 1;
      return reader.bytes.subarray(start, i);
    }
  }
  return reader.fail(`${what} has no newline within ${MAX_GLOBAL_LINE} bytes`, start);
}

/** LONG1's payload: a little-endian two's-complement integer of any width (a number while it is exact). */
function littleEndianSigned(bytes: Uint8Array): number | bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
  if (bytes.length && bytes[bytes.length - 1]! & 0x80) value -= 1n << BigInt(8 * bytes.length);
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}
