// ulmfit's side of the tokenization benchmark, in its own process:
//   node bench/data-tokenize.js '{"threads": 1}'
// Tokenizes and numericalizes the SOTU corpus once (a vocabulary is built: the counting is included) and
// prints one JSON line: { tokensPerSecond, tokens, seconds, threads, peakRssMB }.
import { encodeCorpus } from '../dist/index.js';
import { sotu } from './corpora.js';

const cell = JSON.parse(process.argv[2]);
const docs = sotu().map((text) => ({ text }));
const start = performance.now();
const { summary } = await encodeCorpus(docs, { threads: cell.threads });
const seconds = (performance.now() - start) / 1000;
console.log(
  JSON.stringify({
    tokensPerSecond: summary.tokens / seconds,
    tokens: summary.tokens,
    seconds,
    threads: summary.threads,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
