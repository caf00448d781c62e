// `exportOnnx`: a trained classifier (one direction, or a forward-backward pair as one graph that averages
// the two) or a language model as an ONNX file that ONNX Runtime runs without LibTorch. The encoder is an
// embedding lookup and one ONNX LSTM node per layer (PyTorch's gate blocks i, f, g, o reordered to ONNX's i, o,
// f, c; bias = [b_ih, b_hh]); documents come right-padded with their lengths, so each LSTM stops at its
// row's length exactly as the engine's BPT3C does; a backward model reverses each row within its length.
// The classifier pools [last, max, mean] over each document's last maxLen tokens, as predict does, and its
// head keeps BatchNorm folded into a scale and a shift (evaluation statistics), then Linear, ReLU, softmax.
// Inputs: tokens int64 [batch, time], lengths int64 [batch]; dynamic batch and time.
import fs from 'node:fs';

import type { LanguageModel } from '../model/language-model.js';
import { info } from '../runtime.js';
import {
  dispose,
  load,
  type AnyClassifier,
  type AnyLanguageModel,
  type TextClassifier,
  type TextLanguageModel,
} from '../stages/text-models.js';
import { GraphBuilder, encodeModel, type ValueSpec } from './graph.js';
import { metadataProps, ONNX_FORMAT, ONNX_FORMAT_VERSION, type OnnxMetadata } from './metadata.js';

type Weights = { getTensor(name: string): { data: Float32Array; shape: number[] } };

const ONNX_GATES = [0, 3, 1, 2]; // ONNX block k takes PyTorch block ONNX_GATES[k]: i, o, f, c <- i, f, g, o

// [4H, n] PyTorch rows -> [1, 4H, n] in ONNX's gate order.
function reorderGates(data: Float32Array, rows: number, cols: number): Float32Array {
  const h = rows / 4;
  const out = new Float32Array(data.length);
  ONNX_GATES.forEach((from, to) => out.set(data.subarray(from * h * cols, (from + 1) * h * cols), to * h * cols));
  return out;
}

/** The embedding and LSTM layers over `tokens` [N, T]: the last layer's outputs [T, N, E] and last states [N, E]. */
function encoder(g: GraphBuilder, w: Weights, prefix: string, layers: number, tokens: string, lengths32: string) {
  const embedding = w.getTensor(`${prefix}encoder.weight`);
  let x = g.op('Transpose', [g.op('Gather', [g.floats('embedding', embedding.shape, embedding.data), tokens])], { perm: [1, 0, 2] });
  let last = '';
  for (let l = 0; l < layers; l++) {
    const t = (n: string) => w.getTensor(`${prefix}rnns.${l}.${n}`);
    const wih = t('module.weight_ih_l0');
    const whh = t('weight_hh_l0_raw');
    const [rows, inputs] = wih.shape as [number, number];
    const hidden = rows / 4;
    const bias = new Float32Array(8 * hidden);
    bias.set(reorderGates(t('module.bias_ih_l0').data, rows, 1), 0);
    bias.set(reorderGates(t('module.bias_hh_l0').data, rows, 1), rows);
    const W = g.floats(`W${l}`, [1, rows, inputs], reorderGates(wih.data, rows, inputs));
    const R = g.floats(`R${l}`, [1, rows, hidden], reorderGates(whh.data, rows, hidden));
    const B = g.floats(`B${l}`, [1, 8 * hidden], bias);
    const [y, yh] = g.node('LSTM', [x, W, R, B, lengths32], { hidden_size: hidden }, 2) as [string, string];
    x = g.op('Squeeze', [y, g.int64s('axis1', [1])]); // [T, 1, N, H] -> [T, N, H]
    last = g.op('Squeeze', [yh, g.int64s('axis0', [0])]); // [1, N, H] -> [N, H]
  }
  return { outputs: x, last };
}

// PyTorch's BatchNorm1d epsilon, which the engine's head uses as it is.
const BATCHNORM_EPS = 1e-5;

/** [rows, cols] row-major -> [cols, rows]: a Linear's weight as MatMul's right operand. */
function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

