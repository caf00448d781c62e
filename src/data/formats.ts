// File formats and the extensions that name them: a directory is searched for its format's extensions, and in
// 'auto' mode each file is read as its extension says.
import path from 'node:path';

import { DataError } from './read-error.js';

export type FileFormat = 'text' | 'lines' | 'jsonl' | 'csv';

const BY_EXTENSION: Record<string, FileFormat> = { '.txt': 'text', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv' };

/** The extensions a directory is searched for, per format. */
export function extensionsFor(format: FileFormat | 'auto'): string[] {
  if (format === 'auto') return Object.keys(BY_EXTENSION);
  if (format === 'lines') return ['.txt'];
  return Object.keys(BY_EXTENSION).filter((ext) => BY_EXTENSION[ext] === format);
}

/** The format of one file: the one asked for, else the one its extension names. */
export function formatOf(file: string, format: FileFormat | 'auto'): FileFormat {
  if (format !== 'auto') return format;
  const byExtension = BY_EXTENSION[path.extname(file).toLowerCase()];
  if (byExtension === undefined) {
    throw new DataError(`cannot tell the format from the extension (known: ${Object.keys(BY_EXTENSION).join(', ')}); set "format"`, file);
  }
  return byExtension;
}
