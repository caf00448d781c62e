// English word splitting that reproduces spaCy 3.8's `spacy.blank('en')` tokenizer (the one fastai v2 uses),
// written from how that tokenizer behaves:
// 1. The text is cut at whitespace. One plain space after a word is absorbed; any other run of whitespace
//    (after that space) is a token of its own: "a\n\nb" -> a, \n\n, b; "a \n b" -> a, "\n ", b.
// 2. Each chunk is a special case (exceptions, fastai's xx tokens) or is peeled: prefixes off the front,
//    suffixes off the back, one of each per round, until nothing peels or what is left is a special case.
// 3. What remains is a URL (one token) or is cut at infixes (hyphens between letters, "..." and so on).
// 4. A last pass re-applies special cases that the peeling broke apart inside a chunk ("x-a." peels to
//    x - a . and "a." is a special case, so: x - a.).
// Chunks repeat a lot, so each chunk's result is cached (bounded, see chunk-cache.ts).
import { ALPHA, ALPHA_LOWER, ALPHA_UPPER, DIGIT, ICONS, SPACE, WORD, isSpace } from './char-classes.js';
import { ChunkCache, HASH_SEED, hashOf, hashStep } from './chunk-cache.js';
import { englishSpecialCases } from './english-exceptions.js';
import { SPECIAL_TOKENS } from './special-tokens.js';

// spaCy's punctuation lists (spacy/lang/char_classes.py), in spaCy's order: the order decides which
// alternative wins at one position.
const PUNCT = '… …… , : ; ! ? ¿ ؟ ¡ ( ) [ ] { } < > _ # * & 。 ？ ！ ， 、 ； ： ～ · । ، ۔ ؛ ٪'.split(' ');
const QUOTES = '\' " ” “ ` ‘ ´ ’ ‚ , „ » « 「 」 『 』 （ ） 〔 〕 【 】 《 》 〈 〉 〈 〉 ⟦ ⟧'.split(' ');
const CURRENCY = '$ £ € ¥ ฿ US$ C$ A$ ₽ ﷼ ₴ ₠ ₡ ₢ ₣ ₤ ₥ ₦ ₧ ₨ ₩ ₪ ₫ € ₭ ₮ ₯ ₰ ₱ ₲ ₳ ₴ ₵ ₶ ₷ ₸ ₹ ₺ ₻ ₼ ₽ ₾ ₿'.split(' ');
// Units after a number ("5km" -> 5, km). "тбكم" is one unit in spaCy (two list items run together there).
const UNITS = (
  'km km² km³ m m² m³ dm dm² dm³ cm cm² cm³ mm mm² mm³ ha µm nm yd in ft kg g mg µg t lb oz m/s km/h kmh mph ' +
  'hPa Pa mbar mb MB kb KB gb GB tb TB T G M K % км км² км³ м м² м³ дм дм² дм³ см см² см³ мм мм² мм³ нм кг г ' +
  'мг м/с км/ч кПа Па мбар Кб КБ кб Мб МБ мб Гб ГБ гб Тб ТБ тбكم كم² كم³ م م² م³ سم سم² سم³ مم مم² مم³ كم ' +
  'غرام جرام جم كغ ملغ كوب اكواب'
).split(' ');
const HYPHENS = '- – — -- --- —— ~'.split(' ');

const escapeText = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&');
const escapeInClass = (s: string): string => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
const anyOf = (items: readonly string[]): string => items.map(escapeText).join('|');
const classOf = (chars: readonly string[]): string => chars.map(escapeInClass).join('');

const QUOTE_CLASS = classOf(QUOTES);
// Before a final ".": a digit, a lower-case letter, %²-+, punctuation or a quote. spaCy pastes its
// punctuation alternation ("…|……|,|...") and "(?:" quotes ")" into a class, so | ( ? : ) count too.
const DOT_AFTER = `0-9${ALPHA_LOWER}%²\\-\\+${classOf([...PUNCT.join('|'), '(', '?', ':', ')'])}${QUOTE_CLASS}`;

const PREFIX = new RegExp(
  '^(?:' +
    [anyOf(['§', '%', '=', '—', '–']), '\\+(?![0-9])', anyOf(PUNCT), '\\.\\.+', '…', anyOf(QUOTES), anyOf(CURRENCY), `[${ICONS}]`].join(
      '|',
    ) +
    ')',
  'u',
);