/** [last, max, mean] of the outputs [T, N, E] over each row's positions [max(0, length - maxLen), length). */
function pool(g: GraphBuilder, outputs: string, last: string, tokens: string, lengths: string, maxLen: number): string {
  const zero = g.int64s('zero', [0], []);
  const one = g.int64s('one', [1], []);
  const time = g.op('Gather', [g.op('Shape', [tokens]), one]);
  const positions = g.op('Unsqueeze', [g.op('Range', [zero, time, one]), g.int64s('axis1', [1])]); // [T, 1]
  const ends = g.op('Unsqueeze', [lengths, g.int64s('axis0', [0])]); // [1, N]
  let inWindow = g.op('Less', [positions, ends]);
  let count = lengths;
  if (Number.isFinite(maxLen)) {
    const starts = g.op('Max', [g.op('Sub', [lengths, g.int64s('maxLen', [maxLen], [])]), zero]);
    inWindow = g.op('And', [inWindow, g.op('GreaterOrEqual', [positions, g.op('Unsqueeze', [starts, g.int64s('axis0', [0])])])]);
    count = g.op('Sub', [lengths, starts]);
  }
  const mask = g.op('Unsqueeze', [inWindow, g.int64s('axis2', [2])]); // [T, N, 1]
  const maxPool = g.op('ReduceMax', [g.op('Where', [mask, outputs, g.scalar('minusInf', -Infinity)])], { axes: [0], keepdims: 0 });
  const sum = g.op('ReduceSum', [g.op('Mul', [outputs, g.op('Cast', [mask], { to: 1 })]), g.int64s('axis0', [0])], { keepdims: 0 });
  const meanPool = g.op('Div', [sum, g.op('Unsqueeze', [g.op('Cast', [count], { to: 1 }), g.int64s('axis1', [1])])]);
  return g.op('Concat', [last, maxPool, meanPool], { axis: 1 });
}

/** The head's blocks on the pooled features: BatchNorm folded into a scale and a shift, Linear, ReLU between. */
function head(g: GraphBuilder, c: TextClassifier, features: string): string {
  const w = c.model as unknown as Weights;
  const blocks = c.model.config.headHidden.length + 1;
  let x = features;
  for (let k = 0; k < blocks; k++) {
    const t = (n: string) => w.getTensor(`1.layers.${k}.${n}`).data;
    const [gamma, beta, mean, variance] = [t('0.weight'), t('0.bias'), t('0.running_mean'), t('0.running_var')];
    const scale = gamma.map((v, i) => v / Math.sqrt(variance[i]! + BATCHNORM_EPS));
    const shift = beta.map((v, i) => v - mean[i]! * scale[i]!);
    x = g.op('Add', [g.op('Mul', [x, g.floats(`bnScale${k}`, [scale.length], scale)]), g.floats(`bnShift${k}`, [shift.length], shift)]);
    const linear = w.getTensor(`1.layers.${k}.2.weight`);
    const [out, inp] = linear.shape as [number, number];
    x = g.op('MatMul', [x, g.floats(`linear${k}`, [inp, out], transpose(linear.data, out, inp))]);
    if (c.model.config.headBias) x = g.op('Add', [x, g.floats(`bias${k}`, [out], t('2.bias'))]);
    if (k + 1 < blocks) x = g.op('Relu', [x]);
  }
  return x;
}

/** One classifier's probabilities [N, classes] from tokens and lengths (both int64). */
function classifierProbabilities(g: GraphBuilder, c: TextClassifier, tokens: string, lengths: string): string {
  const cfg = c.model.config;
  const lengths32 = g.op('Cast', [lengths], { to: 6 }); // INT32, what LSTM's sequence_lens takes
  const read = c.direction === 'backward' ? g.op('ReverseSequence', [tokens, lengths], { batch_axis: 0, time_axis: 1 }) : tokens;
  const { outputs, last } = encoder(g, c.model as unknown as Weights, '0.module.', cfg.numLayers, read, lengths32);
  return g.op('Softmax', [head(g, c, pool(g, outputs, last, tokens, lengths, cfg.maxLen))], { axis: 1 });
}

