// fastai's itos*.pkl through the restricted interpreter: lists of strings in, everything else refused.
import { beforeAll, describe, expect, it } from 'vitest';

import { CheckpointError, readItos } from '../../src/index.js';
import { torchFixtures, type Fixtures } from './fixtures.js';
import { PickleBuilder } from './pickle-builder.js';

let fx: Fixtures | null = null;
beforeAll(() => {
  fx = torchFixtures();
});

describe('readItos', () => {
  it('reads pickle.dump of a list of strings, default protocol and protocol 2, non-ASCII included', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    const expected = fx.json('itos.json');
    expect(readItos(fx.bytes('itos.pkl'), 'itos.pkl')).toEqual(expected);
    expect(readItos(fx.bytes('itos_p2.pkl'), 'itos_p2.pkl')).toEqual(expected);
  });

  it('refuses anything but a list of strings, by file', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    expect(() => readItos(fx!.bytes('not_itos.pkl'), 'not_itos.pkl')).toThrow(/^not_itos\.pkl: holds a dict, not a list of strings$/);
    expect(() => readItos(fx!.bytes('itos_with_int.pkl'), 'itos_with_int.pkl')).toThrow(
      /itos_with_int\.pkl: item 1 of the list is a number, not a string/,
    );
    expect(() => readItos(fx!.bytes('lm_v2.pth'), 'lm_v2.pth')).toThrow(CheckpointError);
  });

  it('refuses a pickle that names a callable, whatever it is', ({ skip }) => {
    if (!fx) return skip('no python3 with torch');
    expect(() => readItos(fx!.bytes('evil_eval.pkl'), 'evil_eval.pkl')).toThrow(
      /^evil_eval\.pkl: pickle byte 36: the pickle names builtins\.eval, which a list of strings never needs; refusing to load$/,
    );
    expect(() => readItos(fx!.bytes('evil_system.pkl'), 'evil_system.pkl')).toThrow(
      /names posix\.system, which a list of strings never needs/,
    );
  });

  it('needs no torch for hand-made pickles', () => {
    const list = new PickleBuilder().proto(2).emptyList().mark().str('a').str('ü').raw(0x65).stop().bytes();
    expect(readItos(list, 'v.pkl')).toEqual(['a', 'ü']);
    const eval4 = new PickleBuilder()
      .proto(4)
      .raw(0x8c, 8, ...new TextEncoder().encode('builtins'), 0x8c, 4, ...new TextEncoder().encode('eval'), 0x93);
    expect(() => readItos(eval4.str('1+1').tuple1().reduce().stop().bytes(), 'e.pkl')).toThrow(/names builtins\.eval/);
    const badUtf8 = new PickleBuilder().proto(2).raw(0x58, 1, 0, 0, 0, 0xff).stop().bytes();
    expect(() => readItos(badUtf8, 'u.pkl')).toThrow(/u\.pkl: pickle byte 2: a string is not valid UTF-8/);
  });
});