// Suffixes: the alternatives all end the string, so the leftmost match is the longest suffix. The regex is
// tried at the last few positions only (sticky), not from the start of a possibly long chunk.
const SUFFIX_ALTERNATIVES = [
  anyOf(PUNCT),
  '\\.\\.+',
  '…',
  anyOf(QUOTES),
  `[${ICONS}]`,
  anyOf(["'s", "'S", '’s', '’S', '—', '–']),
  '(?<=[0-9])\\+',
  '(?<=°[FfCcKk])\\.',
  `(?<=[0-9])(?:${anyOf(CURRENCY)})`,
  `(?<=[0-9])(?:${anyOf(UNITS)})`,
  `(?<=[${DOT_AFTER}])\\.`,
  `(?<=[${ALPHA_UPPER}][${ALPHA_UPPER}])\\.`,
];
const SUFFIX_AT = new RegExp(`(?:${SUFFIX_ALTERNATIVES.join('|')})$`, 'uy');
// The longest suffix in UTF-16 units, but for a run of dots (handled apart): the longest listed string,
// or a symbol outside the BMP.
const SUFFIX_WINDOW = Math.max(2, ...[...PUNCT, ...QUOTES, ...CURRENCY, ...UNITS].map((x) => x.length));

const INFIX = new RegExp(
  [
    '\\.\\.+',
    '…',
    `[${ICONS}]`,
    '(?<=[0-9])[+\\-*^](?=[0-9-])',
    `(?<=[${ALPHA_LOWER}${QUOTE_CLASS}])\\.(?=[${ALPHA_UPPER}${QUOTE_CLASS}])`,
    `(?<=[${ALPHA}]),(?=[${ALPHA}])`,
    `(?<=[${ALPHA}0-9])(?:${anyOf(HYPHENS)})(?=[${ALPHA}])`,
    `(?<=[${ALPHA}0-9])[:<>=/](?=[${ALPHA}])`,
  ].join('|'),
  'gu',
);

// spaCy's URL test: optional scheme, optional user@, then a public IPv4 address or host names with a
// lower-case top-level domain, optional port and path. Private and loopback IPv4 ranges are not URLs.
const NOT_SPACE = `[^${SPACE}]`;
const D = `[${DIGIT}]`;
const HOST_CHAR = 'A-Za-z0-9\\u00a1-\\uffff';
const OCTET_FIRST = `(?:[1-9]${D}?|1${D}${D}|2[01]${D}|22[0-3])`;
const OCTET_MID = `(?:1?${D}{1,2}|2[0-4]${D}|25[0-5])`;
const OCTET_LAST = `(?:[1-9]${D}?|1${D}${D}|2[0-4]${D}|25[0-4])`;
const PRIVATE_IP =
  `(?!(?:10|127)(?:\\.${D}{1,3}){3})` +
  `(?!(?:169\\.254|192\\.168)(?:\\.${D}{1,3}){2})` +
  `(?!172\\.(?:1[6-9]|2${D}|3[0-1])(?:\\.${D}{1,3}){2})`;
const IPV4 = `${PRIVATE_IP}${OCTET_FIRST}(?:\\.${OCTET_MID}){2}\\.${OCTET_LAST}`;
const HOST = `(?:(?:[${HOST_CHAR}][${HOST_CHAR}_-]{0,62})?[${HOST_CHAR}]\\.)+[${ALPHA_LOWER}]{2,63}`;
const URL = new RegExp(
  `^(?:[${WORD}+\\-.]{2,}://)?` +
    `(?:${NOT_SPACE}+(?::${NOT_SPACE}*)?@)?` +
    `(?:${IPV4}|${HOST})` +
    `(?::${D}{2,5})?` +
    `(?:[/?#]${NOT_SPACE}*)?$`,
  'u',
);

const PLAIN_WORD = /^[a-z]+$/;

/** The length of the prefix spaCy splits off `s` (0: none). */
const prefixLength = (s: string): number => PREFIX.exec(s)?.[0].length ?? 0;

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;

