// What a read saw, so that nothing the readers skip or repair goes unnoticed. A caller creates one, passes it
// to a reader and inspects it after the stream ends; several reads may share one summary to add up.
export interface ReadSummary {
  /** Files opened. */
  files: number;
  /** Bytes read from those files. */
  bytesRead: number;
  /** Documents yielded. */
  documents: number;
  /** Empty or whitespace-only documents (and blank JSONL/CSV lines) skipped. */
  emptySkipped: number;
  /** Documents in which invalid UTF-8 was replaced by U+FFFD. */
  invalidUtf8Documents: number;
  /** Invalid UTF-8 sequences replaced, over all documents. */
  invalidUtf8Sequences: number;
  /** Labelled sets: documents yielded per class. */
  classCounts: Record<string, number>;
  /** Labelled sets: the class list (as given, else sorted), set once it is known; empty for a corpus. */
  classes: string[];
}

export function createReadSummary(): ReadSummary {
  return {
    files: 0,
    bytesRead: 0,
    documents: 0,
    emptySkipped: 0,
    invalidUtf8Documents: 0,
    invalidUtf8Sequences: 0,
    // No prototype: a label such as "constructor" or "__proto__" is just a key.
    classCounts: Object.create(null) as Record<string, number>,
    classes: [],
  };
}

/** Counts one decoded document; false when it is empty and must be skipped. */
export function countDocument(summary: ReadSummary, text: string, invalidSequences: number): boolean {
  if (invalidSequences > 0) {
    summary.invalidUtf8Documents++;
    summary.invalidUtf8Sequences += invalidSequences;
  }
  if (isBlank(text)) {
    summary.emptySkipped++;
    return false;
  }
  summary.documents++;
  return true;
}

const NON_BLANK = /\S/;

export function isBlank(text: string): boolean {
  return !NON_BLANK.test(text);
}
