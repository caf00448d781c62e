// Plain-text corpora for language-model training, streamed document by document: no corpus has to fit in
// memory. Formats: .txt (one document per file, or per line), .jsonl (a text field), .csv (a text column).
import { z } from 'zod';

import { validate } from '../options.js';
import { csvRecords } from './csv.js';
import { CsvLayoutFields } from './csv-options.js';
import { fieldList, fieldsBlank, joinFields, TextColumnsSchema, TextFieldsSchema } from './fields.js';
import { decodeUtf8 } from './decode.js';
import { fileChunks, readWholeFile } from './files.js';
import { extensionsFor, formatOf } from './formats.js';
import { jsonlRecords, stringField } from './jsonl.js';
import { splitLines } from './lines.js';
import { countDocument, createReadSummary, type ReadSummary } from './read-summary.js';
import { MaxRecordBytesSchema, PathsSchema, resolveSources } from './sources.js';

export const CorpusSourceSchema = z
  .object({
    path: PathsSchema.describe('A file, a directory (searched at any depth), a glob, or a list of those.'),
    format: z
      .enum(['auto', 'text', 'lines', 'jsonl', 'csv'])
      .default('auto')
      .describe("'auto': by extension (.txt one document per file, .jsonl/.ndjson, .csv); 'lines': one document per line."),
    textField: TextFieldsSchema.default('text').describe(
      'JSONL: the field holding the text, or several, joined with xxfld markers as fastai does.',
    ),
    textColumn: TextColumnsSchema.default('text').describe(
      'CSV: the column holding the text (its header, or its 0-based position), or several, joined with xxfld markers as fastai does.',
    ),
    ...CsvLayoutFields,
    maxRecordBytes: MaxRecordBytesSchema,
  })
  .strict();

export type CorpusSourceOptions = z.input<typeof CorpusSourceSchema>;
type CorpusSource = z.output<typeof CorpusSourceSchema>;

export interface CorpusDocument {
  text: string;
  /** Absolute path of the file it came from. */
  source: string;
  /** 1-based line it starts on; null for a whole-file document. */
  line: number | null;
}

/**
 * Streams the documents of a corpus, file by file in sorted path order. Empty documents are skipped, invalid
 * UTF-8 is replaced by U+FFFD; both are counted in `summary`. Options are checked now, files as they are read.
 */
export function readCorpus(
  options: CorpusSourceOptions,
  summary: ReadSummary = createReadSummary(),
): AsyncGenerator<CorpusDocument, void, undefined> {
  return corpus(validate(CorpusSourceSchema, options, 'readCorpus options'), summary);
}

async function* corpus(o: CorpusSource, summary: ReadSummary): AsyncGenerator<CorpusDocument, void, undefined> {
  // Every file's format is settled before the first is read: a stray extension fails now, not an hour in.
  const files = (await resolveSources(o.path, extensionsFor(o.format))).map((file) => ({ file, format: formatOf(file, o.format) }));
  for (const { file, format } of files) {
    switch (format) {
      case 'text': {
        const { text, invalidSequences } = decodeUtf8(await readWholeFile(file, o.maxRecordBytes, summary));
        if (countDocument(summary, text, invalidSequences)) yield { text, source: file, line: null };
        break;
      }
      case 'lines':
        for await (const { bytes, line } of splitLines(fileChunks(file, summary), o.maxRecordBytes, file)) {
          const { text, invalidSequences } = decodeUtf8(bytes);
          if (countDocument(summary, text, invalidSequences)) yield { text, source: file, line };
        }
        break;
      case 'jsonl':
        for await (const item of jsonlRecords(file, o.maxRecordBytes, summary)) {
          const fields = fieldList(o.textField).map((f) => stringField(item, f, file));
          const text = fieldsBlank(fields) ? '' : joinFields(fields);
          if (countDocument(summary, text, item.invalidSequences)) yield { text, source: file, line: item.line };
        }
        break;
      case 'csv':
        for await (const { values, line, invalidSequences } of csvRecords(file, fieldList(o.textColumn), o, o.maxRecordBytes, summary)) {
          const text = fieldsBlank(values) ? '' : joinFields(values);
          if (countDocument(summary, text, invalidSequences)) yield { text, source: file, line };
        }
        break;
    }
  }
}
