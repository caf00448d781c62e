"""Writes test/golden/tokenizer.jsonl: documents and their tokens as fastai 2.7 makes them for English
(its default pre-rules, spacy.blank('en') with its special tokens as special cases, its post-rule),
stated here in Python so spaCy is the only dependency. One JSON object per line: id, text, tokens
(joined by U+0020, which no token holds after the post-rule).

  PYTHONPATH=<dir with spacy 3.8> python3 test/golden/tokenizer_golden.py test/golden/tokenizer.jsonl

Documents: paragraphs of the State of the Union addresses and Moby-Dick, blocks of raw SpamAssassin
e-mails (headers, HTML, quoted-printable), long ones cut at whitespace, chosen by a hash of their id, plus
hand-written hard cases.
"""
import hashlib
import html
import json
import re
import sys
from pathlib import Path

import spacy
from spacy.symbols import ORTH

if not spacy.__version__.startswith('3.8.'):
    sys.exit(f'tokenizer_golden: needs spaCy 3.8 (the version the tokenizer reproduces), found {spacy.__version__}')

ROOT = Path(__file__).resolve().parents[2]
DATASETS = ROOT / 'node_modules' / '@stdlib'
MAX_CHARS = 1200  # longer paragraphs are cut (at whitespace) into pieces of at most this

SPECIAL = 'xxunk xxpad xxbos xxeos xxfld xxrep xxwrep xxup xxmaj'.split()
UNK, BOS, REP, WREP, UP, MAJ = SPECIAL[0], SPECIAL[2], SPECIAL[5], SPECIAL[6], SPECIAL[7], SPECIAL[8]

# fastai.text.core's pre-rules, in defaults.text_proc_rules order.
HTML_FIXES = [('#39;', "'"), ('amp;', '&'), ('#146;', "'"), ('nbsp;', ' '), ('#36;', '$'), ('\\n', '\n'),
              ('quot;', "'"), ('<br />', '\n'), ('\\"', '"'), ('<unk>', UNK), (' @.@ ', '.'), (' @-@ ', '-'),
              ('...', ' …')]


def fix_html(t):
    for a, b in HTML_FIXES:
        t = t.replace(a, b)
    return html.unescape(t)


def replace_rep(t):
    return re.sub(r'(\S)(\1{2,})', lambda m: f' {REP} {len(m.group(2)) + 1} {m.group(1)} ', t)


def replace_wrep(t):
    def sub(m):
        word, middle, end = m.groups()
        return f' {WREP} {len(middle.split()) + 2} {word} {end}'
    return re.sub(r'(?:\s|^)(\w+)\s+((?:\1\s+)+)\1(\s|\W|$)', sub, t)


def spec_add_spaces(t):
    return re.sub(r'([/#\\])', r' \1 ', t)


def rm_useless_spaces(t):
    return re.sub(' {2,}', ' ', t)


def case_rule(pattern, marker):
    def rule(t):
        def sub(m):
            lead, word = m.group(1), m.group(2)
            return lead + (f'{marker} ' if len(word) > 1 else '') + word.lower()
        return re.sub(pattern, sub, t)
    return rule


replace_all_caps = case_rule(r'(\s|^)([A-Z]+[^a-z\s]*)(?=(\s|$))', UP)
replace_maj = case_rule(r'(\s|^)([A-Z][^A-Z\s]*)(?=(\s|$))', MAJ)


def lowercase(t):
    return f'{BOS} ' + t.lower().strip()


PRE_RULES = [fix_html, replace_rep, replace_wrep, spec_add_spaces, rm_useless_spaces, replace_all_caps,
             replace_maj, lowercase]

nlp = spacy.blank('en')
for tok in SPECIAL:
    nlp.tokenizer.add_special_case(tok, [{ORTH: tok}])


def tokenize(text):
    for rule in PRE_RULES:
        text = rule(text)
    return [t.text.replace(' ', '\u2581') for t in nlp(text)]


def picked(doc_id, per_mille):
    return int(hashlib.md5(doc_id.encode()).hexdigest()[:8], 16) % 1000 < per_mille