/** The length of the suffix spaCy splits off `s` (0: none). */
function suffixLength(s: string): number {
  const n = s.length;
  let dots = 0;
  while (dots < n && s.charCodeAt(n - 1 - dots) === 0x2e) dots++;
  if (dots >= 2) return dots; // no other alternative ends in "..", so the run of dots is the leftmost match
  for (let at = Math.max(0, n - SUFFIX_WINDOW); at < n; at++) {
    const code = s.charCodeAt(at);
    if (code >= 0xdc00 && code <= 0xdfff && at > 0 && isHighSurrogate(s.charCodeAt(at - 1))) continue; // inside a pair
    SUFFIX_AT.lastIndex = at;
    if (SUFFIX_AT.test(s)) return n - at;
  }
  return 0;
}

/** A chunk's tokens; a plain string is the common case of one token that nothing changes. */
type Chunk = string | Tokens;

interface Tokens {
  /** The chunk's tokens, before the special-case pass. */
  raw: readonly string[];
  /** After the post-rule (the same array when it changes nothing). */
  out: readonly string[];
  /** The special-case pass changes these tokens: the document needs the slow path. */
  rematch: boolean;
  /** raw[0] is a token the chunk rule put in front, followed by a space. */
  lead: boolean;
}

/** A trie over token sequences: the special cases the last pass looks for. */
interface TrieNode {
  next: Map<string, TrieNode>;
  /** How many special cases end here (spaCy records one match per case). */
  ends: number;
}

/**
 * Rewrites a whitespace-delimited chunk before it is split: an optional token to put in front (followed
 * by a space, so kept whole if it is a special token) and the chunk's new text, without whitespace. It must
 * be pure and depend on the chunk alone, as fastai's case rules and lower-casing do.
 */
export type ChunkRule = (chunk: string) => readonly [lead: string | null, text: string];

export interface EnglishSplitterOptions {
  /** Strings that are always one token (fastai's special tokens by default). */
  specialTokens?: readonly string[];
  /** Chunks whose tokens are kept; the cache holds between this and twice this many. */
  cacheSize?: number;
  /** Applied to every token at the end (fastai's post-rules); must be pure (results are cached). */
  postRule?: ((token: string) => string) | null;
  /** Applied to every non-whitespace chunk first (see ChunkRule). */
  chunkRule?: ChunkRule | null;
}

export class EnglishSplitter {
  private readonly specials: Map<string, readonly string[]>;
  private readonly longestSpecial: number;
  private readonly patterns: TrieNode = { next: new Map(), ends: 0 };
  private readonly postRule: ((token: string) => string) | null;
  private readonly chunkRule: ChunkRule | null;
  private readonly cache: ChunkCache<Chunk>;

  constructor(options: EnglishSplitterOptions = {}) {
    this.specials = englishSpecialCases(options.specialTokens ?? SPECIAL_TOKENS);
    this.longestSpecial = Math.max(...[...this.specials.keys()].map((k) => k.length));
    this.postRule = options.postRule ?? null;
    this.chunkRule = options.chunkRule ?? null;
    this.cache = new ChunkCache(options.cacheSize ?? 50_000);
    // Like spaCy, the last pass only looks for special cases that the affix rules would cut up.
    for (const orth of this.specials.keys()) {
      if (orth.includes(' ') || prefixLength(orth) || suffixLength(orth) || hasInfix(orth)) {
        let node = this.patterns;
        for (const tok of this.peel(orth, false)) {
          let child = node.next.get(tok);
          if (!child) node.next.set(tok, (child = { next: new Map(), ends: 0 }));
          node = child;
        }
        node.ends++;
      }
    }
  }

  /**
   * The tokens of text[start, end), as spaCy's tokenizer makes them (then the post-rule), after `head`:
   * tokens that stand before the text, separated from it by a space (fastai's "xxbos ").
   */
  split(text: string, start = 0, end = text.length, head: readonly string[] = []): string[] {
    const out = this.postRule ? head.map(this.postRule) : [...head];
    if (start >= end) return out;
    let rematch = false;
    let inSpace = isSpace(text.charCodeAt(start));
    let from = start;
    let hash = HASH_SEED;
    for (let i = start; i < end; i++) {
      const code = text.charCodeAt(i);
      if (isSpace(code) === inSpace) {
        hash = hashStep(hash, code);
        continue;
      }
      if (from < i) rematch = this.emit(text, from, i, hash, inSpace, out) || rematch;
      // A plain space right after a chunk is absorbed; any other whitespace starts the next chunk.
      from = code === 0x20 ? i + 1 : i;
      hash = code === 0x20 ? HASH_SEED : hashStep(HASH_SEED, code);
      inSpace = !inSpace;
    }
    if (from < end) rematch = this.emit(text, from, end, hash, inSpace, out) || rematch;
    return rematch ? this.splitWithSpecialPass(text, start, end, head) : out;
  }

