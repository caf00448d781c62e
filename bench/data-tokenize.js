// ulmfit's side of the tokenization benchmark, in its own process:
//   node bench/data-tokenize.js '{"workers": 0}'
// Tokenizes and numericalizes the SOTU corpus once (a vocabulary is built: the counting is included) and
// prints one JSON line: { tokensPerSecond, tokens, seconds, workers, peakRssMB }.
import { encodeCorpus } from '../dist/index.js';
import { sotu } from './corpora.js';

const cell = JSON.parse(process.argv[2]);
const docs = sotu().map((text) => ({ text }));
const start = performance.now();
const { summary } = await encodeCorpus(docs, { workers: cell.workers });
const seconds = (performance.now() - start) / 1000;
console.log(
  JSON.stringify({
    tokensPerSecond: summary.tokens / seconds,
    tokens: summary.tokens,
    seconds,
    workers: summary.workers,
    peakRssMB: process.resourceUsage().maxRSS / 1024,
  }),
);
