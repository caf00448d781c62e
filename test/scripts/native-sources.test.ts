import fs from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { nativeSources } from '../../scripts/native-sources.js';
import { PACKAGE_ROOT } from '../helpers/child.js';

describe('the native source list', () => {
  it('names every addon source once (the preloader is built on its own), and both builds read it', () => {
    const onDisk = fs
      .readdirSync(path.join(PACKAGE_ROOT, 'native'))
      .filter((f) => f.endsWith('.cc') && f !== 'loader.cc')
      .map((f) => `native/${f}`)
      .sort();
    expect(nativeSources()).toEqual(onDisk);
    expect(fs.readFileSync(path.join(PACKAGE_ROOT, 'binding.gyp'), 'utf8')).toContain('<!@(node scripts/native-sources.js)');
    expect(fs.readFileSync(path.join(PACKAGE_ROOT, 'CMakeLists.txt'), 'utf8')).toContain('file(STRINGS native/sources.txt ULMFIT_SOURCES)');
    expect(fs.readFileSync(path.join(PACKAGE_ROOT, 'CMakeLists.txt'), 'utf8')).not.toMatch(/^\s+native\/\w+\.cc$/m);
  });
});
