// Metrics from what the engines' eval steps return: summed losses and counts for the language model,
// confusion counts for the classifier. Pure functions, so a run's figures can be recomputed from its log.

export interface LmMetrics {
  /** Mean cross-entropy per token. */
  loss: number;
  /** exp(loss): the token-weighted perplexity. */
  perplexity: number;
  accuracy: number;
  tokens: number;
}

/** Accumulated LM evaluation: per-batch summed cross-entropy, token and correct counts. */
export function lmMetrics(batches: readonly { loss: number; tokens: number; correct: number }[]): LmMetrics {
  let loss = 0;
  let tokens = 0;
  let correct = 0;
  for (const b of batches) {
    loss += b.loss;
    tokens += b.tokens;
    correct += b.correct;
  }
  if (tokens === 0) throw new RangeError('lmMetrics: no tokens were evaluated');
  return { loss: loss / tokens, perplexity: Math.exp(loss / tokens), accuracy: correct / tokens, tokens };
}

export interface ClassifierMetrics {
  /** Mean cross-entropy per document. */
  loss: number;
  accuracy: number;
  errorRate: number;
  /** The mean over classes of F1 (a class never predicted nor present counts as 0, as scikit-learn's default warns). */
  macroF1: number;
  /** confusion[label][predicted]. */
  confusion: number[][];
  count: number;
}

/** Accumulated classifier evaluation: per-batch summed loss, count and confusion matrix. */
export function classifierMetrics(batches: readonly { loss: number; count: number; confusion: number[][] }[]): ClassifierMetrics {
  if (batches.length === 0) throw new RangeError('classifierMetrics: no batches were evaluated');
  const n = batches[0]!.confusion.length;
  const confusion = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  let loss = 0;
  let count = 0;
  for (const b of batches) {
    loss += b.loss;
    count += b.count;
    b.confusion.forEach((row, i) => row.forEach((v, j) => (confusion[i]![j]! += v)));
  }
  if (count === 0) throw new RangeError('classifierMetrics: no documents were evaluated');
  let correct = 0;
  let f1Sum = 0;
  for (let c = 0; c < n; c++) {
    const tp = confusion[c]![c]!;
    correct += tp;
    const actual = confusion[c]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[c]!, 0);
    f1Sum += actual + predicted === 0 ? 0 : (2 * tp) / (actual + predicted);
  }
  return { loss: loss / count, accuracy: correct / count, errorRate: 1 - correct / count, macroF1: f1Sum / n, confusion, count };
}
