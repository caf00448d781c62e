// fastai's state-dict key names (v2, v1, 0.7-era; language model, classifier, save_encoder; bare or inside
// learn.save's {'model', 'opt'}) mapped by name onto our parameter names. Sizes come from the shapes; every
// tensor our model needs must be there with the shape those sizes give, and nothing unaccounted for may be
// left over, so a checkpoint of another architecture (QRNN, untied decoder, ...) is refused, never half-read.
import { CheckpointError } from './checkpoint-error.js';
import type { TensorData } from './dtypes.js';
import type { TorchTensor } from './torch-values.js';

export type FastaiKind = 'language-model' | 'classifier' | 'encoder';
export type FastaiDialect = 'fastai-v2' | 'fastai-v1' | 'fastai-0.7';

export interface FastaiSizes {
  vocabSize: number;
  embSize: number;
  hiddenSize: number;
  numLayers: number;
}

export interface FastaiState {
  /** 'encoder': a save_encoder file (embedding and LSTM layers only). */
  kind: FastaiKind;
  dialect: FastaiDialect;
  sizes: FastaiSizes;
  /** Classifier only: the head's hidden sizes, the number of classes, whether its Linear layers have biases (fastai v1). */
  head: { hidden: number[]; numClasses: number; bias: boolean } | null;
  /**
   * Every tensor under our names: a language model's (and an encoder's, as a language model with a zero
   * decoder bias) or a classifier's ("0.module." encoder, "1.layers." head).
   */
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  warnings: string[];
}

// The embedding's names, relative to the encoder prefix: the first is its own, the others fastai's tied copies.
const EMBEDDING = 'encoder.weight';
const EMBEDDING_COPIES = ['encoder_dp.emb.weight', 'encoder_with_dropout.embed.weight'];

/** The state of our model that the checkpoint's `tensors` (as readTorchCheckpoint names them) describe. */
export function fastaiState(tensors: ReadonlyMap<string, TorchTensor>, file: string): FastaiState {
  const warnings: string[] = [];
  const keys = new Map(stripLearnerPrefix(tensors, file, warnings));
  const left = new Set(keys.keys());
  const take = (key: string): TorchTensor | undefined => {
    left.delete(key);
    return keys.get(key);
  };
  const need = (key: string): TorchTensor => {
    const t = take(key);
    if (!t) throw new CheckpointError(file, `missing tensor "${key}"`);
    return t;
  };

  const { kind, prefix } = layoutOf(keys, file);
  const dialect: FastaiDialect = keys.has(`${prefix}${EMBEDDING_COPIES[1]}`)
    ? 'fastai-0.7'
    : [...keys.keys()].some((k) => /rnns\.\d+\.module\.weight_hh_l0$/.test(k))
      ? 'fastai-v1'
      : 'fastai-v2';

  // The embedding, and its tied copies: each must hold the same values (our model has one tensor for them).
  const names = [EMBEDDING, ...EMBEDDING_COPIES].map((n) => prefix + n).filter((n) => keys.has(n));
  if (kind === 'language-model' && keys.has('1.decoder.weight')) names.push('1.decoder.weight');
  if (names.length === 0) throw new CheckpointError(file, `missing tensor "${prefix}${EMBEDDING}"`);
  const embedding = need(names[0]!);
  if (embedding.shape.length !== 2)
    throw new CheckpointError(file, `"${names[0]}" has shape ${shapeText(embedding.shape)}, not [vocab, emb]`);
  const [vocabSize, embSize] = embedding.shape as [number, number];
  const embeddingData = floats(embedding, file);
  for (const copy of names.slice(1)) {
    const t = need(copy);
    expectShape(t, copy, embedding.shape, file);
    if (!sameValues(floats(t, file), embeddingData)) {
      throw new CheckpointError(
        file,
        `"${copy}" differs from "${names[0]}": this model ties them (one tensor), so an untied checkpoint cannot be imported`,
      );
    }
  }

  // LSTM layers: as many as rnns.<l> indices run; hidden size from the first layer's recurrent weight.
  let numLayers = 0;
  while ([...keys.keys()].some((k) => k.startsWith(`${prefix}rnns.${numLayers}.`))) numLayers++;
  if (numLayers === 0) throw new CheckpointError(file, `missing tensor "${prefix}rnns.0.weight_hh_l0_raw" (no LSTM layers)`);
  const rawName = (l: number) =>
    dialect === 'fastai-0.7' ? `${prefix}rnns.${l}.module.weight_hh_l0_raw` : `${prefix}rnns.${l}.weight_hh_l0_raw`;
  let hiddenSize = embSize; // unused by a one-layer model, whose only layer outputs embSize
  if (numLayers > 1) {
    const first = keys.get(rawName(0));
    if (!first) throw new CheckpointError(file, `missing tensor "${rawName(0)}"`);
    if (first.shape.length !== 2 || first.shape[0] !== 4 * first.shape[1]!) {
      throw new CheckpointError(file, `"${rawName(0)}" has shape ${shapeText(first.shape)}, not [4 x hidden, hidden]`);
    }
    hiddenSize = first.shape[1]!;
  }

  const ours = (name: string) => (kind === 'classifier' ? `0.module.${name}` : `0.${name}`);
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  const set = (ourName: string, key: string, t: TorchTensor, shape: number[]) => {
    expectShape(t, key, shape, file);
    out.set(ourName, { shape, data: floats(t, file) });
  };
  out.set(ours(EMBEDDING), { shape: [vocabSize, embSize], data: embeddingData });
  for (let l = 0; l < numLayers; l++) {
    const n = l === numLayers - 1 ? embSize : hiddenSize;
    const nIn = l === 0 ? embSize : hiddenSize;
    const at = `${prefix}rnns.${l}.module.`;
    set(ours(`rnns.${l}.weight_hh_l0_raw`), rawName(l), need(rawName(l)), [4 * n, n]);
    // fastai v1 also saves the weight-dropped copy of the recurrent weight: the raw one is the weight.
    if (dialect === 'fastai-v1') take(`${at}weight_hh_l0`);
    set(ours(`rnns.${l}.module.weight_ih_l0`), `${at}weight_ih_l0`, need(`${at}weight_ih_l0`), [4 * n, nIn]);
    set(ours(`rnns.${l}.module.bias_ih_l0`), `${at}bias_ih_l0`, need(`${at}bias_ih_l0`), [4 * n]);
    set(ours(`rnns.${l}.module.bias_hh_l0`), `${at}bias_hh_l0`, need(`${at}bias_hh_l0`), [4 * n]);
  }

  let head: FastaiState['head'] = null;
  if (kind === 'language-model' || kind === 'encoder') {
    // fastai 0.7's decoder had no bias, nor has an encoder on its own: zeros, which change no prediction's order.
    const bias = take('1.decoder.bias');
    if (bias) set('1.decoder.bias', '1.decoder.bias', bias, [vocabSize]);
    else if (kind === 'language-model' && dialect !== 'fastai-0.7') throw new CheckpointError(file, 'missing tensor "1.decoder.bias"');
    else out.set('1.decoder.bias', { shape: [vocabSize], data: new Float32Array(vocabSize) });
  } else {
    head = readHead(keys, take, need, set, (name) => out.set(name, { shape: [], data: new Float32Array(1) }), 3 * embSize, file);
  }

  if (left.size > 0) {
    const list = [...left]
      .slice(0, 8)
      .map((k) => `"${k}"`)
      .join(', ');
    throw new CheckpointError(
      file,
      `unexpected tensor${left.size > 1 ? 's' : ''} ${list}${left.size > 8 ? ` and ${left.size - 8} more` : ''} (not part of an AWD-LSTM ${kind})`,
    );
  }
  return { kind, dialect, sizes: { vocabSize, embSize, hiddenSize, numLayers }, head, tensors: out, warnings };
}

