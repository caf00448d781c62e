// Extra tokenizer rules from a module, the form that reaches worker threads (functions cannot be sent to
// them). The module exports `preRules` and/or `postRules`, arrays of functions.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import type { PostRule, PreRule } from './rules.js';

/** A file path (relative to the working directory) or a file: URL, as an absolute file: URL. */
export function rulesModuleUrl(specifier: string): string {
  return specifier.startsWith('file:') ? specifier : pathToFileURL(path.resolve(specifier)).href;
}

export async function importRules(url: string): Promise<{ preRules?: PreRule[]; postRules?: PostRule[] }> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new Error(`cannot import the rules module ${url}: ${(error as Error).message}`, { cause: error });
  }
  const out: { preRules?: PreRule[]; postRules?: PostRule[] } = {};
  for (const key of ['preRules', 'postRules'] as const) {
    const value = mod[key];
    if (value === undefined) continue;
    if (!Array.isArray(value) || !value.every((f) => typeof f === 'function')) {
      throw new Error(`the rules module ${url}: "${key}" must be an array of functions`);
    }
    out[key] = value as never;
  }
  if (!out.preRules && !out.postRules) throw new Error(`the rules module ${url} exports neither "preRules" nor "postRules"`);
  return out;
}
