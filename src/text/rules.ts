// fastai v2's text rules (fastai.text.core, 2.7), as pure functions with Python's regex semantics: the
// pre-rules run on the whole document in DEFAULT_PRE_RULES order before word splitting, the post-rule on
// every token after it. Python's \s, \S, \w and \W are spelled out (see char-classes.ts); [A-Z] and [a-z]
// are ASCII only, as in Python.
import { decodeHTML } from 'entities';

import { SPACE, WORD, isSpace } from './char-classes.js';
import { BOS, REP, UNK, UP, MAJ, WREP } from './special-tokens.js';

export type PreRule = (text: string) => string;
export type PostRule = (token: string) => string;

// fastai's literal clean-ups, in its order. They run before entity decoding, so "&amp;" becomes "&&" and
// "&quot;" becomes "&'": fastai's behaviour, kept.
const HTML_FIXES: readonly [string, string][] = [
  ['#39;', "'"],
  ['amp;', '&'],
  ['#146;', "'"],
  ['nbsp;', ' '],
  ['#36;', '$'],
  ['\\n', '\n'],
  ['quot;', "'"],
  ['<br />', '\n'],
  ['\\"', '"'],
  ['<unk>', UNK],
  [' @.@ ', '.'],
  [' @-@ ', '-'],
  ['...', ' …'],
];

// Python's html.unescape: numeric references, or a name of up to 32 code points with an optional ";".
const CHAR_REF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

// Numeric references HTML maps to other characters (Windows-1252 for 0x80..0x9F).
const CHARREF_FIXES = new Map<number, string>([
  [0x00, '\ufffd'],
  [0x0d, '\r'],
  ...[...'€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ'].map((c, i): [number, string] => [0x80 + i, c]),
]);

/** Code points Python's html.unescape drops: C0/C1 controls other than whitespace, and noncharacters. */
function droppedCodePoint(n: number): boolean {
  return (
    (n >= 0x01 && n <= 0x08) ||
    n === 0x0b ||
    (n >= 0x0e && n <= 0x1f) ||
    (n >= 0x7f && n <= 0x9f) ||
    (n >= 0xfdd0 && n <= 0xfdef) ||
    (n & 0xfffe) === 0xfffe
  );
}

function decodeCharRef(ref: string, body: string): string {
  if (body[0] !== '#') return decodeHTML(ref); // a name: `entities` matches the longest known prefix, as Python does
  const hex = body[1] === 'x' || body[1] === 'X';
  const n = parseInt(body.slice(hex ? 2 : 1), hex ? 16 : 10);
  const fixed = CHARREF_FIXES.get(n);
  if (fixed !== undefined) return fixed;
  if ((n >= 0xd800 && n <= 0xdfff) || n > 0x10ffff) return '\ufffd';
  return droppedCodePoint(n) ? '' : String.fromCodePoint(n);
}

/** HTML clean-up: fastai's literal replacements, then Python's html.unescape. */
export function fixHtml(text: string): string {
  let t = text;
  for (const [from, to] of HTML_FIXES) if (t.includes(from)) t = t.replaceAll(from, to);
  return t.includes('&') ? t.replace(CHAR_REF, decodeCharRef) : t;
}

// Three equal code points in a row (a surrogate pair or a single unit), found natively; the loop below
// then measures the whole run.
const TRIPLE = /([\ud800-\udbff][\udc00-\udfff])\1\1|([^])\2\2/g;

/**
 * A non-space character repeated 3+ times -> " xxrep N c " ("cccc" -> " xxrep 4 c "); N counts code
 * points, as Python's len does. (fastai: re.sub(r'(\S)(\1{2,})', ...).)
 */
