// JSON Lines: one JSON object per line. Blank lines are skipped (and counted); anything else that is not an
// object is an error naming file:line.
import { decodeUtf8 } from './decode.js';
import { fileChunks } from './files.js';
import { splitLines } from './lines.js';
import { DataError, excerpt } from './read-error.js';
import { isBlank, type ReadSummary } from './read-summary.js';

export interface JsonlRecord {
  record: Record<string, unknown>;
  line: number;
  /** Invalid UTF-8 sequences replaced in the line before parsing. */
  invalidSequences: number;
}

export async function* jsonlRecords(file: string, maxLineBytes: number, summary: ReadSummary): AsyncGenerator<JsonlRecord> {
  for await (const { bytes, line } of splitLines(fileChunks(file, summary), maxLineBytes, file)) {
    const { text, invalidSequences } = decodeUtf8(bytes);
    if (isBlank(text)) {
      summary.emptySkipped++;
      continue;
    }
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (error) {
      // V8 quotes the start of the line raw: show an excerpt of it instead.
      const why = (error as Error).message.replace(/, ".*"(\.\.\.)? is not valid JSON$/s, '');
      throw new DataError(`malformed JSON (${why}): ${excerpt(text)}`, file, line);
    }
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      throw new DataError(`expected a JSON object, got ${typeName(record)}`, file, line);
    }
    yield { record: record as Record<string, unknown>, line, invalidSequences };
  }
}

/** The record's string field; missing or another type is an error naming the field. */
export function stringField(item: JsonlRecord, field: string, file: string): string {
  const value = Object.hasOwn(item.record, field) ? item.record[field] : undefined;
  if (value === undefined) throw new DataError(`no field "${field}" in the record`, file, item.line);
  if (typeof value !== 'string') throw new DataError(`field "${field}" is ${typeName(value)}, expected a string`, file, item.line);
  return value;
}

export function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}
