// torch.save's legacy format (before torch 1.6, or _use_new_zipfile_serialization=False): five pickles in a
// row (magic number, protocol version, sys_info, the object, the sorted storage keys), then each storage in
// that order as an 8-byte little-endian element count followed by its raw bytes.
import { ByteReader } from './byte-reader.js';
import { CheckpointError } from './checkpoint-error.js';
import { interpretPickle, plainValuesOnly } from './pickle.js';
import { TorchUnpickler } from './torch-globals.js';

const MAGIC_NUMBER = 0x1950a86a20f9469cfc6cn;
const PROTOCOL_VERSION = 1001;

export interface LegacyCheckpoint {
  root: unknown;
  unpickler: TorchUnpickler;
  storageBytes: Map<string, Uint8Array>;
}

/** A legacy checkpoint starts with a pickle (PROTO); the older tar format has 'ustar' at byte 257. */
export const looksLikeLegacy = (bytes: Uint8Array) => bytes[0] === 0x80;
export const looksLikeTar = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(257, 262)) === 'ustar';

export function readLegacyCheckpoint(bytes: Uint8Array, file: string, allowUnknown: boolean): LegacyCheckpoint {
  const reader: ByteReader = new ByteReader(bytes, file, 'legacy format'); // typed, so fail() narrows
  const header = plainValuesOnly(reader, 'a checkpoint header');
  const at = () => reader.pos;

  let start = at();
  if (interpretPickle(reader, header) !== MAGIC_NUMBER) reader.fail("torch's magic number is missing: not a torch.save checkpoint", start);
  start = at();
  const protocol = interpretPickle(reader, header);
  if (protocol !== PROTOCOL_VERSION) reader.fail(`protocol version ${String(protocol)} is not torch's ${PROTOCOL_VERSION}`, start);
  start = at();
  const sysInfo = interpretPickle(reader, header);
  const littleEndian = sysInfo instanceof Map ? sysInfo.get('little_endian') : undefined;
  if (littleEndian === false)
    throw new CheckpointError(file, 'it was written on a big-endian machine; only little-endian checkpoints are read');
  if (littleEndian !== true) reader.fail('sys_info does not say the byte order', start);

  const unpickler = new TorchUnpickler(reader, allowUnknown);
  const root = interpretPickle(reader, unpickler);

  start = at();
  const keys = interpretPickle(reader, header);
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) reader.fail('the storage keys are not a list of strings', start);
  const listed = new Set(keys as string[]);
  if (listed.size !== keys.length) reader.fail('the storage keys list a storage twice', start);
  for (const key of unpickler.storages.keys()) {
    if (!listed.has(key)) reader.fail(`storage ${key} is used but not stored`, start);
  }
  const storageBytes = new Map<string, Uint8Array>();
  for (const key of keys as string[]) {
    const storage = unpickler.storages.get(key);
    if (!storage) return reader.fail(`storage ${key} is stored but nothing uses it`, start);
    start = at();
    const count = reader.u64(`the size of storage ${key}`);
    if (count !== BigInt(storage.numel))
      reader.fail(`storage ${key} holds ${count} elements where the pickle says ${storage.numel}`, start);
    storageBytes.set(key, reader.take(storage.byteLength, `storage ${key}`));
  }
  return { root, unpickler, storageBytes };
}
