// Conformance with fastai 2.7 + spaCy 3.8 on real and hard documents: test/golden/tokenizer.jsonl holds
// each document's text and the tokens the Python reference made (test/golden/tokenizer_golden.py).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { expect, it } from 'vitest';

import { Tokenizer } from '../../src/text/tokenizer.js';

const GOLDEN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'golden', 'tokenizer.jsonl');

interface GoldenDoc {
  id: string;
  text: string;
  tokens: string;
}

/** Levenshtein distance between two token sequences (insert, delete, substitute: 1 each). */
function editDistance(a: readonly string[], b: readonly string[]): number {
  // Shared ends cost nothing; only the middle needs the table.
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const x = a.slice(start, endA);
  const y = b.slice(start, endB);
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[y.length]!;
}

/** The first difference with a little context: "… a b [golden x y | ours x] c …". */
function compactDiff(golden: readonly string[], ours: readonly string[]): string {
  let start = 0;
  while (start < golden.length && start < ours.length && golden[start] === ours[start]) start++;
  let g = golden.length;
  let o = ours.length;
  while (g > start && o > start && golden[g - 1] === ours[o - 1]) {
    g--;
    o--;
  }
  const show = (tokens: readonly string[]) =>
    tokens
      .slice(0, 8)
      .map((t) => JSON.stringify(t))
      .join(' ') + (tokens.length > 8 ? ' …' : '');
  const before = golden
    .slice(Math.max(0, start - 3), start)
    .map((t) => JSON.stringify(t))
    .join(' ');
  const after = golden
    .slice(g, g + 3)
    .map((t) => JSON.stringify(t))
    .join(' ');
  return `… ${before} [golden ${show(golden.slice(start, g))} | ours ${show(ours.slice(start, o))}] ${after} …`;
}

it('matches the Python reference on the golden documents', () => {
  const docs = fs
    .readFileSync(GOLDEN, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as GoldenDoc);
  expect(docs.length).toBeGreaterThan(1000);

  const tokenizer = new Tokenizer();
  let goldenTokens = 0;
  let distance = 0;
  let identical = 0;
  const worst: { id: string; distance: number; diff: string }[] = [];
  for (const doc of docs) {
    const golden = doc.tokens.split(' ');
    const ours = tokenizer.tokenize(doc.text);
    goldenTokens += golden.length;
    if (ours.length === golden.length && ours.every((t, i) => t === golden[i])) {
      identical++;
      continue;
    }
    const d = editDistance(golden, ours);
    distance += d;
    worst.push({ id: doc.id, distance: d, diff: compactDiff(golden, ours) });
  }

  const agreement = 1 - distance / goldenTokens;
  const identicalShare = identical / docs.length;
  worst.sort((a, b) => b.distance - a.distance || a.id.localeCompare(b.id));
  console.log(
    `tokenizer conformance: ${docs.length} documents, ${goldenTokens} golden tokens; token agreement ` +
      `${(agreement * 100).toFixed(4)}% (edit distance ${distance}); identical documents ${identical} ` +
      `(${(identicalShare * 100).toFixed(2)}%)`,
  );
  for (const w of worst.slice(0, 10)) console.log(`  ${w.id} (distance ${w.distance}): ${w.diff}`);

  expect(agreement).toBeGreaterThanOrEqual(0.999);
  expect(identicalShare).toBeGreaterThanOrEqual(0.97);
});
