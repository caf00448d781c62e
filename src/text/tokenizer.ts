// The tokenizer: fastai v2's English text processing (fastai 2.7 with spacy.blank('en'), spaCy 3.8).
// A document goes through the pre-rules (HTML clean-up, xxrep, xxwrep, xxup, xxmaj, lower case, xxbos),
// then spaCy-style word splitting with fastai's special tokens kept whole, then the post-rules (a space
// inside a token becomes ▁). Extra rules are appended to fastai's lists, as fastai does when its rule list
// is extended: extra pre-rules therefore see the lowercased text that starts with "xxbos ".
import { z } from 'zod';

import { validate } from '../options.js';
import { isSpace } from './char-classes.js';
import { EnglishSplitter } from './english.js';
import { DEFAULT_POST_RULES, applyDefaultPreRules, applyRulesBeforeCase, caseWord, type PostRule, type PreRule } from './rules.js';
import { BOS, SPECIAL_TOKENS } from './special-tokens.js';

const HEAD: readonly string[] = [BOS];

/** Identifies the built-in rules; stored with vocabularies. Bump it whenever any token can change. */
export const RULES_VERSION = 'fastai2.7-spacy3.8-en.1';

const Rule = <T>() => z.custom<T>((v) => typeof v === 'function', { message: 'must be a function' });

export const TokenizerOptionsSchema = z
  .object({
    /** Run on the document after the built-in pre-rules (string -> string). */
    preRules: z.array(Rule<PreRule>()).default([]),
    /** Run on every token after the built-in post-rule (token -> token); must be pure (results are cached). */
    postRules: z.array(Rule<PostRule>()).default([]),
    /** Names the extra rules in rulesVersion, so vocabularies built with different extra rules differ. */
    rulesName: z
      .string()
      .regex(/^[\w.-]{1,64}$/, 'must be 1-64 letters, digits, "_", "." or "-"')
      .optional(),
    /** Whitespace-delimited chunks whose tokens are cached (the cache holds up to twice this many). */
    cacheSize: z.number().int().min(1).max(10_000_000).default(50_000),
  })
  .strict();

export type TokenizerOptionsInput = z.input<typeof TokenizerOptionsSchema>;
export type TokenizerOptions = z.output<typeof TokenizerOptionsSchema>;

export class Tokenizer {
  /** The rule set, as stored with a vocabulary: RULES_VERSION, plus "+name" when extra rules are set. */
  readonly rulesVersion: string;
  private readonly extraPreRules: readonly PreRule[];
  private readonly splitter: EnglishSplitter;

  constructor(options: TokenizerOptionsInput = {}) {
    const o = validate(TokenizerOptionsSchema, options, 'tokenizer options');
    const custom = o.preRules.length > 0 || o.postRules.length > 0;
    this.rulesVersion = custom || o.rulesName ? `${RULES_VERSION}+${o.rulesName ?? 'custom'}` : RULES_VERSION;
    this.extraPreRules = o.preRules;
    const post = [...DEFAULT_POST_RULES, ...o.postRules];
    this.splitter = new EnglishSplitter({
      specialTokens: SPECIAL_TOKENS,
      cacheSize: o.cacheSize,
      postRule: post.length === 1 ? post[0]! : (t) => post.reduce((acc, rule) => rule(acc), t),
      // Without extra pre-rules the case rules and lower-casing run word by word inside the splitter, on
      // cache misses only (the same tokens: see caseWord).
      chunkRule: o.preRules.length === 0 ? caseWord : null,
    });
  }

  /** The document's tokens; the first is xxbos. */
  tokenize(text: string): string[] {
    if (this.extraPreRules.length === 0) {
      // fastai's lowercase rule: xxbos, then the text without its leading and trailing whitespace.
      const t = applyRulesBeforeCase(text);
      let start = 0;
      let end = t.length;
      while (start < end && isSpace(t.charCodeAt(start))) start++;
      while (end > start && isSpace(t.charCodeAt(end - 1))) end--;
      return this.splitter.split(t, start, end, HEAD);
    }
    let t = applyDefaultPreRules(text);
    for (const rule of this.extraPreRules) t = rule(t);
    return this.splitter.split(t);
  }
}
