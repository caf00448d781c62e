// One error class for every problem in the input data, so a caller can tell bad data (fix the files) from bad
// options (OptionsError) or a broken install. The message leads with file:line, as compilers do.
export class DataError extends Error {
  readonly code = 'ERR_ULMFIT_DATA';
  constructor(
    message: string,
    /** The file (or pattern, or folder) at fault; null when the problem is the whole set. */
    readonly file: string | null = null,
    /** 1-based line in `file`; null when no single line is at fault. */
    readonly line: number | null = null,
  ) {
    super(file === null ? message : `${file}${line === null ? '' : `:${line}`}: ${message}`);
    this.name = 'DataError';
  }
}
