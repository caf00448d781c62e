// The ablation's settings (replicate/ablate.js runs them, replicate/report.js lists them).
/**
 * The settings, each a change to trainClassifier's options (and `lm`: which language model the classifier
 * starts from) away from 'baseline': trainClassifier's defaults when the study began (one pass over the
 * labelled set per epoch, clipping at 0.1), which replicate/ablate.js pins so that the study stays one experiment.
 */
export const SETTINGS = {
  baseline: {
    why: "trainClassifier's defaults when the study began: the paper's plan, lr 0.01, 2 final epochs, batch 64, clip 0.1, no AR/TAR, dropMult 0.5, one pass over the labelled set per epoch",
  },
  'clip 0': { why: "no gradient clipping (fastai's classifier recipe; the paper's script clipped at 25)", options: { fit: { clip: 0 } } },
  'clip 25': { why: "the paper's classifier script", options: { fit: { clip: 25 } } },
  'AR/TAR': { why: 'alpha 2, beta 1 in the classifier (fastai, the paper)', options: { fit: { alpha: 2, beta: 1 } } },
  'masks per chunk': {
    why: 'new dropout masks for every BPT3C chunk (fastai) instead of one set per document',
    options: { config: { dropoutMasks: 'chunk' } },
  },
  'dropMult 1': {
    why: "the classifier's dropouts at fastai's full values (the paper's script default)",
    options: { config: { dropMult: 1 } },
  },
  'lr 0.03': { why: "three times the paper's classifier rate", options: { lr: 0.03 } },
  'lr 0.003': { why: 'a third of it', options: { lr: 0.003 } },
  'epochs 10': { why: '10 final epochs with every group training', options: { epochs: 10 } },
  'batch 16': { why: 'more steps for small label counts', options: { batchSize: 16 } },
  'min 50 steps': {
    why: 'an epoch of a small set passes over it until it has at least 50 steps (minStepsPerEpoch 50: the default since)',
    options: { minStepsPerEpoch: 50 },
  },
  'fastai plan': { why: "fastai's four one-cycle stages at its own rates instead of the paper's plan", options: { plan: 'fastai' } },
  'LM rates paper': {
    why: "the LM fine-tuned at the 0.7 scripts' [lr/6, lr/3, lr, lr/2] (top LSTM at the full rate)",
    lm: 'target-paper-rates',
  },
  'LM rates uniform': { why: 'the LM fine-tuned at one rate for every group (fastai)', lm: 'target-uniform-rates' },
  'no LM fine-tuning': { why: 'variant (c): the general-domain LM straight to the classifier', lm: 'general' },
  'from scratch': { why: 'variant (d): an untrained encoder with the target vocabulary', lm: 'untrained' },
  'no LM fine-tuning + min 50 steps': { why: 'variant (c) with the new default', lm: 'general', options: { minStepsPerEpoch: 50 } },
  'from scratch + min 50 steps': { why: 'variant (d) with the new default', lm: 'untrained', options: { minStepsPerEpoch: 50 } },
  'no pretraining + min 50 steps': {
    why: "variant (b) with the new default: an LM trained on the task's unlabelled text alone, as many epochs as (a)'s two LM stages together",
    lm: 'target-only',
    options: { minStepsPerEpoch: 50 },
  },
  // The replication study again from the general-domain LM of replicate/general-lm.js (models/general-lm).
  'general LM + min 50 steps': {
    why: 'variant (a) from the general LM shipped with ulmfit (26.5 M tokens of general English) instead of the small one pretrained per task',
    lm: 'target-from-shipped',
    options: { minStepsPerEpoch: 50 },
  },
  "general LM + (b)'s LM schedule + min 50 steps": {
    why: "variant (a') with the LM fine-tuned exactly as (b) trains its own from scratch (every group at the pretraining rate, one-cycle, no frozen epoch, as many epochs): what the general LM's weights alone change",
    lm: 'target-from-shipped-as-b',
    options: { minStepsPerEpoch: 50 },
  },
  "general LM + (b)'s LM schedule + random new rows + min 50 steps": {
    why: "the row above, but the task's tokens the general vocabulary lacks start from random rows, not all from the mean row",
    lm: 'target-from-shipped-random-rows',
    options: { minStepsPerEpoch: 50 },
  },
  'general LM + no frozen LM epoch + min 50 steps': {
    why: "variant (a') with the paper's LM fine-tuning rates and STLR, but every group training for as many epochs as (b) (no frozen epoch first): which half of (b)'s schedule pays",
    lm: 'target-from-shipped-unfrozen',
    options: { minStepsPerEpoch: 50 },
  },
  'general LM, no LM fine-tuning + min 50 steps': {
    why: 'variant (c) from the shipped general LM',
    lm: 'shipped',
    options: { minStepsPerEpoch: 50 },
  },
  // The second round: each choice flipped again, now on top of the new default (a baseline that fits its labels).
  'min 50 steps + AR/TAR': { why: 'the new default with alpha 2, beta 1', options: { minStepsPerEpoch: 50, fit: { alpha: 2, beta: 1 } } },
  'min 50 steps + clip 0': { why: 'the new default without clipping', options: { minStepsPerEpoch: 50, fit: { clip: 0 } } },
  'min 50 steps + dropMult 1': {
    why: 'the new default with the dropouts at full value',
    options: { minStepsPerEpoch: 50, config: { dropMult: 1 } },
  },
  'min 50 steps + masks per chunk': {
    why: 'the new default with new masks per chunk',
    options: { minStepsPerEpoch: 50, config: { dropoutMasks: 'chunk' } },
  },
  'min 50 steps + batch 16': { why: 'the new default at batch 16', options: { minStepsPerEpoch: 50, batchSize: 16 } },
  'min 50 steps + LM rates paper': {
    why: "the new default from the LM fine-tuned at the 0.7 scripts' rates",
    lm: 'target-paper-rates',
    options: { minStepsPerEpoch: 50 },
  },
};

/** The replication study's variants (the paper's Table 6 style), each a setting above at today's defaults. */
export const VARIANTS = {
  '(a) full ULMFiT': 'min 50 steps',
  '(b) no general-domain pretraining': 'no pretraining + min 50 steps',
  '(c) no target LM fine-tuning': 'no LM fine-tuning + min 50 steps',
  '(d) classifier from scratch': 'from scratch + min 50 steps',
  "(a') full ULMFiT from the general LM": 'general LM + min 50 steps',
  "(c') the general LM straight to the classifier": 'general LM, no LM fine-tuning + min 50 steps',
};
