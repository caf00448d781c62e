// fastai's pre-rules and post-rule, each on hand cases. Every expected value is what the Python statement of
// the rules (test/golden/tokenizer_golden.py, i.e. fastai 2.7's code) returns for the input.
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_PRE_RULES,
  applyDefaultPreRules,
  applyRulesBeforeCase,
  caseWord,
  fixHtml,
  lowercase,
  replaceAllCaps,
  replaceMaj,
  replaceRep,
  replaceSpace,
  replaceWrep,
  rmUselessSpaces,
  specAddSpaces,
} from '../../src/text/rules.js';

type Cases = [input: string, expected: string][];

function check(rule: (s: string) => string, cases: Cases): void {
  for (const [input, expected] of cases) expect(rule(input), JSON.stringify(input)).toBe(expected);
}

describe('fixHtml', () => {
  it("applies fastai's literal replacements before decoding (so &amp; becomes &&)", () => {
    check(fixHtml, [
      ['a &amp; b', 'a && b'],
      ['it&#39;s', "it&'s"],
      ['don#39;t', "don't"],
      ['&quot;hi&quot;', "&'hi&'"],
      ['x&nbsp;y', 'x& y'],
      ['&#146;', "&'"],
      ['&#36;5', '&$5'],
      ['a<br />b', 'a\nb'],
      ['line\\nnext', 'line\nnext'],
      ['say \\"hi\\"', 'say "hi"'],
      ['<unk> word', 'xxunk word'],
      ['3 @.@ 5', '3.5'],
      ['well @-@ known', 'well-known'],
      ['wait...', 'wait …'],
    ]);
  });

  it("decodes entities as Python's html.unescape does", () => {
    check(fixHtml, [
      ['&lt;b&gt;', '<b>'],
      ['&copy; 2024', '© 2024'],
      ['&eacute;t&eacute;', 'été'],
      ['&#8364;5', '€5'],
      ['&#x20AC;', '€'],
      ['&#65', 'A'],
      // Windows-1252 for 0x80..0x9F, U+FFFD for 0, surrogates and beyond U+10FFFF, controls dropped.
      ['&#128;', '€'],
      ['&#0;', '\ufffd'],
      ['&#1;x', 'x'],
      ['&#x110000;', '\ufffd'],
      ['&#xD800;', '\ufffd'],
      // The longest known name wins; legacy names need no semicolon.
      ['&notit;', '¬it;'],
      ['&amp', '&'],
      ['&ampx', '&x'],
      ['&frac12', '½'],
      ['AT&T', 'AT&T'],
    ]);
  });
});

describe('replaceRep', () => {
  it('replaces a non-space character repeated 3+ times, counting code points', () => {
    check(replaceRep, [
      ['sooooo', 's xxrep 5 o '],
      ['aa', 'aa'],
      ['aaa', ' xxrep 3 a '],
      ['!!!!', ' xxrep 4 ! '],
      ['a   b', 'a   b'],
      ['😀😀😀', ' xxrep 3 😀 '],
      ['...', ' xxrep 3 . '],
      ['xxxyyy', ' xxrep 3 x  xxrep 3 y '],
      ['éééé', ' xxrep 4 é '],
      ['ab\n\n\ncd', 'ab\n\n\ncd'],
      ['1000000', '1 xxrep 6 0 '],
    ]);
  });
});

describe('replaceWrep', () => {
  it('replaces a word repeated 3+ times, keeping the character after the last one', () => {
    check(replaceWrep, [
      ['a a a', ' xxwrep 3 a '],
      ['go go go go', ' xxwrep 4 go '],
      ['no no', 'no no'],
      ['go go go!', ' xxwrep 3 go !'],
      ['go go gone', 'go go gone'],
      ['the the the end', ' xxwrep 3 the  end'],
      ['hey hey hey\nyou', ' xxwrep 3 hey \nyou'],
      ['a a a b b b', ' xxwrep 3 a  b b b'],
      ['x go go go', 'x xxwrep 3 go '],
      ['go, go, go', 'go, go, go'],
      ['😀 😀 😀', '😀 😀 😀'],
      ['Go go go', 'Go go go'],
      ['é é é', ' xxwrep 3 é '],
    ]);
  });
});

