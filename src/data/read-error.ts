// One error class for every problem in the input data, so a caller can tell bad data (fix the files) from bad
// options (OptionsError) or a broken install. The message leads with file:line, as compilers do. What a
// message shows of the data is escaped where it is not printable and cut short: a binary file given as text
// makes a readable error, never one full of control characters.
export class DataError extends Error {
  readonly code = 'ERR_ULMFIT_DATA';
  constructor(
    message: string,
    /** The file (or pattern, or folder) at fault; null when the problem is the whole set. */
    readonly file: string | null = null,
    /** 1-based line in `file`; null when no single line is at fault. */
    readonly line: number | null = null,
  ) {
    super(printable(file === null ? message : `${file}${line === null ? '' : `:${line}`}: ${message}`));
    this.name = 'DataError';
  }
}

// C0 and C1 control characters, DEL, lone surrogates, and the invisible format and separator characters.
const UNPRINTABLE =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** `text` with every character that is not printable written as a \u escape. */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A piece of the data for a message: quoted, escaped where not printable, cut to its first `max` characters. */
export function excerpt(text: string, max = 32): string {
  const chars = Array.from(text);
  const shown = printable(JSON.stringify(chars.slice(0, max).join('')).slice(1, -1));
  return chars.length > max ? `"${shown}…" (${chars.length} characters)` : `"${shown}"`;
}

/** A message from a parser, each quoted string in it (JSON-escaped) shown as an excerpt. */
export function withExcerpts(message: string): string {
  return message.replace(/"(?:[^"\\]|\\.)*"/g, (quoted) => {
    try {
      return excerpt(JSON.parse(quoted) as string);
    } catch {
      return quoted;
    }
  });
}
