// A fastai checkpoint (plus its itos pickle) turned into one of our model directories: the tensors are mapped
// by name (fastai-keys.ts), the model is built with the sizes their shapes give, every tensor is set, and the
// directory is saved with the itos as its vocabulary. Nothing of the file runs: it goes through our reader.
import fs from 'node:fs';

import { z } from 'zod';

import { Classifier } from '../model/classifier.js';
import { writeEncoderDirectory } from '../model/encoder-directory.js';
import { LanguageModel } from '../model/language-model.js';
import { validate } from '../options.js';
import { PAD, PAD_ID } from '../text/special-tokens.js';
import { CheckpointError } from './checkpoint-error.js';
import { fastaiState, type FastaiDialect, type FastaiKind } from './fastai-keys.js';
import { readItos } from './itos.js';
import { readTorchCheckpoint } from './torch-checkpoint.js';

export const ImportCheckpointOptionsSchema = z
  .object({
    weights: z.string().min(1).describe("The torch.save file: a state dict, learn.save's {'model', 'opt'}, or save_encoder's encoder."),
    vocab: z
      .union([z.string().min(1), z.array(z.string())])
      .optional()
      .describe("fastai's itos pickle (a path) or the tokens themselves, in id order; one per embedding row."),
    out: z.string().min(1).describe('The model directory to write.'),
    direction: z
      .enum(['forward', 'backward'])
      .default('forward')
      .describe("Which way the model reads text (fastai's backward models are trained on reversed streams)."),
    classes: z.array(z.string()).optional().describe("A classifier's class names in class-id order; class0, class1, ... otherwise."),
  })
  .strict();

export type ImportCheckpointOptions = z.input<typeof ImportCheckpointOptionsSchema>;

export interface ImportedCheckpoint {
  /** 'encoder': a save_encoder file, written as an encoder directory (kind "awd-lstm-encoder"). */
  kind: FastaiKind;
  dialect: FastaiDialect;
  out: string;
  config: {
    vocabSize: number;
    embSize: number;
    hiddenSize: number;
    numLayers: number;
    padId: number;
    numClasses?: number;
    headHidden?: number[];
    headBias?: boolean;
  };
  warnings: string[];
}

/** Reads a fastai checkpoint and writes it as a model directory at `out`; see ImportCheckpointOptionsSchema. */
export function importCheckpoint(options: ImportCheckpointOptions): ImportedCheckpoint {
  const o = validate(ImportCheckpointOptionsSchema, options, 'importCheckpoint options');
  // learn.save's 'opt' holds fastcore classes: skipped (left opaque) there, refused anywhere else.
  const checkpoint = readTorchCheckpoint(readFile(o.weights), o.weights, { skip: ['opt'] });
  const state = fastaiState(checkpoint.tensors, o.weights);
  const warnings = [...checkpoint.warnings, ...state.warnings];

  if (o.vocab === undefined) {
    throw new CheckpointError(
      o.weights,
      'importCheckpoint options: vocab is needed (fastai keeps the itos in its own pickle, beside the weights)',
    );
  }
  const vocabFile = typeof o.vocab === 'string' ? o.vocab : 'the vocab given';
  const vocab = typeof o.vocab === 'string' ? readItos(readFile(o.vocab), o.vocab) : o.vocab;
  const { vocabSize, embSize, hiddenSize, numLayers } = state.sizes;
  if (vocab.length !== vocabSize) {
    throw new CheckpointError(vocabFile, `holds ${vocab.length} tokens, but the embedding of ${o.weights} has ${vocabSize} rows`);
  }
  const pad = vocab.indexOf(PAD);
  const padId = pad >= 0 ? pad : PAD_ID;
  const sizes = { vocabSize, embSize, hiddenSize, numLayers, padId };

  if (state.kind === 'classifier') {
    const head = state.head!;
    const classes = o.classes ?? Array.from({ length: head.numClasses }, (_, i) => `class${i}`);
    if (classes.length !== head.numClasses) {
      throw new CheckpointError(o.weights, `the head has ${head.numClasses} classes, ${classes.length} class names were given`);
    }
    const model = new Classifier({
      ...sizes,
      numClasses: head.numClasses,
      headHidden: head.hidden,
      headDropouts: head.hidden.map(() => 0.1),
      headBias: head.bias,
    });
    try {
      setAll(model, state.tensors, o.weights);
      model.save(o.out, { vocab, classes, direction: o.direction });
    } finally {
      model.dispose();
    }
    return {
      kind: state.kind,
      dialect: state.dialect,
      out: o.out,
      config: { ...sizes, numClasses: head.numClasses, headHidden: head.hidden, headBias: head.bias },
      warnings,
    };
  }

  const model = new LanguageModel(sizes);
  try {
    setAll(model, state.tensors, o.weights);
    if (state.kind === 'encoder') writeEncoderDirectory(model, o.out, { vocab, direction: o.direction });
    else model.save(o.out, { vocab, direction: o.direction });
  } finally {
    model.dispose();
  }
  return { kind: state.kind, dialect: state.dialect, out: o.out, config: sizes, warnings };
}

/** Sets every parameter and buffer of `model`; the mapping must cover exactly the model's names. */
function setAll(
  model: LanguageModel | Classifier,
  tensors: ReadonlyMap<string, { shape: number[]; data: Float32Array }>,
  file: string,
): void {
  const { parameters, buffers } = model.parameters();
  for (const p of [...parameters, ...buffers]) {
    const t = tensors.get(p.name);
    // fastai-keys.ts builds every name from the same sizes as the model: a gap here is our bug, said plainly.
    if (!t || t.shape.length !== p.shape.length || t.shape.some((d, i) => d !== p.shape[i])) {
      throw new CheckpointError(file, `internal: no tensor of shape [${p.shape.join(', ')}] mapped for "${p.name}"`);
    }
    model.setTensor(p.name, t.data);
  }
}

function readFile(file: string): Uint8Array {
  return new Uint8Array(fs.readFileSync(file));
}