def pieces(text):
    """Paragraphs, long ones cut at whitespace into pieces of at most MAX_CHARS."""
    for para in re.split(r'\n\s*\n', text):
        while len(para) > MAX_CHARS:
            cut = max(para.rfind(' ', MAX_CHARS // 2, MAX_CHARS), para.rfind('\n', MAX_CHARS // 2, MAX_CHARS))
            cut = cut if cut > 0 else MAX_CHARS
            yield para[:cut]
            para = para[cut:]
        if para.strip():
            yield para


def corpus_docs():
    """(id, text) of the real documents, in a fixed order."""
    sets = [
        ('sotu', sorted((DATASETS / 'datasets-sotu' / 'data').glob('*.json')), 100),
        ('moby', sorted((DATASETS / 'datasets-moby-dick' / 'data').glob('*.json')), 200),
        ('spam', sorted((DATASETS / 'datasets-spam-assassin' / 'data').glob('*/*.json')), 25),
    ]
    for name, files, per_mille in sets:
        for f in files:
            data = json.loads(f.read_text(encoding='utf-8'))
            if not isinstance(data, dict) or not isinstance(data.get('text'), str):
                continue
            rel = f.relative_to(f.parents[1] if name == 'spam' else f.parent).as_posix()
            for k, piece in enumerate(pieces(data['text'])):
                doc_id = f'{name}/{rel}#{k}'
                if piece.strip() and picked(doc_id, per_mille):
                    yield doc_id, piece


# Hand-written hard cases: what real corpora rarely show but users will feed in.
HARD = [
    'I don\'t think it\'s THAT bad... Do you? We\'re gonna win, can\'t lose, won\'t stop, ain\'t done.',
    'Dont worry, youre fine; theyll see. Im here, hes gone, shes back, its ok, cannot stop, gotta go.',
    'I\'ll, you\'d, we\'ve, they\'re, who\'s, what\'s, there\'s, that\'ll, y\'all, c\'mon, let\'s, o\'clock, ma\'am',
    'It\u2019s typographic: don\u2019t, we\u2019re, ‘quoted’, “double”, „low“, «guillemets», ‹single›.',
    'Mr. Smith met Mrs. Jones and Dr. Who at 5 p.m. on Jan. 3rd, e.g. at St. Paul\'s; i.e. not Ph.D. stuff vs. U.S.A.',
    'At 10am, 11:30 p.m., 12pm and 3a.m. -- a.m. and p.m. -- the 1st, 2nd, 3rd and 4th of July 1776.',
    'Prices: $5, $5.00, US$10, €20, £3.50, ¥1000, 5$, 10%, 3.14, 1,000,000, -7, +8, 1e10, 0x1F, 2^10, 3*4, 5-6, 7+8.',
    'Units: 5km, 10kg, 3.5m/s, 100mph, 20°C, 32°F., 8GB, 500MB, 2TB, 12oz, 6ft, 1mm², 100 m², 5km/h.',
    'Dates: 2024-01-31, 31/01/2024, 01.31.2024, Jan 31, 2024; times 23:59:59 and 12:00.',
    'Visit http://www.example.com, https://sub.domain.co.uk/path/to/page.html?q=1&r=2#frag or www.test.org!',
    'Mail me at john.doe@example.com or <jane_doe+tag@mail.example.org>; ftp://files.example.net/pub/.',
    'IPs: 192.168.1.1, 8.8.8.8, 10.0.0.1 and 255.255.255.255; localhost:8080 and example.com:443/path.',
    'Emoticons :) :-( ;) :D :P <3 </3 ^_^ -_- o.O (^_^) ¯\\_(ツ)_/¯ and :))) and xD',
    'Emoji: 😀😀😀 👍🏽 🇫🇷 👨‍👩‍👧 ❤️ ✨🎉 and text😀text and 🙂🙂.',
    'Repeats: sooooo goooood!!!!! ??? ... ---- ==== ____ ..... zzz aaaa bbb',
    'Words: very very very very good, no no no, ha ha ha ha ha, the the the end. Go go go!',
    'ALL CAPS SHOUTING IS HERE, and NASA, FBI, USA\'s, OK? A I X, CamelCase, McDonald, iPhone, eBay.',
    'Sentence Case Everywhere In This Title: The Quick Brown Fox.',
    'HTML: &amp; &lt;b&gt;bold&lt;/b&gt; &quot;quoted&quot; &#39;apos&#39; &nbsp;x &copy; '
    '&eacute;t&eacute; &#8364; &#x20AC; &#146; &#36;5',
    'More HTML: <br />line<br />break <p>para</p> <a href="http://x.com">link</a> &notit; &amp &lt3 &#0; &#x110000; &#128;',
    'Escapes: a\\nb and \\"quoted\\" and <unk> and a @-@ b and 3 @.@ 5 and wait...what',
    'Slashes and hashes: and/or, w/o, 1/2, a/b/c, #hashtag, C#, path\\to\\file, 50/50.',
    'Hyphens: well-known, state-of-the-art, e-mail, x-ray, 1990-2000, A-1, --dash--, em—dash, en–dash, 5-year-old.',
    'Quotes: "Hello," she said. \'Yes,\' he replied. ``LaTeX\'\' style. (Parenthetical.) [Bracketed] {braced}.',
    'Ellipsis… and…this, and more....and etc.. end.',
    'Tabs\tand\t\ttabs, CRLF\r\nlines\r\n\r\nand form\x0cfeed and vertical\x0btab and nbsp\u00a0here.',
    'Spaces:   many   spaces,\n\n\nthree newlines,\n \n mixed, trailing   ',
    '   leading and trailing whitespace   \n',
    '',
    'Cyrillic: Привет, мир! Это тест. МОСКВА и Санкт-Петербург, 5км, 10кг.',
    'Greek: Γειά σου Κόσμε! ΟΔΟΣ and Σίσυφος; το αλφάβητο.',
    'CJK: 你好，世界！这是一个测试。日本語のテキストです。한국어 텍스트입니다.',
    'Arabic: مرحبا بالعالم! هذا اختبار. ٣٤٥ ٪ و؟',
    'Accented: café, naïve, résumé, Ångström, Øresund, Straße, İstanbul, ÉCOLE, Über, façade.',
    'Hebrew: שלום עולם. Hindi: नमस्ते दुनिया। Thai: สวัสดีชาวโลก.',
    'Math: x=y+z, a<b>c, 2+2=4, f(x)=x^2, 1/0, 3.5e-7, ∑∫√∞ ≠ ≈ ±.',
    'Special tokens typed in: xxbos xxmaj xxunk xxup xxrep xxwrep xxfld xxpad xxeos (xxmaj) xxbos.',
    'Abbrev: a. b. c. x-a. U.S. U.K. etc. Inc. Corp. Ltd. co. vs. v.s. No. 5, Fig. 3, approx. 10.',
    'Apostrophes: rock \'n\' roll, \'90s, the 1990\'s, Jones\' house, James\'s, \'tis, o\'er, ne\'er-do-well.',
    'Odd: \u200bzero\u200bwidth, soft\u00adhyphen, \ufeffbom, combining e\u0301, ligature ﬁ, fullwidth ＡＢＣ ａｂｃ.',
    'Numbers with signs: -5, +5, ±5, 5+, 5-, (555) 555-5555, #1, No.1, 1st, 22nd, 3.14.15, 1.2.3.4.5.',
    'Punct clusters: Hi!? Really?! What... Wow!!! (see above.) "End." \'Fin.\' [1] {2} <3> ...and.',
    'Code: if (x > 0) { return y; } else { foo_bar(baz); } // comment /* block */ a->b a=>b a::b.',
    'Path: /usr/local/bin, C:\\Windows\\System32, ~/home/.config, ./run.sh, ../up.',
    'Hash: #1 #hashtag @mention $VAR %PATH% ^caret ~tilde `backtick` |pipe| &and.',
    'Long word: pneumonoultramicroscopicsilicovolcanoconiosis and aaaaaaaaaaaaaaaaaaaa and abababababab.',
    'Mixed script: Tokyo東京Tokyo, Москва-Moscow, 日本-Japan, iPhone的, α-beta, 5€, €5.',
    'Word rep with punctuation: yes, yes, yes, yes! no. no. no. and go go go. and GO GO GO GO.',
    'CAPS with numbers: MP3 PLAYER, COVID-19, B2B, 4G LTE, USB-C, A4 PAPER, H2O, K9.',
    'Quoted caps: "HELLO" \'WORLD\' (SHOUT) [LOUD] HELLO, WORLD. Hello, World.',
    'Edge dots: .hidden file. ..double. ...triple. U.S.A. A.B. a.b. .5 5. 5.. x.y.z',
    'Lone quotes: \' " ` ´ and \'\' and "" and `` and \'s \'S \'re \'ll \'d \'ve n\'t.',
    'Times and ratios: 3:2, 10:30am, 9-5, 24/7, 1:1, 16:9, 4:3.',
    '\u00a0\u00a0nbsp lead and\u3000ideographic space and\u2003em space and\u2028line sep.',
    'Ligatures &amp; entities: &hellip; &mdash; &ndash; &lsquo;single&rsquo; &ldquo;double&rdquo; &trade; &reg;',
    'Nested HTML: <div class="a"><span style="color:red">Red</span><img src="x.png" alt="X"/></div>',
    'Email header: From: "John Doe" <john@doe.com>\nSubject: Re: [List] Hello!!!\nDate: Mon, 1 Jan 2001 00:00:00 -0500',
    'Quoted-printable: caf=E9 and =3D and soft=\nbreak and =20 space.',
    'Base64: SGVsbG8gV29ybGQhIFRoaXMgaXMgYSB0ZXN0Lg== and aGVsbG8=',
    'Wrep across lines:\nhello\nhello\nhello\nworld',
    'Tricky caps: I I I, A A A A, OK OK OK, x X x X, I\'m I\'M IM.',
    'Final sigma: ΟΔΥΣΣΕΥΣ ΣΑΣ Σ ΣΣ.',
]


def main(out_path):
    lines = []
    for k, text in enumerate(HARD):
        lines.append({'id': f'hard#{k}', 'text': text, 'tokens': ' '.join(tokenize(text))})
    for doc_id, text in corpus_docs():
        try:
            text.encode('utf-8')
        except UnicodeEncodeError:  # lone surrogates cannot be written as UTF-8
            continue
        lines.append({'id': doc_id, 'text': text, 'tokens': ' '.join(tokenize(text))})
    with open(out_path, 'w', encoding='utf-8', newline='\n') as f:
        for line in lines:
            f.write(json.dumps(line, ensure_ascii=False) + '\n')
    print(f'tokenizer_golden: {len(lines)} documents written to {out_path}')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else str(ROOT / 'test' / 'golden' / 'tokenizer.jsonl'))
