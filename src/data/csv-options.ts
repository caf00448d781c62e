// The CSV options both readers take: which columns (by header or position) and the file's layout.
import { z } from 'zod';

export const CsvColumnSchema = z.union([z.string().min(1), z.number().int().min(0)]);

export const CsvLayoutFields = {
  header: z
    .boolean()
    .default(true)
    .describe('CSV: the first row names the columns; false for files such as AG News, where columns are positions.'),
  delimiter: z.string().min(1).max(8).default(',').describe("CSV: the field separator ('\\t' for TSV)."),
};
