// Labelled sets for classifier training, streamed: a CSV with label and text columns, JSONL with label and
// text fields, or a folder per label (root/<label>/**/*.txt, one document per file). The class list is the
// one given, else the label folders' names or the labels seen, sorted; fewer than two classes is an error.
import fs from 'node:fs';
import path from 'node:path';

import { z } from 'zod';

import { validate } from '../options.js';
import { csvRecords } from './csv.js';
import { CsvColumnSchema, CsvLayoutFields } from './csv-options.js';
import { fieldList, fieldsBlank, joinFields, TextColumnsSchema, TextFieldsSchema } from './fields.js';
import { decodeUtf8 } from './decode.js';
import { readWholeFile } from './files.js';
import { extensionsFor, formatOf } from './formats.js';
import { jsonlRecords, stringField, typeName, type JsonlRecord } from './jsonl.js';
import { DataError } from './read-error.js';
import { countDocument, createReadSummary, isBlank, type ReadSummary } from './read-summary.js';
import { byCodeUnit, filesUnder, MaxRecordBytesSchema, PathsSchema, resolveSources, subdirectories } from './sources.js';

export const LabelledSourceSchema = z
  .object({
    path: PathsSchema.describe('CSV/JSONL: files, directories, globs. Folders: the folder(s) holding one folder per label.'),
    format: z.enum(['auto', 'csv', 'jsonl', 'folders']).default('auto').describe("'auto': by extension (.csv, .jsonl/.ndjson)."),
    labelColumn: CsvColumnSchema.default('label').describe('CSV: the column holding the label: its header, or its 0-based position'),
    textColumn: TextColumnsSchema.default('text').describe(
      'CSV: the column holding the text (its header, or its 0-based position), or several, joined with xxfld markers as fastai does',
    ),
    ...CsvLayoutFields,
    labelField: z.string().min(1).default('label').describe('JSONL: the field holding the label'),
    textField: TextFieldsSchema.default('text').describe(
      'JSONL: the field holding the text, or several, joined with xxfld markers as fastai does',
    ),
    /**
     * The classes and their order (class ids follow it). CSV/JSONL: any other label is an error. Folders:
     * only these label folders are read, so a set can leave one out (IMDb's train/unsup).
     */
    classes: z
      .array(z.string().min(1))
      .min(2)
      .refine((list) => new Set(list).size === list.length, 'classes must not repeat')
      .optional(),
    maxRecordBytes: MaxRecordBytesSchema,
  })
  .strict();

export type LabelledSourceOptions = z.input<typeof LabelledSourceSchema>;
type LabelledSource = z.output<typeof LabelledSourceSchema>;

export interface LabelledDocument {
  text: string;
  label: string;
  /** Absolute path of the file it came from. */
  source: string;
  /** 1-based line it starts on; null for a whole-file document. */
  line: number | null;
}

/**
 * Streams the documents of a labelled set in sorted path order. When the stream ends, `summary.classes` holds the
 * class list and `summary.classCounts` the documents per class; empty documents and invalid UTF-8 are counted.
 * Fewer than two classes with documents is an error, raised at the end for CSV/JSONL (labels are seen as read).
 */
export function readLabelled(
  options: LabelledSourceOptions,
  summary: ReadSummary = createReadSummary(),
): AsyncGenerator<LabelledDocument, void, undefined> {
  return labelled(validate(LabelledSourceSchema, options, 'readLabelled options'), summary);
}

/** The class list of a labelled set: the one given, the label folders' names, or (CSV/JSONL) a full pass's labels. */
export async function listClasses(options: LabelledSourceOptions): Promise<string[]> {
  const o = validate(LabelledSourceSchema, options, 'listClasses options');
  if (o.format === 'folders') return (await labelFolders(o)).classes;
  if (o.classes) return o.classes;
  const summary = createReadSummary();
  for await (const _ of labelled(o, summary));
  return summary.classes;
}

