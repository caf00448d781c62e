// One place for each default: the step schemas. The command line's help, the Learner's fit options and a
// model's own trainStep must all see the same values, per model kind; the native step has no defaults.
import path from 'node:path';
import { spawnSync } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import { ClassifierStepHyperSchema, fitOptionsSchemaFor, LanguageModel, StepHyperSchema } from '../../src/index.js';
import { native } from '../../src/native/loader.js';
import { PACKAGE_ROOT } from '../helpers/child.js';

const bin = path.join(PACKAGE_ROOT, 'bin', 'ulmfit.js');
const KINDS = [
  { kind: 'language-model', command: 'finetune', step: StepHyperSchema },
  { kind: 'classifier', command: 'train', step: ClassifierStepHyperSchema },
] as const;
const FIELDS = ['optimizer', 'eps', 'clip', 'alpha', 'beta'] as const;
const GROUP_FIELDS = ['beta1', 'beta2', 'momentum', 'weightDecay'] as const;

/** The value a --flag's help shows as its default. */
function shownDefault(help: string, flag: string): string | undefined {
  const line = help.split('\n').findIndex((l) => l.trimStart().startsWith(`--${flag} `));
  if (line < 0) return undefined;
  // Commander wraps long descriptions: the default ends the option's text, before the next flag.
  const rest = help.split('\n').slice(line);
  const end = rest.findIndex((l, i) => i > 0 && l.trimStart().startsWith('--'));
  return /\(default: ([^)]+)\)/.exec(
    rest
      .slice(0, end < 0 ? undefined : end)
      .join(' ')
      .replace(/\s+/g, ' '),
  )?.[1];
}

describe('one default per value, per model kind', () => {
  for (const { kind, command, step } of KINDS) {
    it(`${kind}: \`ulmfit ${command} --help\`, the fit options and trainStep agree`, () => {
      const stepDefaults = step.parse({ groups: [{ lr: 0 }] });
      const fit = fitOptionsSchemaFor(kind).parse({});
      const help = spawnSync(process.execPath, [bin, command, '--help'], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, COLUMNS: '200' },
      }).stdout;
      for (const field of FIELDS) {
        expect(fit[field], field).toEqual(stepDefaults[field]);
        expect(shownDefault(help, field), `--${field}`).toBe(String(stepDefaults[field]));
      }
      for (const field of GROUP_FIELDS) {
        expect(fit[field], field).toEqual(stepDefaults.groups[0]![field]);
        const flag = field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
        expect(shownDefault(help, flag), `--${flag}`).toBe(String(stepDefaults.groups[0]![field]));
      }
    });
  }

  it('a step given no optimizer values applies the schema defaults', async () => {
    const model = new LanguageModel({ vocabSize: 20, embSize: 4, hiddenSize: 6, numLayers: 1 });
    const ids = Int32Array.from({ length: 8 }, (_, i) => 2 + i);
    const r = await model.trainStep(
      { input: ids, target: ids, batchSize: 2, seqLen: 4 },
      { groups: model.groups().map(() => ({ lr: 1e-3 })) },
    );
    const defaults = StepHyperSchema.parse({ groups: [{ lr: 0 }] }).groups[0]!;
    for (const applied of r.applied)
      expect([applied.beta1, applied.beta2, applied.momentum, applied.weightDecay]).toEqual([
        defaults.beta1,
        defaults.beta2,
        defaults.momentum,
        defaults.weightDecay,
      ]);
    model.dispose();
  });

  it('the native engine takes no value implicitly: a missing one is named', () => {
    const Engine = native().LanguageModel;
    const options = {
      vocabSize: 20,
      embSize: 4,
      hiddenSize: 6,
      numLayers: 1,
      padId: 1,
      embedP: 0,
      inputP: 0,
      weightP: 0,
      hiddenP: 0,
      outputP: 0,
      lossChunkRows: 0,
      precision: 'fp32',
    };
    for (const field of Object.keys(options)) {
      const { [field]: _, ...missing } = options as Record<string, unknown>;
      expect(() => new Engine(missing, 'cpu'), field).toThrow(`options.${field} is required`);
    }
  });
});
