// Documents of several text fields (a title and a body, a subject and a message), joined into one text the
// way fastai joins them: "xxfld 1 <first> xxfld 2 <second> ...", so that the model can tell the fields apart.
// A document of one field is its text alone, unmarked, as in fastai.
import { z } from 'zod';

import { CsvColumnSchema } from './csv-options.js';
import { DataError } from './read-error.js';
import { FLD } from '../text/special-tokens.js';

/** One JSONL field, or several, joined in this order. */
export const TextFieldsSchema = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]);

/** One CSV column (a header or a 0-based position), or several, joined in this order. */
export const TextColumnsSchema = z.union([CsvColumnSchema, z.array(CsvColumnSchema).min(1)]);

/** The fields as a list. */
export function fieldList<T extends string | number>(fields: T | readonly T[]): T[] {
  return Array.isArray(fields) ? [...(fields as readonly T[])] : [fields as T];
}

/** One document's text from its fields' values, in field order: marked when there are several. */
export function joinFields(values: readonly string[]): string {
  if (values.length === 1) return values[0]!;
  return values.map((v, i) => `${FLD} ${i + 1} ${v}`).join(' ');
}

/** Whether every field is empty or white space (such a document is skipped, markers or not). */
export function fieldsBlank(values: readonly string[]): boolean {
  return values.every((v) => !/\S/.test(v));
}

/**
 * A text to classify, for a model trained on documents of `fields`: a string (its only field, or text already
 * joined with joinFields), the field values in order, or an object keyed by field name.
 */
export type FieldsInput = string | readonly string[] | Readonly<Record<string, string>>;

export function textOfFields(input: FieldsInput, fields: readonly (string | number)[] | null, what: string): string {
  if (typeof input === 'string') return input;
  const names = fields ?? ['text'];
  let values: unknown[];
  if (Array.isArray(input)) {
    if (input.length !== names.length)
      throw new DataError(`${what} has ${input.length} field values; the model reads ${names.length} (${names.join(', ')})`);
    values = input;
  } else if (typeof input === 'object' && input !== null) {
    const record = input as Record<string, unknown>;
    for (const name of names)
      if (!Object.hasOwn(record, String(name))) throw new DataError(`${what} has no field "${name}" (the model reads ${names.join(', ')})`);
    values = names.map((name) => record[String(name)]);
  } else {
    throw new DataError(
      `${what} must be a string, a list of field values or an object of fields, got ${input === null ? 'null' : typeof input}`,
    );
  }
  values.forEach((v, i) => {
    if (typeof v !== 'string') throw new DataError(`${what}: field "${names[i]}" must be a string, got ${v === null ? 'null' : typeof v}`);
  });
  return joinFields(values as string[]);
}
