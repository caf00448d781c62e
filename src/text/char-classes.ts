// Character classes with the meaning Python gives them, for regexes that must behave like the Python ones
// they mirror (fastai's rules, spaCy's English tokenizer). All are bodies for a `[...]` class in a regex with
// the `u` flag. JS's own \s, \w and \d differ from Python's: \s lacks U+001C..U+001F and U+0085 and adds
// U+FEFF, \w and \d are ASCII only. Python 3.11 uses Unicode 14, Node a later version: the classes built
// from \p{...} below differ from Python's only on characters assigned after Unicode 14.

/** Python's str.isspace() and re's \s: the characters spaCy and fastai split on. */
export const SPACE = '\\t-\\r\\x1c- \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
/** Python's \w: str.isalnum() (letters and every kind of number) or '_'. Combining marks are not word characters. */
export const WORD = '\\p{L}\\p{N}_';
/** Python's \d: any decimal digit (category Nd). */
export const DIGIT = '\\p{Nd}';

/** Python's str.isspace() on one UTF-16 code unit (every such character is in the BMP). */
export function isSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || code >= 0x1c;
  if (code < 0x85) return false;
  return (
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

// spaCy's letter classes (spacy/lang/char_classes.py), as code point ranges in hex. They are hand-made
// lists, not Unicode categories, so they are spelled out: these were read off spaCy 3.8's compiled classes
// by testing every code point.

/** Scripts spaCy treats as both lower and upper case (CJK, kana, hangul, Arabic, Hebrew, Indic, Ethiopic...). */
const UNCASED_RANGES =
  '591-5f4 620-64a 66e-6d5 6e5-6ff 750-77f 8a0-8bd 900-9ff b80-cff d80-dff 1100-137f 2e80-2fdf 2ff0-30ff ' +
  '31c0-31ef 3200-4dbf 4e00-9fff ac00-d7af f900-faff fb1d-fbb1 fbd3-fd3d fd50-fdc7 fdf0-fdfb fe30-fe4f fe70-fefc ' +
  '1ee00-1eebb 1f200-1f2ff 20000-2a6df 2a700-2ebef 2f800-2fa1f ';

/** Cased letters spaCy counts as lower case (Latin incl. extensions, Cyrillic, Greek subsets). */
const LOWER_RANGES =
  '61-7a df-f6 f8-ff 101 103 105 107 109 10b 10d 10f 111 113 115 117 119 11b 11d 11f 121 123 125 127 129 12b 12d ' +
  '12f 131 133 135 137-138 13a 13c 13e 140 142 144 146 148-149 14b 14d 14f 151 153 155 157 159 15b 15d 15f 161 ' +
  '163 165 167 169 16b 16d 16f 171 173 175 177 17a 17c 17e-180 183 185 188 18c-18d 192 195 199-19b 19e 1a1 1a3 ' +
  '1a5 1a8 1aa-1ab 1ad 1b0 1b4 1b6 1b9-1ba 1bd-1bf 1c6 1c9 1cc 1ce 1d0 1d2 1d4 1d6 1d8 1da 1dc-1dd 1df 1e1 1e3 ' +
  '1e5 1e7 1e9 1eb 1ed 1ef-1f0 1f3 1f5 1f9 1fb 1fd 1ff 201 203 205 207 209 20b 20d 20f 211 213 215 217 219 21b ' +
  '21d 21f 221 223 225 227 229 22b 22d 22f 231 233-239 23c 23f-240 242 247 249 24b 24d 24f-2af 3ac-3af 3b1-3c9 ' +
  '3cc-3ce 430-451 453-45a 45c-45d 491 497 4a3 4af 4bb 4d9 4e9 1d00-1d25 1d6b-1d77 1d79-1d9a 1e01 1e03 1e05 1e07 ' +
  '1e09 1e0b 1e0d 1e0f 1e11 1e13 1e15 1e17 1e19 1e1b 1e1d 1e1f 1e21 1e23 1e25 1e27 1e29 1e2b 1e2d 1e2f 1e31 1e33 ' +
  '1e35 1e37 1e39 1e3b 1e3d 1e3f 1e41 1e43 1e45 1e47 1e49 1e4b 1e4d 1e4f 1e51 1e53 1e55 1e57 1e59 1e5b 1e5d 1e5f ' +
  '1e61 1e63 1e65 1e67 1e69 1e6b 1e6d 1e6f 1e71 1e73 1e75 1e77 1e79 1e7b 1e7d 1e7f 1e81 1e83 1e85 1e87 1e89 1e8b ' +
  '1e8d 1e8f 1e91 1e93 1e95-1e9d 1e9f 1ea1 1ea3 1ea5 1ea7 1ea9 1eab 1ead 1eaf 1eb1 1eb3 1eb5 1eb7 1eb9 1ebb 1ebd ' +
  '1ebf 1ec1 1ec3 1ec5 1ec7 1ec9 1ecb 1ecd 1ecf 1ed1 1ed3 1ed5 1ed7 1ed9 1edb 1edd 1edf 1ee1 1ee3 1ee5 1ee7 1ee9 ' +
  '1eeb 1eed 1eef 1ef1 1ef3 1ef5 1ef7 1ef9 1efb 1efd 1eff 2c61 2c65-2c66 2c68 2c6a 2c6c 2c71 2c73-2c74 2c76-2c7b ' +
  'a723 a725 a727 a729 a72b a72d a72f-a731 a733 a735 a737 a739 a73b a73d a73f a741 a743 a745 a747 a749 a74b a74d ' +
  'a74f a751 a753 a755 a757 a759 a75b a75d a75f a761 a763 a765 a767 a769 a76b a76d a76f a771-a778 a77a a77c a77f ' +
  'a781 a783 a785 a787 a78c a78e a791 a793-a795 a797 a799 a79b a79d a79f a7a1 a7a3 a7a5 a7a7 a7a9 a7af a7b5 a7b7 ' +
  'a7b9 a7fa ab30-ab5a ab60-ab64 ff41-ff5a ';

/** Cased letters spaCy counts as upper case. */
const UPPER_RANGES =
  '41-5a c0-d6 d8-de 100 102 104 106 108 10a 10c 10e 110 112 114 116 118 11a 11c 11e 120 122 124 126 128 12a 12c ' +
  '12e 130 132 134 136 139 13b 13d 13f 141 143 145 147 14a 14c 14e 150 152 154 156 158 15a 15c 15e 160 162 164 ' +
  '166 168 16a 16c 16e 170 172 174 176 178-179 17b 17d 181-182 184 186-187 189-18b 18e-191 193-194 196-198 ' +
  '19c-19d 19f-1a0 1a2 1a4 1a6-1a7 1a9 1ac 1ae-1af 1b1-1b3 1b5 1b7-1b8 1bc 1c4 1c7 1ca 1cd 1cf 1d1 1d3 1d5 1d7 ' +
  '1d9 1db 1de 1e0 1e2 1e4 1e6 1e8 1ea 1ec 1ee 1f1 1f4 1f6-1f8 1fa 1fc 1fe 200 202 204 206 208 20a 20c 20e 210 ' +
  '212 214 216 218 21a 21c 21e 220 222 224 226 228 22a 22c 22e 230 232 23a-23b 23d-23e 241 243-246 248 24a 24c ' +
  '24e 386 388-38a 38c 38e-38f 391-3a9 400-401 403-40a 40c-40d 410-42f 490 496 4a2 4ae 4ba 4d8 4e8 1e00 1e02 1e04 ' +
  '1e06 1e08 1e0a 1e0c 1e0e 1e10 1e12 1e14 1e16 1e18 1e1a 1e1c 1e1e 1e20 1e22 1e24 1e26 1e28 1e2a 1e2c 1e2e 1e30 ' +
  '1e32 1e34 1e36 1e38 1e3a 1e3c 1e3e 1e40 1e42 1e44 1e46 1e48 1e4a 1e4c 1e4e 1e50 1e52 1e54 1e56 1e58 1e5a 1e5c ' +
  '1e5e 1e60 1e62 1e64 1e66 1e68 1e6a 1e6c 1e6e 1e70 1e72 1e74 1e76 1e78 1e7a 1e7c 1e7e 1e80 1e82 1e84 1e86 1e88 ' +
  '1e8a 1e8c 1e8e 1e90 1e92 1e94 1e9e 1ea0 1ea2 1ea4 1ea6 1ea8 1eaa 1eac 1eae 1eb0 1eb2 1eb4 1eb6 1eb8 1eba 1ebc ' +
  '1ebe 1ec0 1ec2 1ec4 1ec6 1ec8 1eca 1ecc 1ece 1ed0 1ed2 1ed4 1ed6 1ed8 1eda 1edc 1ede 1ee0 1ee2 1ee4 1ee6 1ee8 ' +
  '1eea 1eec 1eee 1ef0 1ef2 1ef4 1ef6 1ef8 1efa 1efc 1efe 2c60 2c62-2c64 2c67 2c69 2c6b 2c6d-2c70 2c72 2c75 ' +
  '2c7e-2c7f a722 a724 a726 a728 a72a a72c a72e a732 a734 a736 a738 a73a a73c a73e a740 a742 a744 a746 a748 a74a ' +
  'a74c a74e a750 a752 a754 a756 a758 a75a a75c a75e a760 a762 a764 a766 a768 a76a a76c a76e a779 a77b a77d-a77e ' +
  'a780 a782 a784 a786 a78b a78d a790 a792 a796 a798 a79a a79c a79e a7a0 a7a2 a7a4 a7a6 a7a8 a7aa-a7ae a7b0-a7b4 ' +
  'a7b6 a7b8 ff21-ff3a ';

/** Titlecase-ish Latin letters that are alphabetic but neither lower nor upper for spaCy. */
const ALPHA_OTHER_RANGES = '1bb 1c5 1c8 1cb 1f2 ';

/** Symbols split off as prefixes, suffixes and infixes (mostly category So: dingbats, arrows, emoji). */
const ICONS_RANGES =
  'a6 a9 ae b0 482 58d-58e 60e-60f 6de 6e9 6fd-6fe 7f6 9fa b70 bf3-bf8 bfa c7f d4f d79 f01-f03 f13 f15-f17 ' +
  'f1a-f1f f34 f36 f38 fbe-fc5 fc7-fcc fce-fcf fd5-fd8 109e-109f 1390-1399 1940 19de-19ff 1b61-1b6a 1b74-1b7c ' +
  '2100-2101 2103-2106 2108-2109 2114 2116-2117 211e-2123 2125 2127 2129 212e 213a-213b 214a 214c-214d 214f ' +
  '218a-218b 2195-2199 219c-219f 21a1-21a2 21a4-21a5 21a7-21ad 21af-21cd 21d0-21d1 21d3 21d5-21f3 2300-2307 ' +
  '230c-231f 2322-2328 232b-237b 237d-239a 23b4-23db 23e2-2426 2440-244a 249c-24e9 2500-25b6 25b8-25c0 25c2-25f7 ' +
  '2600-266e 2670-2767 2794-27bf 2800-28ff 2b00-2b2f 2b45-2b46 2b4d-2b73 2b76-2b95 2b98-2bc8 2bca-2bfe 2ce5-2cea ' +
  '2e80-2e99 2e9b-2ef3 2f00-2fd5 2ff0-2ffb 3004 3012-3013 3020 3036-3037 303e-303f 3190-3191 3196-319f 31c0-31e3 ' +
  '3200-321e 322a-3247 3250 3260-327f 328a-32b0 32c0-32fe 3300-33ff 4dc0-4dff a490-a4c6 a828-a82b a836-a837 a839 ' +
  'aa77-aa79 fdfd ffe4 ffe8 ffed-ffee fffc-fffd 10137-1013f 10179-10189 1018c-1018e 10190-1019b 101a0 101d0-101fc ' +
  '10877-10878 10ac8 1173f 16b3c-16b3f 16b45 1bc9c 1d000-1d0f5 1d100-1d126 1d129-1d164 1d16a-1d16c 1d183-1d184 ' +
  '1d18c-1d1a9 1d1ae-1d1e8 1d200-1d241 1d245 1d300-1d356 1d800-1d9ff 1da37-1da3a 1da6d-1da74 1da76-1da83 ' +
  '1da85-1da86 1ecac 1f000-1f02b 1f030-1f093 1f0a0-1f0ae 1f0b1-1f0bf 1f0c1-1f0cf 1f0d1-1f0f5 1f110-1f16b ' +
  '1f170-1f1ac 1f1e6-1f202 1f210-1f23b 1f240-1f248 1f250-1f251 1f260-1f265 1f300-1f3fa 1f400-1f6d4 1f6e0-1f6ec ' +
  '1f6f0-1f6f9 1f700-1f773 1f780-1f7d8 1f800-1f80b 1f810-1f847 1f850-1f859 1f860-1f887 1f890-1f8ad 1f900-1f90b ' +
  '1f910-1f93e 1f940-1f970 1f973-1f976 1f97a 1f97c-1f9a2 1f9b0-1f9b9 1f9c0-1f9c2 1f9d0-1f9ff 1fa60-1fa6d ';

/** A space-separated list of hex code points and ranges ("61-7a df") as the body of a regex class. */
function classBody(ranges: string): string {
  return ranges
    .trim()
    .split(/ +/)
    .map((r) =>
      r
        .split('-')
        .map((h) => `\\u{${h}}`)
        .join('-'),
    )
    .join('');
}

/** spaCy's ALPHA: every letter its rules know (cased and uncased). */
export const ALPHA = classBody(UNCASED_RANGES + LOWER_RANGES + UPPER_RANGES + ALPHA_OTHER_RANGES);
/** spaCy's ALPHA_LOWER: lower-case letters and the uncased scripts. */
export const ALPHA_LOWER = classBody(UNCASED_RANGES + LOWER_RANGES);
/** spaCy's ALPHA_UPPER: upper-case letters and the uncased scripts. */
export const ALPHA_UPPER = classBody(UNCASED_RANGES + UPPER_RANGES);
/** spaCy's ICONS (other symbols, emoji). */
export const ICONS = classBody(ICONS_RANGES);