  /** Appends the tokens of text[start, end); true when the document needs the special-case pass. */
  private emit(text: string, start: number, end: number, hash: number, space: boolean, out: string[]): boolean {
    let chunk = this.cache.get(text, start, end, hash);
    if (chunk === undefined) {
      const key = text.slice(start, end);
      chunk = this.makeChunk(key, space);
      this.cache.set(key, hash, chunk);
    }
    if (typeof chunk === 'string') {
      out.push(chunk);
      return false;
    }
    const toks = chunk.out;
    for (let k = 0; k < toks.length; k++) out.push(toks[k]!);
    return chunk.rematch;
  }

  private chunk(text: string, space: boolean): Chunk {
    const hash = hashOf(text);
    let chunk = this.cache.get(text, 0, text.length, hash);
    if (chunk === undefined) {
      chunk = this.makeChunk(text, space);
      this.cache.set(text, hash, chunk);
    }
    return chunk;
  }

  private makeChunk(text: string, space: boolean): Chunk {
    let lead: string | null = null;
    let body = text;
    if (!space && this.chunkRule) [lead, body] = this.chunkRule(text);
    // A run of whitespace is one token (no affix rule takes whitespace), and so is a plain lower-case
    // word unless it is a special case: no prefix, suffix, infix or URL rule takes one.
    let raw: readonly string[];
    if (space) raw = [body];
    else if (PLAIN_WORD.test(body)) raw = this.specials.get(body) ?? [body];
    else raw = this.peel(body, true);
    const rematch = !space && this.changedBySpecialPass(raw);
    if (lead !== null) raw = [lead, ...raw];
    const post = this.postRule;
    let out = raw;
    if (post) {
      const mapped = raw.map(post);
      if (mapped.some((t, i) => t !== raw[i])) out = mapped;
    }
    if (out === raw && raw.length === 1 && !rematch) return raw[0]!;
    return { raw, out, rematch, lead: lead !== null };
  }

  /** spaCy's affix peeling of one chunk; `specials` off is how spaCy turns a special case into a pattern. */
  private peel(text: string, specials: boolean): string[] {
    // No special case is longer than the longest one: longer strings skip the lookup (and its hashing).
    const special = (s: string): readonly string[] | undefined =>
      specials && s.length <= this.longestSpecial ? this.specials.get(s) : undefined;
    const whole = special(text);
    if (whole) return [...whole];
    const prefixes: string[] = [];
    const suffixes: string[] = [];
    let s = text;
    let last = -1;
    while (s.length > 0 && s.length !== last) {
      if (special(s)) break;
      last = s.length;
      const pre = prefixLength(s);
      if (pre && special(s.slice(pre))) {
        prefixes.push(s.slice(0, pre));
        s = s.slice(pre);
        break;
      }
      const suf = suffixLength(pre ? s.slice(pre) : s);
      if (suf && special(s.slice(0, s.length - suf))) {
        suffixes.push(s.slice(s.length - suf));
        s = s.slice(0, s.length - suf);
        break;
      }
      if (pre) prefixes.push(s.slice(0, pre));
      if (suf) suffixes.push(s.slice(s.length - suf));
      s = s.slice(pre, s.length - suf);
    }
    const tokens = prefixes;
    if (s) {
      const rule = special(s);
      if (rule) tokens.push(...rule);
      else if (URL.test(s)) tokens.push(s);
      else splitInfixes(s, tokens);
    }
    for (let i = suffixes.length - 1; i >= 0; i--) tokens.push(suffixes[i]!);
    return tokens;
  }

