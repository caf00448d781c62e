// The allow-list: the only globals a torch.save checkpoint may name, each resolved to our own stand-in
// (torch-values.ts), plus the persistent ids that point at storages. Anything else is refused by name, or,
// where the caller skips a part of the checkpoint, kept as an UnknownGlobal that nothing ever calls.
import type { ByteReader } from './byte-reader.js';
import { dtypeOfStorageClass, isTorchDType, type TorchDType } from './dtypes.js';
import { describe, PickleCallable, printableName, UnknownGlobal, type PickleHooks } from './pickle.js';
import { StorageClass, TorchDtypeValue, TorchStorage, TorchTensor } from './torch-values.js';

const MAX_DIMS = 64;
const MAX_KEY_LENGTH = 256;

// torch.dtype names a pickle may carry as values (torch 2.x pickles dtypes as globals such as torch.float32);
// beyond the ones we read, a few more are harmless as values and only refused if a tensor has them.
const OTHER_DTYPE_NAMES = new Set([
  'complex32',
  'complex64',
  'complex128',
  'float8_e4m3fn',
  'float8_e5m2',
  'float8_e4m3fnuz',
  'float8_e5m2fnuz',
]);

/** The hooks for one checkpoint's object pickle; `storages` and `unknownGlobals` are what it met. */
export class TorchUnpickler implements PickleHooks {
  readonly storages = new Map<string, TorchStorage>();
  readonly unknownGlobals: UnknownGlobal[] = [];
  private readonly callables: Map<string, PickleCallable>;

  /** `allowUnknown`: unknown globals become UnknownGlobal placeholders (the caller checks where they ended up). */
  constructor(
    private readonly reader: ByteReader,
    private readonly allowUnknown: boolean,
  ) {
    const callables: [string, (args: unknown[], at: number) => unknown][] = [
      ['collections.OrderedDict', (args, at) => this.orderedDict(args, at)],
      ['torch._utils._rebuild_tensor', (args, at) => this.tensor(args, at, 4, 4, false)],
      ['torch._utils._rebuild_tensor_v2', (args, at) => this.tensor(args, at, 6, 7, false)],
      ['torch._utils._rebuild_tensor_v3', (args, at) => this.tensor(args, at, 7, 8, true)],
      ['torch._utils._rebuild_parameter', (args, at) => this.parameter(args, at, 3)],
      ['torch._utils._rebuild_parameter_with_state', (args, at) => this.parameter(args, at, 4)],
    ];
    this.callables = new Map(callables.map(([name, fn]) => [name, new PickleCallable(name, fn)]));
  }

  global(module: string, name: string, at: number): unknown {
    const known = this.resolve(module, name);
    if (known !== undefined) return known;
    if (this.allowUnknown) {
      const placeholder = new UnknownGlobal(module, name);
      this.unknownGlobals.push(placeholder);
      return placeholder;
    }
    const why = module === 'torch' || module.startsWith('torch.') ? 'which this reader does not support' : 'which a checkpoint never needs';
    return this.reader.fail(`the pickle names ${printableName(module, name)}, ${why}; refusing to load`, at);
  }

  /** ('storage', StorageClass, key, location, numel[, view_metadata]) -> the one TorchStorage for that key. */
  persistentLoad(id: unknown, at: number): TorchStorage {
    const fail = (message: string): never => this.reader.fail(message, at);
    if (!Array.isArray(id) || id[0] !== 'storage' || (id.length !== 5 && id.length !== 6)) {
      return fail('a persistent id that is not a storage record');
    }
    const [, cls, key, location, numel, view] = id as unknown[];
    if (!(cls instanceof StorageClass)) return fail(`a storage record names ${describe(cls)}, not a storage class`);
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return fail('a storage record has no usable key');
    if (typeof location !== 'string') return fail(`storage ${key} has no location`);
    if (!isCount(numel)) return fail(`storage ${key} has ${describe(numel)} for its size`);
    if (view !== undefined && view !== null)
      return fail(`storage ${key} is a storage view (torch before 1.0), which this reader does not support`);
    const storage = new TorchStorage(key, cls.dtype, numel, location);
    if (!Number.isSafeInteger(storage.byteLength)) return fail(`storage ${key} claims ${numel} elements, more than any file holds`);
    const seen = this.storages.get(key);
    if (!seen) {
      this.storages.set(key, storage);
      return storage;
    }
    if (seen.dtype !== storage.dtype || seen.numel !== storage.numel) return fail(`storage ${key} is described two different ways`);
    return seen;
  }

