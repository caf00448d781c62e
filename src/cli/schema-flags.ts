// Command-line flags made from the API's zod schemas, so that the CLI and the library share one source of
// truth: a field `batchSize` of a stage's options becomes `--batch-size <n>`, with the schema's type
// (numbers parsed, booleans as switches, enums as choices), default and description; the API's own
// validation then checks the values as it would any caller's. Fields of nested option objects (the fit
// options, the model config, the vocabulary options) map to their place by a prefix-free flag.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { z } from 'zod';

type Def = {
  type: string;
  innerType?: z.ZodType;
  entries?: Record<string, string>;
  element?: z.ZodType;
  defaultValue?: unknown;
  options?: z.ZodType[];
};

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema under default/optional/prefault wrappers, with its description and default. */
function unwrap(schema: z.ZodType): { core: z.ZodType; description: string | undefined; defaultValue: unknown } {
  let s = schema;
  let description = schema.description;
  let defaultValue: unknown;
  for (;;) {
    const def = defOf(s);
    if (def.type === 'default' || def.type === 'prefault') defaultValue ??= def.defaultValue;
    if (!def.innerType) break;
    s = def.innerType;
    description ??= s.description;
  }
  return { core: s, description, defaultValue };
}

/** Whether a field may be left out (it has a default, or is optional). */
function isOptional(schema: z.ZodType): boolean {
  for (let s: z.ZodType | undefined = schema; s; s = defOf(s).innerType) {
    if (['default', 'prefault', 'optional'].includes(defOf(s).type)) return true;
  }
  return false;
}

/** The types a union takes, nested unions flattened (a list counts as 'array'). */
function unionTypes(schema: z.ZodType): string[] {
  const def = defOf(unwrap(schema).core);
  return def.type === 'union' ? def.options!.flatMap(unionTypes) : [def.type];
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function parseNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
}

/** Where a flag's value goes: a path into the options object (e.g. ['fit', 'clip']). */
export interface FlagTarget {
  attribute: string;
  path: string[];
}

/**
 * Adds a flag per simple field of `schema` (numbers, strings, booleans, enums, lists of those) to `command`,
 * except `skip`; values go to `prefix` in the options object. Returns where each flag's value goes.
 */
export function addSchemaFlags(command: Command, schema: z.ZodObject, prefix: string[] = [], skip: readonly string[] = []): FlagTarget[] {
  const targets: FlagTarget[] = [];
  const taken = new Set(command.options.map((o) => o.attributeName()));
  for (const [name, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    if (skip.includes(name) || taken.has(name)) continue;
    const { core, description, defaultValue } = unwrap(field);
    const def = defOf(core);
    const flag = kebab(name);
    const shownDefault = defaultValue !== undefined && typeof defaultValue !== 'object' ? ` (default: ${String(defaultValue)})` : '';
    const help = `${description ?? name}${shownDefault}`;
    let option: Option;
    const isSwitch = def.type === 'boolean' || (def.type === 'union' && def.options?.some((o) => defOf(unwrap(o).core).type === 'boolean'));
    if (isSwitch) {
      option = defaultValue === true ? new Option(`--no-${flag}`, help) : new Option(`--${flag}`, help);
    } else if (def.type === 'number') {
      option = new Option(`--${flag} <n>`, help).argParser(parseNumber);
    } else if (def.type === 'string') {
      option = new Option(`--${flag} <value>`, help);
    } else if (def.type === 'enum') {
      option = new Option(`--${flag} <value>`, help).choices(Object.values(def.entries!));
    } else if (def.type === 'array' && def.element && ['number', 'string'].includes(defOf(unwrap(def.element).core).type)) {
      const numeric = defOf(unwrap(def.element).core).type === 'number';
      option = new Option(`--${flag} <list>`, `${help}; comma-separated`).argParser((v: string) =>
        v.split(',').map((x) => (numeric ? parseNumber(x) : x.trim())),
      );
    } else if (def.type === 'union' && unionTypes(core).some((t) => t === 'number' || t === 'string')) {
      // e.g. a CSV column: a header name or a 0-based position; a count where Infinity means no limit; a path,
      // where the API also takes the data itself; a field or a list of fields (comma-separated).
      const types = unionTypes(core);
      const takesInfinity = def.options!.some((o) => ((defOf(unwrap(o).core) as { values?: unknown[] }).values ?? []).includes(Infinity));
      const one = types.includes('number')
        ? (v: string) => (/^\d+$/.test(v) ? Number(v) : takesInfinity && v === 'Infinity' ? Infinity : v)
        : (v: string) => v;
      const listed = types.includes('array');
      option = new Option(`--${flag} <value>`, listed ? `${help}; several: comma-separated` : help).argParser((v: string) =>
        listed && v.includes(',') ? v.split(',').map((x) => one(x.trim())) : one(v),
      );
    } else {
      continue; // objects, functions, data: through --config
    }
    // A field the schema requires is a required flag: commander names it when it is missing.
    if (!isOptional(field)) option.makeOptionMandatory();
    command.addOption(option);
    taken.add(name);
    targets.push({ attribute: option.attributeName(), path: [...prefix, name] });
  }
  return targets;
}

/** Puts parsed flag values into an options object (only the flags given on the command line). */
export function applyFlags(command: Command, targets: readonly FlagTarget[], into: Record<string, unknown>): Record<string, unknown> {
  const values = command.opts();
  for (const t of targets) {
    if (command.getOptionValueSource(t.attribute) !== 'cli') continue;
    let at = into;
    for (const key of t.path.slice(0, -1)) at = (at[key] ??= {}) as Record<string, unknown>;
    at[t.path.at(-1)!] = values[t.attribute];
  }
  return into;
}
