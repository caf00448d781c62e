// Visits every value reachable from a pickled object once (a memo can share objects and even make cycles),
// depth first in insertion order, with an explicit stack: a hostile file can nest lists a million deep.
// Paths are linked lists, so a deep one costs nothing until something asks for its name.
import { OpaqueObject } from './pickle.js';

export interface Path {
  readonly parent: Path | null;
  readonly key: string;
}

const MAX_NAME_KEYS = 64;

/** The keys of `path` from the top joined with '.' (the deepest 64 only, after '...', for absurd nesting). */
export function pathName(path: Path | null): string {
  const keys: string[] = [];
  for (let p = path; p && keys.length <= MAX_NAME_KEYS; p = p.parent) keys.push(p.key);
  if (keys.length > MAX_NAME_KEYS) keys[MAX_NAME_KEYS] = '...';
  return keys.reverse().join('.');
}

/** A dict key as a path component. */
export function keyName(key: unknown): string {
  if (typeof key === 'string') return key;
  if (typeof key === 'number' || typeof key === 'bigint' || typeof key === 'boolean') return String(key);
  return key === null ? 'None' : '(key)';
}

/**
 * Calls `visit` for `root` and everything inside it (list items, dict keys and values, an opaque object's
 * arguments and state): for every reference (an object saved under three keys is visited three times, with
 * each path), but looks inside each object only once, and not at all where `visit` returns false.
 */
export function walk(root: unknown, visit: (value: unknown, path: Path | null) => boolean | void, rootPath: Path | null = null): void {
  const seen = new Set<object>();
  const todo: [unknown, Path | null][] = [[root, rootPath]];
  for (let item = todo.pop(); item; item = todo.pop()) {
    const [value, path] = item;
    if (visit(value, path) === false || typeof value !== 'object' || value === null || seen.has(value)) continue;
    seen.add(value);
    const children: [unknown, Path | null][] = [];
    if (Array.isArray(value)) value.forEach((child, i) => children.push([child, { parent: path, key: String(i) }]));
    else if (value instanceof Map) {
      for (const [key, child] of value) {
        if (typeof key === 'object' && key !== null) children.push([key, { parent: path, key: '(key)' }]);
        children.push([child, { parent: path, key: keyName(key) }]);
      }
    } else if (value instanceof OpaqueObject) {
      children.push([value.global, path], [value.args, { parent: path, key: 'args' }], [value.state, path]);
    }
    for (let i = children.length - 1; i >= 0; i--) todo.push(children[i]!);
  }
}
