// Every option object crossing the public API is parsed with zod here, so a bad field is reported by its
// path ("benchmarkMatmul options: size: Too big: expected number to be <=16384"), never passed on.
import { z } from 'zod';

export class OptionsError extends Error {
  readonly code = 'ERR_ULMFIT_OPTIONS';
  constructor(
    message: string,
    readonly issues: z.core.$ZodIssue[],
  ) {
    super(message);
    this.name = 'OptionsError';
  }
}

export function validate<S extends z.ZodType>(schema: S, value: unknown, label: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const where = issue.path.length ? issue.path.map(String).join('.') : '(value)';
    return `${where}: ${issue.message}`;
  });
  throw new OptionsError(`${label}: ${lines.join('; ')}`, result.error.issues);
}
