// spaCy's English tokenizer exceptions ("special cases"): strings that become fixed tokens whatever the
// punctuation rules say. Built here from compact tables; the result equals spaCy 3.8's
// `spacy.blank('en').tokenizer.rules` (orths only: we keep no norms). Keys are the exact chunk text; the
// value is the list of tokens. Title-case variants are kept so text that is not lowercased also conforms.

type Table = Map<string, string[]>;

const title = (w: string): string => w.charAt(0).toUpperCase() + w.slice(1);

/** A word and its title-case form. */
const cased = (w: string): string[] => [w, title(w)];

/**
 * Clitics spaCy splits off a base word, with and without the apostrophe ("it's" and "its"). Each entry is
 * the clitic tokens with apostrophes; the bare form drops every apostrophe.
 */
function addClitics(table: Table, words: string, clitics: string): void {
  for (const word of words.split(' ')) {
    for (const base of cased(word)) {
      for (const clitic of clitics.split(' ')) {
        const parts = clitic.split('+');
        table.set(base + parts.join(''), [base, ...parts]);
        const bare = parts.map((p) => p.replaceAll("'", ''));
        table.set(base + bare.join(''), [base, ...bare]);
      }
    }
  }
}

/** Strings that stay one token. */
function addWhole(table: Table, orths: string): void {
  for (const orth of orths.split(' ')) table.set(orth, [orth]);
}

const W_WORDS = 'who what when where why how there';
const VERBS_NOT = 'ca could do does did had may might must need ought sha should wo would';

function englishTable(): Table {
  const t: Table = new Map();
  // Pronouns and wh-words (the "'m+a" of "i'ma" is two tokens after the pronoun).
  addClitics(t, 'i', "'m 'm+a");
  addClitics(t, 'i you he she it we they', "'ll 'll+'ve 'd 'd+'ve");
  addClitics(t, 'i you we they', "'ve");
  addClitics(t, 'you we they', "'re");
  addClitics(t, 'he she it', "'s");
  addClitics(t, `${W_WORDS} that this`, "'s");
  addClitics(t, `${W_WORDS} that this these those`, "'ll 'll+'ve 'd 'd+'ve");
  addClitics(t, `${W_WORDS} these those`, "'re 've");
  // Verbs with a negation.
  addClitics(t, VERBS_NOT, "n't n't+'ve");
  addClitics(t, 'could might must should would', "'ve");
  addClitics(t, 'ai are is was were have has dare', "n't");
  // Dropped final g ("nothin'") and dropped initial letters ("'em"): one token with or without the apostrophe.
  for (const w of 'doin goin nothin nuthin ol somethin'.split(' ')) for (const b of cased(w)) addWhole(t, `${b} ${b}'`);
  for (const w of 'em ll nuff'.split(' ')) addWhole(t, `${w} '${w}`);
  // Clock times: "5pm" -> "5", "pm".
  for (let h = 1; h <= 12; h++) for (const p of ['a.m.', 'am', 'p.m.', 'pm']) t.set(`${h}${p}`, [`${h}`, p]);
  // Fused words split in two or three.
  const fused: [string, string][] = [
    ["y'all", "y' all"],
    ['yall', 'y all'],
    ["how'd'y", "how 'd 'y"],
    ["How'd'y", "How 'd 'y"],
    ["not've", "not 've"],
    ['notve', 'not ve'],
    ["Not've", "Not 've"],
    ['Notve', 'Not ve'],
    ['cannot', 'can not'],
    ['Cannot', 'Can not'],
    ['gonna', 'gon na'],
    ['Gonna', 'Gon na'],
    ['gotta', 'got ta'],
    ['Gotta', 'Got ta'],
    ["let's", "let 's"],
    ["Let's", "Let 's"],
    ["c'mon", "c'm on"],
    ["C'mon", "C'm on"],
  ];
  for (const [orth, toks] of fused) t.set(orth, toks.split(' '));
  addWhole(t, "'S 's \u2018S \u2018s and/or w/o 're 'd 'bout ma'am Ma'am o'clock O'clock");
  for (const w of ['cause', 'cos', 'coz', 'cuz']) for (const b of cased(w)) addWhole(t, `'${b}`);
  for (const w of ['lovin', 'havin', 'doin', 'goin']) for (const b of cased(w)) addWhole(t, `${b} ${b}'`);
  // Abbreviations with their full stop. US states and months are capitalised only.
  addWhole(
    t,
    'Mt. Ak. Ala. Apr. Ariz. Ark. Aug. Calif. Colo. Conn. Dec. Del. Feb. Fla. Ga. Ia. Id. Ill. Ind. Jan. Jul. ' +
      'Jun. Kan. Kans. Ky. La. Mar. Mass. Mich. Minn. Miss. N.C. N.D. N.H. N.J. N.M. N.Y. Neb. Nebr. Nev. Nov. ' +
      'Oct. Okla. Ore. Pa. S.C. Sep. Sept. Tenn. Va. Wash. Wis.',
  );
  addWhole(
    t,
    'a.m. Adm. Bros. co. Co. Corp. D.C. Dr. e.g. E.g. E.G. Gen. Gov. i.e. I.e. I.E. Inc. Jr. Ltd. Md. Messrs. ' +
      'Mo. Mont. Mr. Mrs. Ms. p.m. Ph.D. Prof. Rep. Rev. Sen. St. vs. v.s.',
  );
  // Bare forms that are ordinary English words, so spaCy leaves them whole.
  for (const w of 'ill its hell shell shed were well whore'.split(' ')) for (const b of cased(w)) t.delete(b);
  return t;
}

