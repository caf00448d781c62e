// Models that come with the package (models/ at its root), reachable by name wherever a model directory is
// taken: `fineTuneLanguageModel('general', ...)`, `load('general')`, `ulmfit finetune --from general`. A
// directory of that name, where there is one, comes first: a name never hides the user's own model.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { FILES } from '../model/directory.js';

/** The shipped models: name -> directory under models/, and what each is. */
export const SHIPPED_MODELS = {
  general: {
    dir: 'general-lm',
    about:
      'a general-domain English AWD-LSTM language model (96/256/2, 30,008 tokens) pretrained on 26.5 M tokens of dictionaries, books, Bible texts and manuals (replicate/general-lm.js; models/general-lm/provenance.json)',
  },
} as const;

export type ShippedModelName = keyof typeof SHIPPED_MODELS;

const MODELS_ROOT = fileURLToPath(new URL('../../models/', import.meta.url));

/** The directory of a shipped model; null when this copy of the package does not hold it. */
export function shippedModel(name: ShippedModelName): string | null {
  const dir = path.join(MODELS_ROOT, SHIPPED_MODELS[name].dir);
  return fs.existsSync(path.join(dir, FILES.config)) ? dir : null;
}

/** `source` itself when it exists, else the shipped model of that name when there is one, else `source`. */
export function modelDirectory(source: string): string {
  if (fs.existsSync(source) || !Object.hasOwn(SHIPPED_MODELS, source)) return source;
  return shippedModel(source as ShippedModelName) ?? source;
}