/** learn.save writes {'model': state_dict, 'opt': optimizer state}: the model's keys, without their "model.". */
function stripLearnerPrefix(tensors: ReadonlyMap<string, TorchTensor>, file: string, warnings: string[]): [string, TorchTensor][] {
  const all = [...tensors];
  if (!all.some(([k]) => k.startsWith('model.'))) return all;
  const model = all.filter(([k]) => k.startsWith('model.')).map(([k, t]): [string, TorchTensor] => [k.slice('model.'.length), t]);
  const other = all.filter(([k]) => !k.startsWith('model.') && !k.startsWith('opt.')).map(([k]) => `"${k}"`);
  if (other.length > 0)
    throw new CheckpointError(
      file,
      `unexpected tensor${other.length > 1 ? 's' : ''} ${other.slice(0, 8).join(', ')} beside learn.save's 'model' and 'opt'`,
    );
  if (all.some(([k]) => k.startsWith('opt.')))
    warnings.push(`${file}: the optimizer state ('opt') is not imported; training restarts its statistics`);
  return model;
}

/** Which model the keys describe, and the prefix of the encoder's keys in it. */
function layoutOf(keys: ReadonlyMap<string, TorchTensor>, file: string): { kind: FastaiKind; prefix: string } {
  const hasEncoderAt = (prefix: string) => [EMBEDDING, ...EMBEDDING_COPIES].some((n) => keys.has(prefix + n));
  if (hasEncoderAt('0.module.')) return { kind: 'classifier', prefix: '0.module.' };
  if (hasEncoderAt('0.')) return { kind: 'language-model', prefix: '0.' };
  // save_encoder: the encoder's own state dict (fastai v1 saves a classifier's MultiBatchEncoder, so "module.").
  if (hasEncoderAt('')) return { kind: 'encoder', prefix: '' };
  if (hasEncoderAt('module.')) return { kind: 'encoder', prefix: 'module.' };
  const some = [...keys.keys()]
    .slice(0, 5)
    .map((k) => `"${k}"`)
    .join(', ');
  throw new CheckpointError(
    file,
    `no fastai AWD-LSTM embedding ("0.encoder.weight", "0.module.encoder.weight" or "encoder.weight") among its tensors${some ? ` (${some}, ...)` : ''}`,
  );
}

