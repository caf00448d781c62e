// The addon's C++ sources, listed once in native/sources.txt and read by both builds: binding.gyp runs this
// script (`<!@(node scripts/native-sources.js)`), CMakeLists.txt reads the file itself.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOURCES_FILE = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'native', 'sources.txt');

/** The listed sources, as paths relative to the package root. */
export function nativeSources() {
  return fs
    .readFileSync(SOURCES_FILE, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) console.log(nativeSources().join(' '));
