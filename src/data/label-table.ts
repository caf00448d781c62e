// The labels of a corpus as it is read: provisional ids in first-seen order, checked against the classes
// when they are given; at the end, the classes (given, or the labels seen, sorted) and each document's class id.
import { GrowableInt32 } from './growable.js';
import { DataError } from './read-error.js';

interface Labelled {
  label?: string;
  source?: string;
  line?: number | null;
}

export class LabelTable {
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];
  readonly #perDocument = new GrowableInt32();
  /** Whether the documents carry labels: decided by the first one, and every other must agree. */
  #labelled: boolean | null = null;

  constructor(readonly classes: readonly string[] | undefined) {}

  get labelled(): boolean {
    return this.#labelled === true;
  }

  /** The document's provisional label id (null for an unlabelled corpus). */
  idOf(doc: Labelled): number | null {
    const isLabelled = doc.label !== undefined;
    if (this.#labelled === null) this.#labelled = isLabelled;
    else if (this.#labelled !== isLabelled)
      throw new DataError('some documents have a label and some do not', doc.source ?? null, doc.line ?? null);
    if (!isLabelled) return null;
    const label = doc.label!;
    if (this.classes && !this.classes.includes(label)) {
      throw new DataError(
        `label "${label}" is not one of the classes ${JSON.stringify(this.classes)}`,
        doc.source ?? null,
        doc.line ?? null,
      );
    }
    let id = this.#ids.get(label);
    if (id === undefined) {
      id = this.#names.length;
      this.#ids.set(label, id);
      this.#names.push(label);
    }
    return id;
  }

  /** Keeps a document's label (documents that produced no token are never kept). */
  keep(id: number): void {
    this.#perDocument.push(id);
  }

  /** The classes and each kept document's class id; null for an unlabelled corpus. */
  finish(): { classes: string[]; classIds: Int32Array } | null {
    if (!this.labelled) return null;
    const classes = this.classes ? [...this.classes] : [...this.#names].sort();
    if (classes.length < 2)
      throw new DataError(`a labelled set needs at least two classes; found ${classes.length}: ${JSON.stringify(classes)}`);
    const toClass = this.#names.map((name) => classes.indexOf(name));
    return { classes, classIds: Int32Array.from(this.#perDocument.data.subarray(0, this.#perDocument.length), (l) => toClass[l]!) };
  }
}