// Language-independent exceptions: whitespace characters, single letters with a full stop, emoticons.
const EMOTICONS =
  ':) :-) :)) :-)) :))) :-))) (: (-: =) (= :] :-] [: [-: [= =] :o) (o: :} :-} 8) 8-) (-8 ;) ;-) (; (-; :( :-( ' +
  ":(( :-(( :((( :-((( ): )-: =( >:( :') :'-) :'( :'-( :/ :-/ =/ =| :| :-| ]= =[ :1 :P :-P :p :-p :O :-O :o " +
  ':-o :0 :-0 :() >:o :* :-* :3 :-3 =3 :> :-> :X :-X :x :-x :D :-D ;D ;-D =D xD XD xDD XDD 8D 8-D ^_^ ^__^ ' +
  '^___^ >.< >.> <.< ._. ;_; -_- -__- v.v V.V v_v V_V o_o o_O O_o O_O 0_o o_0 0_0 o.O O.o O.O o.o 0.0 o.0 ' +
  '0.o @_@ <3 <33 <333 </3 (^_^) (-_-) (._.) (>_<) (*_*) (\u00ac_\u00ac) \u0ca0_\u0ca0 \u0ca0\ufe35\u0ca0 ' +
  '(\u0ca0_\u0ca0) \u00af\\(\u30c4)/\u00af (\u256f\u00b0\u25a1\u00b0\uff09\u256f\ufe35\u253b\u2501\u253b ><(((*>';

function baseTable(): Table {
  const t: Table = new Map();
  for (const ws of [' ', '\t', '\\t', '\n', '\\n', '\u2014', '\u00a0']) t.set(ws, [ws]);
  addWhole(t, "' \\\") <space> '' C++ \u00e4. \u00f6. \u00fc.");
  for (let c = 0x61; c <= 0x7a; c++) addWhole(t, `${String.fromCharCode(c)}.`);
  addWhole(t, EMOTICONS);
  // A temperature unit with a full stop: "°c." -> "°", "c", ".".
  for (const u of 'cfkCFK') t.set(`\u00b0${u}.`, ['\u00b0', u, '.']);
  return t;
}

/**
 * The special cases of spaCy's English tokenizer plus `extra` single-token strings (fastai's special
 * tokens). Every key with a straight apostrophe also exists with a typographic one (U+2019).
 */
export function englishSpecialCases(extra: readonly string[] = []): Map<string, readonly string[]> {
  const merged: Table = new Map([...baseTable(), ...englishTable()]);
  for (const [orth, toks] of [...merged]) {
    if (orth.includes("'"))
      merged.set(
        orth.replaceAll("'", '\u2019'),
        toks.map((x) => x.replaceAll("'", '\u2019')),
      );
  }
  for (const tok of extra) merged.set(tok, [tok]);
  return merged;
}