export function replaceRep(text: string): string {
  const parts: string[] = [];
  let copied = 0;
  TRIPLE.lastIndex = 0;
  for (let m = TRIPLE.exec(text); m; m = TRIPLE.exec(text)) {
    const i = m.index;
    const w = m[1] ? 2 : 1;
    const first = text.charCodeAt(i);
    const second = text.charCodeAt(i + 1);
    let j = i + 3 * w;
    while (j + w <= text.length && text.charCodeAt(j) === first && (w === 1 || text.charCodeAt(j + 1) === second)) j += w;
    if (!isSpace(first)) {
      parts.push(text.slice(copied, i), ` ${REP} ${(j - i) / w} ${text.slice(i, i + w)} `);
      copied = j;
    }
    TRIPLE.lastIndex = j;
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

const REPEATED_WORD = new RegExp(`(?:[${SPACE}]|^)([${WORD}]+)[${SPACE}]+((?:\\1[${SPACE}]+)+)\\1([${SPACE}]|[^${WORD}]|$)`, 'gu');
const SPACES = new RegExp(`[${SPACE}]+`, 'u');
const ONLY_WORD = new RegExp(`^[${WORD}]+$`, 'u');

function sameText(text: string, a: number, b: number, len: number): boolean {
  for (let k = 0; k < len; k++) if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  return true;
}

/**
 * Whether two consecutive whitespace-delimited words are equal, made of word characters only, and the next
 * one starts with them: a necessary condition for replaceWrep's regex to match, and far cheaper to test.
 */
function mayRepeatWords(text: string): boolean {
  const n = text.length;
  let prevStart = -1;
  let prevLen = 0;
  let pair = false; // the previous word equals the one before it
  for (let i = 0; i < n;) {
    while (i < n && isSpace(text.charCodeAt(i))) i++;
    const start = i;
    while (i < n && !isSpace(text.charCodeAt(i))) i++;
    const len = i - start;
    if (len === 0) break;
    if (pair && len >= prevLen && sameText(text, prevStart, start, prevLen)) {
      if (ONLY_WORD.test(text.slice(prevStart, prevStart + prevLen))) return true;
    }
    pair = prevStart >= 0 && len === prevLen && sameText(text, prevStart, start, len);
    prevStart = start;
    prevLen = len;
  }
  return false;
}

/**
 * A word repeated 3+ times -> " xxwrep N w " ("a a a a" -> " xxwrep 4 a "). The whitespace before the
 * first word is replaced; the character after the last word is kept.
 */
export function replaceWrep(text: string): string {
  if (!mayRepeatWords(text)) return text;
  return text.replace(REPEATED_WORD, (_m, w: string, middle: string, end: string) => {
    const n = middle.split(SPACES).filter(Boolean).length + 2;
    return ` ${WREP} ${n} ${w} ${end}`;
  });
}

/** Spaces around "/", "#" and "\". */
export function specAddSpaces(text: string): string {
  return text.replace(/[/#\\]/g, ' $& ');
}

/** Runs of two or more plain spaces -> one. */
export function rmUselessSpaces(text: string): string {
  return text.replace(/ {2,}/g, ' ');
}

// A word that starts with A-Z: where replaceAllCaps and replaceMaj can apply (all BMP: no u flag needed).
const CAPITAL_START = new RegExp(`(?:^|[${SPACE}])[A-Z]`, 'g');

/**
 * fastai's replace_all_caps and/or replace_maj. Their regexes, (\s|^)(WORD)(?=(\s|$)), only match whole
 * whitespace-delimited words, so each word is looked at once: a word that starts with A-Z and has no a-z
 * is all caps ("xxup " + lower case); one with no A-Z after the first letter is capitalised ("xxmaj " +
 * lower case). The marker is only added to words of 2+ characters; one letter is just lowercased. All
 * caps goes first: a lowercased word no longer starts with A-Z, so applying both rules in turn is the
 * same as this one pass.
 */
function recase(text: string, allCaps: boolean, maj: boolean): string {
  const n = text.length;
  const parts: string[] = [];
  let copied = 0;
  CAPITAL_START.lastIndex = 0;
  while (CAPITAL_START.test(text)) {
    const start = CAPITAL_START.lastIndex - 1;
    let lower = false;
    let upper = false;
    let i = start + 1;
    for (; i < n; i++) {
      const code = text.charCodeAt(i);
      if (isSpace(code)) break;
      if (code >= 0x61 && code <= 0x7a) lower = true;
      else if (code >= 0x41 && code <= 0x5a) upper = true;
    }
    CAPITAL_START.lastIndex = i;
    const marker = allCaps && !lower ? UP : maj && !upper ? MAJ : null;
    if (marker === null) continue;
    const word = text.slice(start, i);
    parts.push(text.slice(copied, start), word.length > 1 ? `${marker} ` : '', word.toLowerCase());
    copied = i;
  }
  if (copied === 0) return text;
  parts.push(text.slice(copied));
  return parts.join('');
}

/** A whitespace-delimited word in capitals (A-Z first, no a-z) -> "xxup " + lower case. */
export function replaceAllCaps(text: string): string {
  return recase(text, true, false);
}

/** A whitespace-delimited word with only its first letter in A-Z -> "xxmaj " + lower case. */
export function replaceMaj(text: string): string {
  return recase(text, false, true);
}

/** Lower case, Python's strip(), and "xxbos " in front. */
export function lowercase(text: string): string {
  const t = text.toLowerCase();
  let start = 0;
  let end = t.length;
  while (start < end && isSpace(t.charCodeAt(start))) start++;
  while (end > start && isSpace(t.charCodeAt(end - 1))) end--;
  return `${BOS} ${t.slice(start, end)}`;
}

/** A space inside a token (a whitespace token such as "\n ") -> "▁" (U+2581), so tokens join with spaces. */
export function replaceSpace(token: string): string {
  return token.includes(' ') ? token.replaceAll(' ', '\u2581') : token;
}

/** fastai's defaults.text_proc_rules, in order. */
export const DEFAULT_PRE_RULES: readonly PreRule[] = Object.freeze([
  fixHtml,
  replaceRep,
  replaceWrep,
  specAddSpaces,
  rmUselessSpaces,
  replaceAllCaps,
  replaceMaj,
  lowercase,
]);

/** The default pre-rules that come before the case rules: fixHtml to rmUselessSpaces. */
export function applyRulesBeforeCase(text: string): string {
  return rmUselessSpaces(specAddSpaces(replaceWrep(replaceRep(fixHtml(text)))));
}

/** DEFAULT_PRE_RULES in order, with replaceAllCaps and replaceMaj done in one pass (the same result). */
export function applyDefaultPreRules(text: string): string {
  return lowercase(recase(applyRulesBeforeCase(text), true, true));
}

/**
 * replaceAllCaps, replaceMaj and lowercase on one whitespace-delimited word: the marker to put before it
 * (or null) and the word in lower case. Both case rules act on whole words and lower-casing has no context
 * beyond a word (final sigma stops at whitespace), so a tokenizer may apply them word by word.
 */
export function caseWord(word: string): readonly [marker: string | null, word: string] {
  const first = word.charCodeAt(0);
  if (word.length > 1 && first >= 0x41 && first <= 0x5a) {
    let lower = false;
    let upper = false;
    for (let i = 1; i < word.length; i++) {
      const code = word.charCodeAt(i);
      if (code >= 0x61 && code <= 0x7a) lower = true;
      else if (code >= 0x41 && code <= 0x5a) upper = true;
    }
    const marker = !lower ? UP : !upper ? MAJ : null;
    if (marker) return [marker, word.toLowerCase()];
  }
  return [null, word.toLowerCase()];
}

/** fastai's defaults.text_postproc_rules. */
export const DEFAULT_POST_RULES: readonly PostRule[] = Object.freeze([replaceSpace]);