  /** Whether the special-case pass, run on one chunk's tokens alone, would change them. */
  private changedBySpecialPass(tokens: readonly string[]): boolean {
    if (tokens.length < 2) return false;
    for (const [start, end] of this.findPatterns(tokens)) {
      const orth = tokens.slice(start, end).join('');
      const rule = this.specials.get(orth);
      if (rule && (rule.length !== end - start || rule.some((t, i) => t !== tokens[start + i]))) return true;
    }
    return false;
  }

  /** Every (start, end) where a pattern matches, spaCy's PhraseMatcher style (overlaps included). */
  private findPatterns(tokens: readonly string[]): [number, number][] {
    const found: [number, number][] = [];
    for (let i = 0; i < tokens.length; i++) {
      let node = this.patterns.next.get(tokens[i]!);
      let j = i + 1;
      while (node) {
        for (let e = 0; e < node.ends; e++) found.push([i, j]);
        if (j >= tokens.length) break;
        node = node.next.get(tokens[j++]!);
      }
    }
    return found;
  }

  /**
   * The rare documents where the special-case pass changes something: spaCy runs it over the whole
   * document, and a match across chunks (which changes nothing) can still block one inside a chunk.
   */
  private splitWithSpecialPass(text: string, start: number, end: number, head: readonly string[]): string[] {
    const tokens = [...head];
    // spaceAfter[i]: a space follows token i; it is part of the text of a span that goes on.
    const spaceAfter = head.map(() => true);
    let inSpace = isSpace(text.charCodeAt(start));
    let from = start;
    const add = (to: number): void => {
      const chunk = this.chunk(text.slice(from, to), inSpace);
      const raw = typeof chunk === 'string' ? [chunk] : chunk.raw;
      raw.forEach((t, k) => {
        tokens.push(t);
        spaceAfter.push(k === 0 && typeof chunk !== 'string' && chunk.lead);
      });
    };
    for (let i = start; i < end; i++) {
      const code = text.charCodeAt(i);
      if (isSpace(code) === inSpace) continue;
      if (from < i) add(i);
      if (code === 0x20) spaceAfter[spaceAfter.length - 1] = true;
      from = code === 0x20 ? i + 1 : i;
      inSpace = !inSpace;
    }
    if (from < end) add(end);

    // spaCy keeps the longest matches first (the earlier one on a tie); a match is dropped when its first
    // or last token was covered by a match taken or dropped before it.
    const matches = this.findPatterns(tokens).sort((a, b) => b[1] - b[0] - (a[1] - a[0]) || a[0] - b[0]);
    const seen = new Set<number>();
    const kept = new Map<number, number>();
    for (const [s, e] of matches) {
      if (!seen.has(s) && !seen.has(e - 1)) kept.set(s, e);
      for (let k = s; k < e; k++) seen.add(k);
    }
    const out: string[] = [];
    for (let i = 0; i < tokens.length;) {
      const stop = kept.get(i);
      if (stop === undefined) {
        out.push(tokens[i++]!);
        continue;
      }
      let orth = '';
      for (let k = i; k < stop; k++) orth += tokens[k]! + (k < stop - 1 && spaceAfter[k] ? ' ' : '');
      const rule = this.specials.get(orth);
      for (const t of rule ?? tokens.slice(i, stop)) out.push(t);
      i = stop;
    }
    const post = this.postRule;
    return post ? out.map(post) : out;
  }
}

function hasInfix(s: string): boolean {
  INFIX.lastIndex = 0;
  const found = INFIX.test(s);
  INFIX.lastIndex = 0;
  return found;
}

/** Cuts at every infix; an infix at the very start is not cut off (it stays with what follows). */
function splitInfixes(s: string, out: string[]): void {
  INFIX.lastIndex = 0;
  let start = 0;
  for (let m = INFIX.exec(s); m; m = INFIX.exec(s)) {
    const at = m.index;
    if (at === 0) continue;
    if (at !== start) out.push(s.slice(start, at));
    out.push(m[0]);
    start = at + m[0].length;
  }
  INFIX.lastIndex = 0;
  if (start < s.length) out.push(s.slice(start));
}

let defaultSplitter: EnglishSplitter | null = null;

/** spaCy's `spacy.blank('en')` tokenization of `text` with fastai's special tokens as special cases. */
export function splitWords(text: string): string[] {
  defaultSplitter ??= new EnglishSplitter();
  return defaultSplitter.split(text);
}
