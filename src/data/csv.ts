// CSV records, reduced to the requested columns (by header name, or by position in a file without a header). csv-parse does the parsing; this module
// feeds it repaired UTF-8 (counting each replacement against the record it falls in), numbers records by the
// line they start on, and turns every problem into a DataError naming the file and that line.
import { Readable } from 'node:stream';

import { CsvError, parse, type InfoRecord, type Options } from 'csv-parse';

import { fileChunks } from './files.js';
import { DataError, excerpt, withExcerpts } from './read-error.js';
import type { ReadSummary } from './read-summary.js';
import { Utf8Repair } from './utf8-repair.js';

/** A column: its header (files with a header row) or its 0-based position (any file). */
export type CsvColumn = string | number;

export interface CsvLayout {
  /** The first row names the columns (else every row is data, and columns are positions). */
  header: boolean;
  delimiter: string;
}

export interface CsvRecord {
  /** The requested columns, in the order requested. */
  values: string[];
  /** 1-based line the record starts on. */
  line: number;
  /** Invalid UTF-8 sequences replaced anywhere in the record. */
  invalidSequences: number;
}

export async function* csvRecords(
  file: string,
  columns: readonly CsvColumn[],
  layout: CsvLayout,
  maxRecordBytes: number,
  summary: ReadSummary,
): AsyncGenerator<CsvRecord> {
  const fed = new FedBytes();
  // The parser runs ahead of this generator's consumer; `at` is where it is (the end of its last record).
  const at = { bytes: 0, emptyLines: 0 };
  let width = 0; // fields in the header
  const parser = parse({
    delimiter: layout.delimiter,
    skip_empty_lines: true,
    record_delimiter: ['\r\n', '\n'], // not guessed from the first line: files mix them
    relax_column_count: true, // checked below, for a message that names the header
    max_record_size: maxRecordBytes,
    // Called as the parser produces each record, with where it is; the record's line and replacements are
    // settled here, in step with the bytes (the consumer lags behind).
    on_record: ((record: string[], info: InfoRecord): CsvRecord => {
      const line = 1 + fed.lineFeedsBefore(at.bytes) + (info.empty_lines - at.emptyLines);
      const invalidSequences = fed.replacementsBefore(info.bytes);
      at.bytes = info.bytes;
      at.emptyLines = info.empty_lines;
      if (width === 0) width = record.length;
      else if (record.length !== width) {
        throw new DataError(
          `ragged row: ${record.length} fields where the ${layout.header ? 'header has' : 'first row has'} ${width}`,
          file,
          line,
        );
      }
      return { values: record, line, invalidSequences };
    }) as unknown as Options['on_record'], // the typings want the record type back
  });

  async function* repaired(): AsyncGenerator<Buffer> {
    const utf8 = new Utf8Repair();
    for await (const chunk of fileChunks(file, summary)) yield fed.add(utf8.push(chunk));
    yield fed.add(utf8.end());
  }
  const source = Readable.from(repaired(), { objectMode: false });
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);

  let wanted: number[] | null = null; // column indexes, from the header
  try {
    for await (const record of parser as AsyncIterable<CsvRecord>) {
      if (wanted === null) {
        wanted = columnIndexes(record.values, columns, layout.header, file, record.line);
        if (layout.header) continue;
      }
      yield { ...record, values: wanted.map((i) => record.values[i]!) };
    }
  } catch (error) {
    if (!(error instanceof CsvError)) throw error;
    const line = 1 + fed.lineFeedsBefore(at.bytes) + (Number(error.empty_lines ?? at.emptyLines) - at.emptyLines);
    throw new DataError(
      error.code === 'CSV_MAX_RECORD_SIZE' ? `record is longer than maxRecordBytes (${maxRecordBytes} bytes)` : withExcerpts(error.message),
      file,
      line,
    );
  } finally {
    source.destroy();
    parser.destroy();
  }
  if (wanted === null && layout.header) throw new DataError('empty CSV file: no header row', file);
  summary.emptySkipped += at.emptyLines;
}

function columnIndexes(first: string[], columns: readonly CsvColumn[], header: boolean, file: string, line: number): number[] {
  return columns.map((column) => {
    if (typeof column === 'number') {
      if (column >= first.length) throw new DataError(`no column ${column} (0-based): rows have ${first.length} fields`, file, line);
      return column;
    }
    if (!header)
      throw new DataError(`column "${column}" is a name, but the file has no header row (header: false): give its position`, file, line);
    const index = first.indexOf(column);
    if (index === -1) {
      const shown = first.slice(0, 20).map((n) => excerpt(n));
      const more = first.length > 20 ? ` and ${first.length - 20} more` : '';
      throw new DataError(`no column ${excerpt(String(column))}; the columns are: ${shown.join(', ')}${more}`, file, line);
    }
    return index;
  });
}

/**
 * The bytes handed to the parser, kept until it has passed them, to answer two questions by byte offset: how many
 * line feeds come before it (csv-parse counts a CRLF inside quotes as two lines) and how many replacements.
 */
class FedBytes {
  private chunks: Buffer[] = [];
  private start = 0; // offset of chunks[0]
  private total = 0; // bytes added
  private counted = 0; // offset up to which line feeds are counted
  private lineFeeds = 0;
  private replacements: number[] = []; // offsets not yet charged to a record

  add({ bytes, replacements }: { bytes: Buffer; replacements: number[] }): Buffer {
    for (const r of replacements) this.replacements.push(this.total + r);
    this.chunks.push(bytes);
    this.total += bytes.length;
    return bytes;
  }

  /** Line feeds before `offset`; offsets asked for never decrease. */
  lineFeedsBefore(offset: number): number {
    while (this.counted < offset && this.chunks.length > 0) {
      const chunk = this.chunks[0]!;
      const end = Math.min(offset - this.start, chunk.length);
      for (let i = chunk.indexOf(0x0a, this.counted - this.start); i !== -1 && i < end; i = chunk.indexOf(0x0a, i + 1)) this.lineFeeds++;
      this.counted = this.start + end;
      if (end === chunk.length) {
        this.chunks.shift();
        this.start += chunk.length;
      }
    }
    return this.lineFeeds;
  }

  /** Replacements before `offset` not yet counted: those in the record ending there. */
  replacementsBefore(offset: number): number {
    let n = 0;
    while (n < this.replacements.length && this.replacements[n]! < offset) n++;
    this.replacements.splice(0, n);
    return n;
  }
}
