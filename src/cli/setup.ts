// `ulmfit setup`: LibTorch first (found, or installed with pip into ULMFIT_HOME), then a native binary that
// fits it (a prebuilt one, else compiled here).
import { z } from 'zod';

import { listBinaries } from '../../scripts/binaries.js';
import { buildNative } from '../../scripts/build.js';
import { defaultVariant, describe, findCandidates, fits, provision, select, type LibTorchInfo } from '../../scripts/libtorch.js';
import { assertSupportedPlatform } from '../../scripts/platform.js';
import { validate } from '../options.js';

const SetupOptionsSchema = z.object({
  variant: z.enum(['cpu', 'cuda']).optional(),
  torchVersion: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)?(\+\w+)?$/, { message: 'must look like 2.13.0 or 2.13.0+cpu' })
    .optional(),
  rebuild: z.boolean().default(false),
});

const log = (line: string) => process.stderr.write(`ulmfit: ${line}\n`);

/** The variant a pip version names (`+cpu`, `+cu130`), else this machine's default. */
function variantOf(torchVersion: string | undefined, env: NodeJS.ProcessEnv): 'cpu' | 'cuda' {
  if (/\+cpu$/.test(torchVersion ?? '')) return 'cpu';
  if (/\+cu\d+$/.test(torchVersion ?? '')) return 'cuda';
  return defaultVariant(env);
}

export async function runSetup(raw: unknown): Promise<void> {
  const options = validate(SetupOptionsSchema, raw, 'setup options');
  assertSupportedPlatform();
  const env = { ...process.env };
  if (options.torchVersion) env.ULMFIT_TORCH_VERSION = options.torchVersion;

  let libtorch: LibTorchInfo;
  if (options.variant || options.torchVersion) {
    libtorch = provision({ variant: options.variant ?? variantOf(options.torchVersion, env), env, log });
  } else {
    const looked = findCandidates(env);
    try {
      libtorch = select(looked, { env });
      log(`found ${describe(libtorch)}`);
    } catch (err) {
      if (env.LIBTORCH) throw err; // an explicit choice is never replaced behind the user's back
      libtorch = provision({ env, log });
    }
  }

  const fitting = listBinaries(env).find((b) => fits(libtorch, b.manifest));
  if (options.rebuild || !fitting) {
    buildNative({ libtorch, log });
  } else {
    log(`native binary: ${fitting.dir}`);
  }
  log('ready; `npx ulmfit info` shows the details');
}
