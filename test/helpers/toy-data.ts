// Small synthetic data for training tests: two classes told apart by their words (class 0 draws ids 2..20,
// class 1 ids 21..39), documents of 4 to 16 tokens, and a Learner source over them.
import { classifierBatches, TokenStore, type ClassifierBatchesOptionsInput } from '../../src/index.js';
import { batchIndices, ClassifierBatchesOptionsSchema } from '../../src/data/classifier-batches.js';

export function twoClassDocuments(n: number, seed: number): { store: TokenStore; labels: Int32Array } {
  const docs: Int32Array[] = [];
  const labels: number[] = [];
  for (let d = 0; d < n; d++) {
    const label = d % 2;
    const len = 4 + ((d * 7 + seed) % 13);
    docs.push(Int32Array.from({ length: len }, (_, i) => 2 + label * 19 + ((d * 5 + i * 3 + seed) % 19)));
    labels.push(label);
  }
  return { store: TokenStore.fromDocuments(docs), labels: Int32Array.from(labels) };
}

/** A Learner's training source over a labelled store, with its exact steps per epoch. */
export function classifierSource(data: { store: TokenStore; labels: Int32Array }, options: ClassifierBatchesOptionsInput) {
  const lengths = Int32Array.from({ length: data.store.documentCount }, (_, d) => data.store.documentLength(d));
  const stepsPerEpoch = batchIndices(lengths, ClassifierBatchesOptionsSchema.parse(options)).length;
  return { stepsPerEpoch, epoch: (e: number) => classifierBatches(data.store, data.labels, options, e) };
}