/**
 * The classifier's head, in either layout: fastai v2's blocks 1.layers.K of BatchNorm1d (.0), Dropout (.1)
 * and Linear without bias (.2); or fastai v1's one flat Sequential (1.layers.0 BatchNorm1d, .1 Dropout,
 * .2 Linear with a bias, .3 ReLU, .4 BatchNorm1d, ...), whose modules are told apart by their tensors.
 * Either way it comes out under the v2 block names, with `bias` saying whether the Linear layers have one.
 */
function readHead(
  keys: ReadonlyMap<string, TorchTensor>,
  take: (key: string) => TorchTensor | undefined,
  need: (key: string) => TorchTensor,
  set: (ourName: string, key: string, t: TorchTensor, shape: number[]) => void,
  zeroScalar: (ourName: string) => void,
  pooled: number,
  file: string,
): { hidden: number[]; numClasses: number; bias: boolean } {
  const headKeys = [...keys.keys()].filter((k) => k.startsWith('1.layers.'));
  if (headKeys.length === 0) throw new CheckpointError(file, 'missing tensor "1.layers.0.2.weight" (no classifier head)');
  const flat = headKeys.some((k) => /^1\.layers\.\d+\.[a-z_]+$/.test(k));
  // Each block: where its BatchNorm's and its Linear's tensors are in the checkpoint.
  const blocks: { bn: string; linear: string }[] = [];
  if (flat) {
    const modules = [...new Set(headKeys.map((k) => Number(k.split('.')[2])))].sort((a, b) => a - b);
    let bn: string | null = null;
    for (const m of modules) {
      const at = `1.layers.${m}.`;
      if (keys.has(`${at}running_mean`)) {
        if (bn)
          throw new CheckpointError(
            file,
            `"${at}running_mean": two BatchNorm layers in a row in the head (fastai v1 alternates BatchNorm1d and Linear)`,
          );
        bn = at;
      } else {
        if (!bn)
          throw new CheckpointError(
            file,
            `"${at}weight": a Linear layer without the BatchNorm1d before it (fastai v1's head alternates them)`,
          );
        blocks.push({ bn, linear: at });
        bn = null;
      }
    }
    if (bn) throw new CheckpointError(file, `"${bn}running_mean": the head ends with a BatchNorm layer, not a Linear one`);
  } else {
    for (let k = 0; headKeys.some((key) => key.startsWith(`1.layers.${k}.`)); k++)
      blocks.push({ bn: `1.layers.${k}.0.`, linear: `1.layers.${k}.2.` });
  }
  const bias = keys.has(`${blocks[0]!.linear}bias`);
  const outs: number[] = [];
  let nIn = pooled;
  blocks.forEach(({ bn, linear }, k) => {
    const ours = `1.layers.${k}.`;
    for (const part of ['weight', 'bias', 'running_mean', 'running_var'])
      set(`${ours}0.${part}`, `${bn}${part}`, need(`${bn}${part}`), [nIn]);
    // torch before 0.4.1 saved no num_batches_tracked; it only matters to BatchNorm with momentum None.
    const tracked = take(`${bn}num_batches_tracked`);
    if (tracked) set(`${ours}0.num_batches_tracked`, `${bn}num_batches_tracked`, tracked, []);
    else zeroScalar(`${ours}0.num_batches_tracked`);
    const weight = keys.get(`${linear}weight`);
    if (!weight) throw new CheckpointError(file, `missing tensor "${linear}weight"`);
    if (weight.shape.length !== 2)
      throw new CheckpointError(file, `"${linear}weight" has shape ${shapeText(weight.shape)}, not [out, ${nIn}]`);
    const nOut = weight.shape[0]!;
    set(`${ours}2.weight`, `${linear}weight`, need(`${linear}weight`), [nOut, nIn]);
    if (bias) set(`${ours}2.bias`, `${linear}bias`, need(`${linear}bias`), [nOut]);
    else if (keys.has(`${linear}bias`))
      throw new CheckpointError(file, `"${linear}bias": some of the head's Linear layers have a bias and others not`);
    outs.push(nOut);
    nIn = nOut;
  });
  return { hidden: outs.slice(0, -1), numClasses: outs[outs.length - 1]!, bias };
}

function expectShape(t: TorchTensor, key: string, shape: readonly number[], file: string): void {
  if (t.shape.length === shape.length && t.shape.every((d, i) => d === shape[i])) return;
  throw new CheckpointError(
    file,
    `"${key}" has shape ${shapeText(t.shape)}, the model its other tensors describe needs ${shapeText(shape)}`,
  );
}

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

/** A tensor's elements as float32 (what our engines hold); integer counters convert, bools do not. */
function floats(t: TorchTensor, file: string): Float32Array {
  const data: TensorData = t.data;
  if (data instanceof Float32Array) return data;
  if (data instanceof BigInt64Array || data instanceof BigUint64Array) return Float32Array.from(data, (v) => Number(v));
  if (t.dtype === 'bool') throw new CheckpointError(file, `"${t.name}" is a bool tensor, not a weight`);
  return Float32Array.from(data as ArrayLike<number>);
}

function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}
