// Reads a torch.save checkpoint (zip or legacy format) without Python and without running anything it names:
// the object pickle goes through our interpreter with the torch allow-list, storages are checked against
// the bytes present, and every tensor comes back materialized (see torch-values.ts and dtypes.ts).
import { z } from 'zod';

import { validate } from '../options.js';
import { ByteReader } from './byte-reader.js';
import { CheckpointError } from './checkpoint-error.js';
import { readLegacyCheckpoint, looksLikeLegacy, looksLikeTar } from './legacy-checkpoint.js';
import { walk, pathName } from './object-walk.js';
import { interpretPickle, OpaqueObject, printableName, UnknownGlobal } from './pickle.js';
import { materializeTensors } from './tensor-data.js';
import { TorchUnpickler } from './torch-globals.js';
import { TorchTensor, type TorchStorage } from './torch-values.js';
import { looksLikeZip, readZipCheckpoint } from './zip-checkpoint.js';

export const ReadTorchCheckpointOptionsSchema = z
  .object({
    /**
     * Top-level dict keys whose values may name globals this reader does not know (learn.save's 'opt'
     * holds fastcore classes): those become OpaqueObject placeholders, with a warning; anywhere else they
     * are refused.
     */
    skip: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type ReadTorchCheckpointOptions = z.input<typeof ReadTorchCheckpointOptionsSchema>;

export interface SharedStorage {
  storage: string;
  /** The tensors viewing it, in the order they were met (a tied embedding: encoder, encoder_dp, decoder). */
  tensors: string[];
}

export interface TorchCheckpoint {
  format: 'zip' | 'legacy';
  /** The saved object: dicts as Maps (order kept), lists and tuples as arrays, tensors as TorchTensor. */
  root: unknown;
  /**
   * Every tensor reachable from `root` by every name it has (its paths of keys, in the order met): one tensor
   * saved under three keys (fastai 0.7's tied embedding) is here three times, its `name` being the first.
   */
  tensors: Map<string, TorchTensor>;
  sharedStorages: SharedStorage[];
  warnings: string[];
}

/** Reads the checkpoint in `bytes`; `file` names it in errors (CheckpointError) and warnings. */
export function readTorchCheckpoint(bytes: Uint8Array, file: string, options: ReadTorchCheckpointOptions = {}): TorchCheckpoint {
  const { skip } = validate(ReadTorchCheckpointOptionsSchema, options, 'readTorchCheckpoint options');
  const allowUnknown = skip.length > 0;
  let format: TorchCheckpoint['format'];
  let root: unknown;
  let unpickler: TorchUnpickler;
  let bytesOf: (storage: TorchStorage) => Uint8Array | undefined;
  if (looksLikeZip(bytes)) {
    const zip = readZipCheckpoint(bytes, file);
    const reader = new ByteReader(zip.pickle, file, `${zip.archive}/data.pkl`);
    unpickler = new TorchUnpickler(reader, allowUnknown);
    root = interpretPickle(reader, unpickler);
    bytesOf = (storage) => zip.storage(storage.key);
    format = 'zip';
  } else if (looksLikeLegacy(bytes)) {
    const legacy = readLegacyCheckpoint(bytes, file, allowUnknown);
    ({ root, unpickler } = legacy);
    bytesOf = (storage) => legacy.storageBytes.get(storage.key);
    format = 'legacy';
  } else if (looksLikeTar(bytes)) {
    throw new CheckpointError(file, "torch's oldest (tar) format is not read; load and re-save it with a newer torch");
  } else {
    throw new CheckpointError(file, 'neither the zip nor the legacy format of torch.save');
  }

  for (const storage of unpickler.storages.values()) {
    const data = bytesOf(storage);
    if (!data) throw new CheckpointError(file, `storage ${storage.key} is used but its bytes are not in the file`);
    if (data.length !== storage.byteLength) {
      const claim = `${storage.numel} ${storage.dtype} elements need ${storage.byteLength}`;
      throw new CheckpointError(file, `storage ${storage.key} has ${data.length} bytes where ${claim}`);
    }
  }
  const warnings = allowUnknown ? placeUnknownGlobals(root, unpickler.unknownGlobals, new Set(skip), file) : [];
  const tensors = nameTensors(root);
  materializeTensors([...new Set(tensors.values())], (storage) => bytesOf(storage)!, file);
  return { format, root, tensors, sharedStorages: sharedStorages(tensors), warnings };
}

/**
 * Unknown globals may only be reached from the skipped top-level values: one reachable from anywhere else
 * (or from nowhere: the file named it for nothing) is refused. Returns a warning per skipped key and global.
 */
function placeUnknownGlobals(root: unknown, unknown: UnknownGlobal[], skip: Set<string>, file: string): string[] {
  if (unknown.length === 0) return [];
  const skipped: [string, unknown][] = [];
  const kept: unknown[] = [];
  if (root instanceof Map) {
    for (const [key, value] of root) {
      kept.push(key);
      if (typeof key === 'string' && skip.has(key)) skipped.push([key, value]);
      else kept.push(value);
    }
  } else kept.push(root);
  const refuse = (global: UnknownGlobal, where: string): never => {
    throw new CheckpointError(file, `the pickle names ${printableName(global.module, global.name)} ${where}; refusing to load`);
  };
  walk(kept, (value) => {
    if (value instanceof UnknownGlobal) refuse(value, `outside the parts it was asked to skip (${[...skip].join(', ')})`);
    if (value instanceof OpaqueObject) refuse(value.global, `outside the parts it was asked to skip (${[...skip].join(', ')})`);
  });
  const placed = new Set<UnknownGlobal>();
  const warnings: string[] = [];
  for (const [key, value] of skipped) {
    const names = new Set<string>();
    walk(value, (v) => {
      if (v instanceof UnknownGlobal) {
        placed.add(v);
        names.add(printableName(v.module, v.name));
      }
    });
    for (const name of names)
      warnings.push(`${file}: '${key}' holds ${name}, which this reader does not know; it is left as an opaque placeholder`);
  }
  for (const global of unknown) if (!placed.has(global)) refuse(global, 'where nothing uses it');
  return warnings;
}

/** Each path that reaches a tensor, as a name ('(root)' for a bare tensor); a tensor's `name` is its first. */
function nameTensors(root: unknown): Map<string, TorchTensor> {
  const tensors = new Map<string, TorchTensor>();
  const repeats = new Map<string, number>(); // a name met again (keys with dots in them, or non-string keys)
  walk(root, (value, path) => {
    if (!(value instanceof TorchTensor)) return;
    const base = pathName(path) || '(root)';
    let name = base;
    while (tensors.has(name)) {
      const n = (repeats.get(base) ?? 1) + 1;
      repeats.set(base, n);
      name = `${base}#${n}`;
    }
    value.name ||= name;
    tensors.set(name, value);
  });
  return tensors;
}

/** The storages that more than one name views (distinct tensors, or one tensor saved under several keys). */
function sharedStorages(tensors: Map<string, TorchTensor>): SharedStorage[] {
  const byStorage = new Map<TorchStorage, string[]>();
  for (const [name, t] of tensors) {
    const names = byStorage.get(t.storage);
    if (names) names.push(name);
    else byStorage.set(t.storage, [name]);
  }
  return [...byStorage].filter(([, names]) => names.length > 1).map(([storage, names]) => ({ storage: storage.key, tensors: names }));
}
