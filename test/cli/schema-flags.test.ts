// Flags made from zod schemas: each field's type gives its flag's parsing, and only flags given on the command
// line reach the options (the API's defaults stay the API's).
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';

import { addSchemaFlags, applyFlags } from '../../src/cli/schema-flags.js';

const Schema = z.object({
  batchSize: z.number().int().default(64).describe('rows'),
  column: z.union([z.string(), z.number().int()]).optional().describe('a header name or a position'),
  maxSkippedSteps: z
    .union([z.number().int().nonnegative(), z.literal(Infinity)])
    .default(100)
    .describe('a count or Infinity'),
  maxLen: z
    .union([z.number().int().min(1), z.literal(Infinity), z.null()])
    .default(1440)
    .describe('tokens or Infinity'),
  order: z.enum(['a', 'b']).default('a').describe('an enum'),
  fields: z
    .union([z.union([z.string(), z.number().int()]), z.array(z.union([z.string(), z.number().int()]))])
    .optional()
    .describe('one column or several'),
});

function parse(args: string[]): Record<string, unknown> {
  const cmd = new Command('t').exitOverride();
  const flags = addSchemaFlags(cmd, Schema);
  cmd.parse(args, { from: 'user' });
  return applyFlags(cmd, flags, {});
}

describe('addSchemaFlags', () => {
  it('parses numbers, a union of a name and a position, and Infinity where the schema takes it', () => {
    expect(parse(['--batch-size', '8', '--column', '2', '--max-skipped-steps', 'Infinity', '--max-len', 'Infinity'])).toEqual({
      batchSize: 8,
      column: 2,
      maxSkippedSteps: Infinity,
      maxLen: Infinity,
    });
    expect(parse(['--column', 'Infinity'])).toEqual({ column: 'Infinity' }); // a header may be named so
    expect(Schema.parse(parse(['--max-skipped-steps', '0'])).maxSkippedSteps).toBe(0);
  });

  it('reads a comma-separated list where the schema takes one value or several', () => {
    expect(parse(['--fields', 'title,body'])).toEqual({ fields: ['title', 'body'] });
    expect(parse(['--fields', '1, 2'])).toEqual({ fields: [1, 2] });
    expect(parse(['--fields', 'title'])).toEqual({ fields: 'title' });
    expect(parse(['--column', 'a,b'])).toEqual({ column: 'a,b' }); // one value only: a header may hold a comma
  });

  it('passes only what was given; the schema refuses what does not fit, naming the field', () => {
    expect(parse([])).toEqual({});
    const r = Schema.safeParse(parse(['--max-skipped-steps', 'lots']));
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.path).toEqual(['maxSkippedSteps']);
    expect(() => parse(['--order', 'c'])).toThrow(/Allowed choices are a, b/);
  });
});