describe('spaces', () => {
  it('specAddSpaces puts spaces around / # \\', () => {
    check(specAddSpaces, [
      ['and/or', 'and / or'],
      ['#tag', ' # tag'],
      ['a\\b', 'a \\ b'],
      ['x//y', 'x /  / y'],
      ['plain', 'plain'],
    ]);
  });

  it('rmUselessSpaces collapses runs of plain spaces only', () => {
    check(rmUselessSpaces, [
      ['a  b', 'a b'],
      ['a   b  c', 'a b c'],
      ['a \n  b', 'a \n b'],
      ['a\t\tb', 'a\t\tb'],
    ]);
  });
});

describe('case rules', () => {
  it('replaceAllCaps marks whole words in capitals (A-Z first, no a-z)', () => {
    check(replaceAllCaps, [
      ['HELLO world', 'xxup hello world'],
      ['I am', 'i am'],
      ["USA's", "USA's"],
      ['NASA, FBI', 'xxup nasa, xxup fbi'],
      ['CAFÉ', 'xxup café'],
      ['ÉCOLE', 'ÉCOLE'],
      ['ABc', 'ABc'],
      ['A1', 'xxup a1'],
      ['HELLO-WORLD', 'xxup hello-world'],
      ['x ABC\nDEF', 'x xxup abc\nxxup def'],
    ]);
  });

  it('replaceMaj marks whole words with one leading capital', () => {
    check(replaceMaj, [
      ['Hello world', 'xxmaj hello world'],
      ['I am', 'i am'],
      ['McDonald', 'McDonald'],
      ['Naïve', 'xxmaj naïve'],
      ['A', 'a'],
      ['Hello, World!', 'xxmaj hello, xxmaj world!'],
      ['Über', 'Über'],
      ['iPhone', 'iPhone'],
      ['Hello\tThere', 'xxmaj hello\txxmaj there'],
    ]);
  });

  it("lowercase lowers, strips Python's whitespace and adds xxbos", () => {
    check(lowercase, [
      ['Hello', 'xxbos hello'],
      ['  padded  ', 'xxbos padded'],
      ['\n\x1c', 'xxbos '],
      ['ΟΔΟΣ', 'xxbos οδος'],
      ['İstanbul', 'xxbos i̇stanbul'],
      ['', 'xxbos '],
    ]);
  });

  it('caseWord is the two case rules and lowercase on one word', () => {
    for (const word of ['HELLO', 'Hello', 'hello', 'A', 'I', 'McDonald', 'CAFÉ', 'ΟΔΟΣ', 'A1', 'Ab-Cd', 'X.', '😀', 'É']) {
      const [marker, lowered] = caseWord(word);
      const expected = lowercase(replaceMaj(replaceAllCaps(word))).slice('xxbos '.length);
      expect(marker ? `${marker} ${lowered}` : lowered, word).toBe(expected);
    }
  });
});

describe('rule lists', () => {
  it('applyDefaultPreRules equals the default rules applied in turn', () => {
    const texts = [
      'The USA and the U.K. AGREED: "Hello World!!!" &amp; go go go... I I I',
      '  A   B\tC\nDéjà VU / #1 \\ x  ',
      'ΣΑΣ Σ σ, NASA’s HQ; x@y.com http://A.B/C?D=E',
      '',
    ];
    for (const text of texts) {
      const stepwise = DEFAULT_PRE_RULES.reduce((t, rule) => rule(t), text);
      expect(applyDefaultPreRules(text)).toBe(stepwise);
      expect(lowercase(replaceMaj(replaceAllCaps(applyRulesBeforeCase(text))))).toBe(stepwise);
    }
  });

  it('replaceSpace turns spaces inside a token into ▁', () => {
    expect(replaceSpace('\n ')).toBe('\n\u2581');
    expect(replaceSpace('a b c')).toBe('a\u2581b\u2581c');
    expect(replaceSpace('word')).toBe('word');
  });
});
