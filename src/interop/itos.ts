// fastai's itos*.pkl: the vocabulary (index -> token) as a plain pickle of a Python list of strings. It goes
// through the same restricted interpreter as checkpoints, with no global allowed at all.
import { ByteReader } from './byte-reader.js';
import { CheckpointError } from './checkpoint-error.js';
import { describe, interpretPickle, plainValuesOnly } from './pickle.js';

/** The tokens of an itos pickle, in index order; `file` names it in errors (CheckpointError). */
export function readItos(bytes: Uint8Array, file: string): string[] {
  const reader = new ByteReader(bytes, file, 'pickle');
  const value = interpretPickle(reader, plainValuesOnly(reader, 'a list of strings'));
  if (!Array.isArray(value)) throw new CheckpointError(file, `holds ${describe(value)}, not a list of strings`);
  const bad = value.findIndex((token) => typeof token !== 'string');
  if (bad >= 0) throw new CheckpointError(file, `item ${bad} of the list is ${describe(value[bad])}, not a string`);
  return value as string[];
}