async function* labelled(o: LabelledSource, summary: ReadSummary): AsyncGenerator<LabelledDocument, void, undefined> {
  const seen = new Map<string, number>(); // this read's labels; the summary may be shared with other reads
  const count = (label: string) => {
    seen.set(label, (seen.get(label) ?? 0) + 1);
    summary.classCounts[label] = (summary.classCounts[label] ?? 0) + 1;
  };
  let classes = o.classes; // known up front when given, or for folders

  if (o.format === 'folders') {
    const folders = await folderFiles(o);
    classes = folders.classes;
    for (const c of classes) summary.classCounts[c] ??= 0;
    for (const { file, label } of folders.files) {
      const { text, invalidSequences } = decodeUtf8(await readWholeFile(file, o.maxRecordBytes, summary));
      if (!countDocument(summary, text, invalidSequences)) continue;
      count(label);
      yield { text, label, source: file, line: null };
    }
  } else {
    const wanted = o.format;
    const extensions = wanted === 'auto' ? [...extensionsFor('csv'), ...extensionsFor('jsonl')] : extensionsFor(wanted);
    const files = (await resolveSources(o.path, extensions)).map((file) => ({ file, format: labelledFormat(file, wanted) }));
    for (const c of classes ?? []) summary.classCounts[c] ??= 0;
    const check = labelCheck(o.classes);
    for (const { file, format } of files) {
      if (format === 'csv') {
        const columns = fieldList(o.textColumn);
        for await (const { values, line, invalidSequences } of csvRecords(
          file,
          [o.labelColumn, ...columns],
          o,
          o.maxRecordBytes,
          summary,
        )) {
          const [label, ...fields] = values as [string, ...string[]];
          if (isBlank(label)) throw new DataError(`empty label in column ${JSON.stringify(o.labelColumn)}`, file, line);
          check(label, file, line);
          const text = fieldsBlank(fields) ? '' : joinFields(fields);
          if (!countDocument(summary, text, invalidSequences)) continue;
          count(label);
          yield { text, label, source: file, line };
        }
      } else {
        for await (const item of jsonlRecords(file, o.maxRecordBytes, summary)) {
          const label = labelOf(item, o.labelField, file);
          check(label, file, item.line);
          const fields = fieldList(o.textField).map((f) => stringField(item, f, file));
          const text = fieldsBlank(fields) ? '' : joinFields(fields);
          if (!countDocument(summary, text, item.invalidSequences)) continue;
          count(label);
          yield { text, label, source: file, line: item.line };
        }
      }
    }
  }

  summary.classes = classes ?? [...seen.keys()].sort(byCodeUnit);
  if (seen.size < 2) {
    const found = [...seen.keys()].map((c) => JSON.stringify(c)).join(', ') || 'none';
    const where = JSON.stringify(o.path);
    throw new DataError(`a labelled set needs documents of at least two classes; found ${seen.size} (${found}) in ${where}`);
  }
}

function labelledFormat(file: string, format: 'auto' | 'csv' | 'jsonl'): 'csv' | 'jsonl' {
  const found = formatOf(file, format);
  if (found === 'csv' || found === 'jsonl') return found;
  throw new DataError('a labelled file must be .csv or .jsonl (for a folder per label, set format "folders")', file);
}

function labelCheck(classes: readonly string[] | undefined): (label: string, file: string, line: number) => void {
  if (classes === undefined) return () => {};
  const known = new Set(classes);
  return (label, file, line) => {
    if (!known.has(label)) {
      throw new DataError(`label ${JSON.stringify(label)} is not one of the classes ${JSON.stringify(classes)}`, file, line);
    }
  };
}

/** A JSONL label: a string, or a number (class ids written as numbers), as text. */
function labelOf(item: JsonlRecord, field: string, file: string): string {
  const value = Object.hasOwn(item.record, field) ? item.record[field] : undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && !isBlank(value)) return value;
  if (typeof value === 'string') throw new DataError(`empty label in field "${field}"`, file, item.line);
  if (value === undefined) return stringField(item, field, file); // throws: no such field
  throw new DataError(`field "${field}" is ${typeName(value)}, expected a string or a number`, file, item.line);
}

interface LabelFolders {
  classes: string[];
  /** Label -> its folders (one per root that has it). */
  folders: Map<string, string[]>;
}

async function labelFolders(o: LabelledSource): Promise<LabelFolders> {
  const roots = typeof o.path === 'string' ? [o.path] : o.path;
  const folders = new Map<string, string[]>();
  for (const root of roots) {
    const stat = await fs.promises.stat(root).catch(() => null);
    if (!stat?.isDirectory()) throw new DataError('not a directory: format "folders" reads <path>/<label>/*.txt', root);
    for (const name of await subdirectories(root)) folders.set(name, [...(folders.get(name) ?? []), path.resolve(root, name)]);
  }
  const where = roots.join(', ');
  for (const c of o.classes ?? []) if (!folders.has(c)) throw new DataError(`no folder for class ${JSON.stringify(c)}`, where);
  const classes = o.classes ?? [...folders.keys()].sort(byCodeUnit);
  if (classes.length < 2) {
    const found = classes.join(', ') || 'none';
    throw new DataError(`a labelled set needs at least two classes; found ${classes.length} label folder(s) (${found})`, where);
  }
  return { classes, folders };
}

async function folderFiles(o: LabelledSource): Promise<{ classes: string[]; files: { file: string; label: string }[] }> {
  const { classes, folders } = await labelFolders(o);
  const files = new Map<string, string>(); // file -> label; a root given twice lists its files once
  for (const label of classes) {
    // A label folder may be empty (a class absent from this split); it still names a class.
    for (const folder of folders.get(label)!) for (const file of await filesUnder(folder, extensionsFor('text'))) files.set(file, label);
  }
  const sorted = [...files.keys()].sort(byCodeUnit);
  return { classes, files: sorted.map((file) => ({ file, label: files.get(file)! })) };
}
