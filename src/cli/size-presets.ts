// `--size cpu|paper` of the stage commands: the demo's sizes (DEMO_SIZES) as the starting options of a
// stage, so that `ulmfit pretrain | finetune | train` with no other flags trains what the demo measured;
// every flag and --config field still wins. The default: paper on a CUDA device, cpu otherwise.
import { DEMO_SIZES } from './demo.js';

export type StageName = 'pretrain' | 'finetune' | 'train';
export type SizeName = 'cpu' | 'paper';
export const SIZE_NAMES: readonly SizeName[] = ['cpu', 'paper'];

export function defaultSize(device: unknown): SizeName {
  return typeof device === 'string' && device.startsWith('cuda') ? 'paper' : 'cpu';
}

/** The stage options a size stands for. */
export function presetOptions(stage: StageName, size: SizeName): Record<string, unknown> {
  const s = DEMO_SIZES[size];
  if (stage === 'pretrain')
    return { config: { ...s.config }, batchSize: s.batchSize, seqLen: s.seqLen, epochs: s.pretrain.epochs, lr: s.pretrain.lr };
  if (stage === 'finetune') return { batchSize: s.batchSize, seqLen: s.seqLen, epochs: s.finetune.epochs, lr: s.finetune.lr };
  return { batchSize: s.batchSize, maxTokens: s.maxTokens, config: { seqLen: s.seqLen }, epochs: s.classifier.epochs, lr: s.classifier.lr };
}

/** `options` over the preset: a field given wins; the config objects merge field by field. */
export function withPreset(preset: Record<string, unknown>, options: Record<string, unknown>): Record<string, unknown> {
  const config = { ...(preset.config as object | undefined), ...(options.config as object | undefined) };
  return { ...preset, ...options, ...(Object.keys(config).length ? { config } : {}) };
}
