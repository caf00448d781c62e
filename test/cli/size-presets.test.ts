import { describe, expect, it } from 'vitest';

import { DEMO_SIZES } from '../../src/cli/demo.js';
import { defaultSize, presetOptions, withPreset } from '../../src/cli/size-presets.js';

describe("the stage commands' --size presets", () => {
  it("start from the demo's sizes and schedules, paper on a CUDA device and cpu elsewhere", () => {
    expect(defaultSize(undefined)).toBe('cpu');
    expect(defaultSize('cpu')).toBe('cpu');
    expect(defaultSize('cuda:1')).toBe('paper');
    const cpu = DEMO_SIZES.cpu;
    expect(presetOptions('pretrain', 'cpu')).toEqual({
      config: cpu.config,
      batchSize: cpu.batchSize,
      seqLen: cpu.seqLen,
      epochs: cpu.pretrain.epochs,
      lr: cpu.pretrain.lr,
    });
    expect(presetOptions('finetune', 'cpu')).toMatchObject({ epochs: cpu.finetune.epochs, lr: cpu.finetune.lr });
    expect(presetOptions('train', 'cpu')).toMatchObject({
      maxTokens: cpu.maxTokens,
      config: { seqLen: cpu.seqLen },
      epochs: cpu.classifier.epochs,
    });
    expect(presetOptions('pretrain', 'paper').config).toEqual({});
  });

  it('let every given option win, the config objects merged field by field', () => {
    const merged = withPreset(presetOptions('pretrain', 'cpu'), { epochs: 3, config: { numLayers: 3 } });
    expect(merged).toMatchObject({ epochs: 3, lr: DEMO_SIZES.cpu.pretrain.lr, config: { embSize: 96, hiddenSize: 256, numLayers: 3 } });
    expect(withPreset({ batchSize: 64 }, {})).toEqual({ batchSize: 64 });
  });
});