/** A language model's next-token logits [N, T, vocab] for tokens [N, T] (a backward model's rows already reversed). */
function languageModelLogits(g: GraphBuilder, m: LanguageModel, tokens: string, lengths: string): string {
  const w = m as unknown as Weights;
  const { outputs } = encoder(g, w, '0.', m.config.numLayers, tokens, g.op('Cast', [lengths], { to: 6 }));
  const decoder = w.getTensor('0.encoder.weight'); // tied: the decoder is the embedding
  const [vocab, emb] = decoder.shape as [number, number];
  const transposed = new Float32Array(vocab * emb);
  for (let v = 0; v < vocab; v++) for (let e = 0; e < emb; e++) transposed[e * vocab + v] = decoder.data[v * emb + e]!;
  const logits = g.op('Add', [
    g.op('MatMul', [outputs, g.floats('decoder', [emb, vocab], transposed)]),
    g.floats('decoderBias', [vocab], w.getTensor('1.decoder.bias').data),
  ]);
  return g.op('Transpose', [logits], { perm: [1, 0, 2] });
}

const INPUTS: ValueSpec[] = [
  { name: 'tokens', type: 'int64', shape: ['batch', 'time'] },
  { name: 'lengths', type: 'int64', shape: ['batch'] },
];

/** The ONNX file of a classifier (or pair), as bytes. */
export function classifierToOnnx(model: AnyClassifier): Uint8Array {
  const members = model.kind === 'bidirectional' ? [model.forward, model.backward] : [model];
  const first = members[0]!;
  const g = new GraphBuilder();
  const probabilities = members.map((c) => classifierProbabilities(g, c, 'tokens', 'lengths'));
  const out = probabilities.length === 2 ? g.op('Div', [g.op('Add', probabilities), g.scalar('two', 2)]) : probabilities[0]!;
  g.nodes.push({ opType: 'Identity', name: 'output', input: [out], output: ['probabilities'] });
  const metadata: OnnxMetadata = {
    format: ONNX_FORMAT,
    formatVersion: ONNX_FORMAT_VERSION,
    kind: 'classifier',
    directions: members.map((c) => c.direction),
    vocab: [...first.vocab],
    classes: [...first.classes],
    input: { maxTokens: first.input.maxTokens, textFields: first.input.textFields },
    rulesVersion: first.rulesVersion,
    ulmfitVersion: info().ulmfit,
  };
  const outputs: ValueSpec[] = [{ name: 'probabilities', type: 'float', shape: ['batch', first.classes.length] }];
  return encodeModel(g, 'ulmfit-classifier', INPUTS, outputs, metadataProps(metadata), info().ulmfit);
}

/** The ONNX file of one language model, as bytes. */
export function languageModelToOnnx(model: TextLanguageModel): Uint8Array {
  const g = new GraphBuilder();
  const logits = languageModelLogits(g, model.model, 'tokens', 'lengths');
  g.nodes.push({ opType: 'Identity', name: 'output', input: [logits], output: ['logits'] });
  const metadata: OnnxMetadata = {
    format: ONNX_FORMAT,
    formatVersion: ONNX_FORMAT_VERSION,
    kind: 'language-model',
    directions: [model.direction],
    vocab: [...model.vocab],
    classes: null,
    input: { maxTokens: null, textFields: null },
    rulesVersion: model.rulesVersion,
    ulmfitVersion: info().ulmfit,
  };
  const outputs: ValueSpec[] = [{ name: 'logits', type: 'float', shape: ['batch', 'time', model.vocab.length] }];
  return encodeModel(g, 'ulmfit-language-model', INPUTS, outputs, metadataProps(metadata), info().ulmfit);
}

/**
 * Writes `model` (or the model directory it names) to `file` as ONNX: a classifier or forward-backward pair
 * (one graph, probabilities), or a language model (next-token logits; a pair of language models is refused:
 * export each direction alone).
 */
export function exportOnnx(model: AnyClassifier | AnyLanguageModel | string, file: string): void {
  if (typeof model === 'string') {
    const opened = load(model);
    try {
      if (opened.kind === 'bidirectional' && opened.forward.kind === 'language-model') {
        throw new TypeError(
          `exportOnnx: ${model} holds a pair of language models: export ${model}/forward and ${model}/backward one at a time`,
        );
      }
      return exportOnnx(opened as AnyClassifier | AnyLanguageModel, file);
    } finally {
      dispose(opened);
    }
  }
  let bytes: Uint8Array;
  if (model.kind === 'classifier' || (model.kind === 'bidirectional' && model.forward.kind === 'classifier')) {
    bytes = classifierToOnnx(model as AnyClassifier);
  } else if (model.kind === 'language-model') {
    bytes = languageModelToOnnx(model);
  } else {
    throw new TypeError('exportOnnx: a pair of language models: export its forward and backward models one at a time');
  }
  fs.writeFileSync(file, bytes);
}