  private resolve(module: string, name: string): unknown {
    const callable = this.callables.get(`${module}.${name}`);
    if (callable) return callable;
    // Storage classes: torch.FloatStorage etc. (torch.cuda.* in files saved from a GPU by old torch: same bytes).
    if (module === 'torch' || module === 'torch.cuda') {
      const dtype = dtypeOfStorageClass(name);
      if (dtype) return new StorageClass(`${module}.${name}`, dtype);
    }
    if ((module === 'torch' || module === 'torch.storage') && name === 'UntypedStorage')
      return new StorageClass(`${module}.${name}`, 'uint8');
    if (module === 'torch' && (isTorchDType(name) || OTHER_DTYPE_NAMES.has(name))) return new TorchDtypeValue(name);
    return undefined;
  }

  private orderedDict(args: unknown[], at: number): Map<unknown, unknown> {
    const dict = new Map<unknown, unknown>();
    if (args.length === 0) return dict;
    const pairs = args[0];
    if (args.length !== 1 || !Array.isArray(pairs))
      return this.reader.fail('OrderedDict called with arguments other than a list of pairs', at);
    for (const pair of pairs) {
      if (!Array.isArray(pair) || pair.length !== 2) return this.reader.fail('OrderedDict called with something other than pairs', at);
      dict.set(pair[0], pair[1]);
    }
    return dict;
  }

  /** _rebuild_tensor (storage, offset, size, stride), _v2 (+ requires_grad, hooks[, metadata]), _v3 (+ dtype). */
  private tensor(args: unknown[], at: number, minArgs: number, maxArgs: number, dtypeArg: boolean): TorchTensor {
    const fail = (message: string): never => this.reader.fail(`a tensor ${message}`, at);
    if (args.length < minArgs || args.length > maxArgs) fail(`is rebuilt with ${args.length} arguments`);
    const [storage, offset, shape, stride, requiresGrad = false, hooks = null] = args;
    if (!(storage instanceof TorchStorage)) return fail(`has ${describe(storage)} for its storage`);
    if (!isCount(offset)) return fail(`has ${describe(offset)} for its storage offset`);
    if (!isDims(shape)) return fail('has a shape that is not a tuple of sizes');
    if (!isDims(stride) || stride.length !== shape.length) return fail('has strides that do not match its shape');
    if (typeof requiresGrad !== 'boolean') return fail('has a requires_grad that is not a bool');
    if (hooks !== null && !(hooks instanceof Map)) return fail('has backward hooks that are not a dict');
    let dtype: TorchDType = storage.dtype;
    if (dtypeArg) {
      const value = args[6];
      if (!(value instanceof TorchDtypeValue)) return fail(`has ${describe(value)} for its dtype`);
      if (!isTorchDType(value.name)) return fail(`has dtype ${value.name}, which this reader does not support`);
      dtype = value.name;
    }
    // Copies: the tuples stay in the memo, where a later opcode could still append to them.
    return new TorchTensor(dtype, [...shape], [...stride], offset, storage, requiresGrad, false);
  }

  /** _rebuild_parameter(data, requires_grad, hooks[, state]): the same view, marked as a parameter. */
  private parameter(args: unknown[], at: number, count: number): TorchTensor {
    const [data, requiresGrad] = args;
    if (args.length !== count) return this.reader.fail(`a parameter is rebuilt with ${args.length} arguments`, at);
    if (!(data instanceof TorchTensor)) return this.reader.fail(`a parameter wraps ${describe(data)}, not a tensor`, at);
    if (typeof requiresGrad !== 'boolean') return this.reader.fail('a parameter has a requires_grad that is not a bool', at);
    // Python attributes carried in `state` (param.foo = ...) are not part of the weights: dropped.
    return new TorchTensor(data.dtype, data.shape, data.stride, data.storageOffset, data.storage, requiresGrad, true);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isDims(value: unknown): value is number[] {
  return Array.isArray(value) && value.length <= MAX_DIMS && value.every(isCount);
}
