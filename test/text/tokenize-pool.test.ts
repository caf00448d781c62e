import os from 'node:os';

import { describe, expect, it } from 'vitest';

import { liveModelCount } from '../../src/model/live-models.js';
import { LanguageModel } from '../../src/model/language-model.js';
import { threadCount } from '../../src/text/tokenize-pool.js';

describe('the tokenization thread budget', () => {
  it("takes every core under 'auto', minus the threads training takes, at least one", () => {
    const cores = os.availableParallelism();
    expect(threadCount('auto', 0)).toBe(cores);
    expect(threadCount('auto', cores)).toBe(1);
    expect(threadCount('auto', 1)).toBe(Math.max(1, cores - 1));
    expect(threadCount(3, cores)).toBe(3); // a number is taken as given
  });

  it('knows while this process holds a model (its default for alongsideTraining)', () => {
    const before = liveModelCount();
    const model = new LanguageModel({ vocabSize: 16, embSize: 4, hiddenSize: 6, numLayers: 1 });
    expect(liveModelCount()).toBe(before + 1);
    model.dispose();
    expect(liveModelCount()).toBe(before);
    model.dispose(); // twice is harmless
    expect(liveModelCount()).toBe(before);
  });
});
