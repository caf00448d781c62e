// The tokenizer end to end on hand cases (expected tokens are what fastai 2.7 with spaCy 3.8 gives, via
// test/golden/tokenizer_golden.py), extra rules, options errors, and the word splitter on its own.
import { describe, expect, it } from 'vitest';

import { OptionsError } from '../../src/options.js';
import { EnglishSplitter, splitWords } from '../../src/text/english.js';
import { RULES_VERSION, Tokenizer } from '../../src/text/tokenizer.js';

const CASES: [string, string[]][] = [
  ["I don't think it's THAT bad.", ['xxbos', 'i', 'do', "n't", 'think', 'it', "'s", 'xxup', 'that', 'bad', '.']],
  ["We're gonna win, can't lose.", ['xxbos', 'xxmaj', 'we', "'re", 'gon', 'na', 'win', ',', 'ca', "n't", 'lose', '.']],
  ['Dont worry, youre fine.', ['xxbos', 'xxmaj', 'do', 'nt', 'worry', ',', 'you', 're', 'fine', '.']],
  ['a\n\nb', ['xxbos', 'a', '\n\n', 'b']],
  ['a \n b', ['xxbos', 'a', '\n\u2581', 'b']],
  ['a\tb', ['xxbos', 'a', '\t', 'b']],
  [
    'Mr. Smith met Dr. Jones at 5 p.m. e.g. today.',
    ['xxbos', 'xxmaj', 'mr', '.', 'xxmaj', 'smith', 'met', 'xxmaj', 'dr', '.', 'xxmaj', 'jones', 'at', '5', 'p.m.', 'e.g.', 'today', '.'],
  ],
  ['x-a. and (a.m.)', ['xxbos', 'x', '-', 'a.', 'and', '(', 'a.m.', ')']],
  ['o:p> im.', ['xxbos', 'o', ':p', '>', 'i', 'm.']],
  [
    'Visit www.example.com, or mail me@example.com!',
    ['xxbos', 'xxmaj', 'visit', 'xxrep', '3', 'w', '.example.com', ',', 'or', 'mail', 'me@example.com', '!'],
  ],
  ['It costs $5.00 (US$10) or 5km.', ['xxbos', 'xxmaj', 'it', 'costs', '$', '5.00', '(', 'us$10', ')', 'or', '5', 'km', '.']],
  ['Hello :) <3 ^_^', ['xxbos', 'xxmaj', 'hello', ':)', '<3', '^_^']],
  ['sooo goood!!!', ['xxbos', 's', 'xxrep', '3', 'o', 'g', 'xxrep', '3', 'o', 'd', 'xxrep', '3', '!']],
  ['go go go go', ['xxbos', 'xxwrep', '4', 'go']],
  ['Привет, МИР! 東京。', ['xxbos', 'привет', ',', 'мир', '!', '東京', '。']],
  ['&lt;b&gt;bold&lt;/b&gt; a<br />b', ['xxbos', '<', 'b', '>', 'bold', '<', '/', 'b', '>', 'a', '\n', 'b']],
  ['xxmaj word XXBOS', ['xxbos', 'xxmaj', 'word', 'xxup', 'xxbos']],
  ['“Quoted,” she said—loudly…', ['xxbos', '“', 'quoted', ',', '”', 'she', 'said', '—', 'loudly', '…']],
  ['', ['xxbos']],
  ['   ', ['xxbos']],
];

describe('Tokenizer', () => {
  it('tokenizes as fastai does with spacy.blank("en")', () => {
    const tokenizer = new Tokenizer();
    for (const [text, tokens] of CASES) expect(tokenizer.tokenize(text), JSON.stringify(text)).toEqual(tokens);
  });

  it('gives the same tokens from its cache, including after the cache rolls over', () => {
    const tokenizer = new Tokenizer({ cacheSize: 3 });
    for (let round = 0; round < 3; round++) {
      for (const [text, tokens] of CASES) expect(tokenizer.tokenize(text)).toEqual(tokens);
    }
  });

  it('appends extra pre-rules after the built-in ones (they see the lowercased text)', () => {
    const seen: string[] = [];
    const tokenizer = new Tokenizer({
      preRules: [
        (t) => {
          seen.push(t);
          return t.replaceAll('cat', 'dog');
        },
      ],
    });
    expect(tokenizer.tokenize('My Cat sat.')).toEqual(['xxbos', 'xxmaj', 'my', 'xxmaj', 'dog', 'sat', '.']);
    expect(seen).toEqual(['xxbos xxmaj my xxmaj cat sat.']);
  });

  it('gives the built-in tokens when an extra pre-rule changes nothing', () => {
    const plain = new Tokenizer();
    const withRule = new Tokenizer({ preRules: [(t) => t] });
    for (const [text] of CASES) expect(withRule.tokenize(text)).toEqual(plain.tokenize(text));
  });

  it('applies extra post-rules to every token after the built-in one', () => {
    const tokenizer = new Tokenizer({ postRules: [(t) => t.toUpperCase()] });
    expect(tokenizer.tokenize('a \n b')).toEqual(['XXBOS', 'A', '\n\u2581', 'B']);
  });

  it('names its rules in rulesVersion', () => {
    expect(new Tokenizer().rulesVersion).toBe(RULES_VERSION);
    expect(new Tokenizer({ postRules: [(t) => t] }).rulesVersion).toBe(`${RULES_VERSION}+custom`);
    expect(new Tokenizer({ preRules: [(t) => t], rulesName: 'no-urls.2' }).rulesVersion).toBe(`${RULES_VERSION}+no-urls.2`);
  });

  it('reports bad options by path', () => {
    const bad = (options: unknown, message: RegExp) => {
      expect(() => new Tokenizer(options as never)).toThrow(OptionsError);
      expect(() => new Tokenizer(options as never)).toThrow(message);
    };
    bad({ preRules: ['lowercase'] }, /tokenizer options: preRules\.0: must be a function/);
    bad({ postRules: (t: string) => t }, /postRules/);
    bad({ cacheSize: 0 }, /cacheSize/);
    bad({ rulesName: 'has space' }, /rulesName/);
    bad({ lowercase: false }, /lowercase/);
  });
});

describe('EnglishSplitter', () => {
  it("splits text as spaCy's English tokenizer does (no fastai rules)", () => {
    // Expected: [t.text for t in nlp(text)] with spacy.blank('en') plus fastai's special tokens.
    expect(splitWords("xxbos they'll've gone, haven't they?")).toEqual([
      'xxbos',
      'they',
      "'ll",
      "'ve",
      'gone',
      ',',
      'have',
      "n't",
      'they',
      '?',
    ]);
    expect(splitWords('xxbos cannot gotta y’all')).toEqual(['xxbos', 'can', 'not', 'got', 'ta', 'y’', 'all']);
    expect(splitWords('xxbos 10am (3pm) 5km/h')).toEqual(['xxbos', '10', 'am', '(', '3', 'pm', ')', '5', 'km/h']);
  });

  it('splits a region of a text after head tokens', () => {
    const splitter = new EnglishSplitter();
    expect(splitter.split('  x-a.  ', 2, 6, ['xxbos'])).toEqual(['xxbos', 'x', '-', 'a.']);
    expect(splitter.split('a  b')).toEqual(['a', ' ', 'b']);
  });
});
