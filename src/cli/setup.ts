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
  torchVersion: z.string().regex(/^\d+\.\d+(\.\d+)?(\+\w+)?$/, { message: 'must look like 2.13.0 or 2.13.0+cpu' }).optional(),
  rebuild: z.boolean().default(false),
});

const log = (line: string) => process.stderr.write(`ulmfit: ${line}\n`);

export async function runSetup(raw: unknown): Promise<void> {
  const options = validate(SetupOptionsSchema, raw, 'setup options');
  assertSupportedPlatform();
  const env = { ...process.env };
  if (options.torchVersion) env.ULMFIT_TORCH_VERSION = options.torchVersion;

  let libtorch: LibTorchInfo;
  if (options.variant || options.torchVersion) {
    const variant = options.variant ?? (/\+cu\d+$/.test(options.torchVersion ?? '') ? 'cuda' : /\+cpu$/.test(options.torchVersion ?? '') ? 'cpu' : defaultVariant(env));
    libtorch = provision({ variant, env, log });
  } else {
    try {
      libtorch = select(findCandidates(env), { env });
      log(`found ${describe(libtorch)}`);
    } catch {
      libtorch = provision({ env, log });
    }
  }

  const prebuilt = listBinaries(env).find((b) => b.kind === 'prebuild' && fits(libtorch, b.manifest));
  const local = listBinaries(env).find((b) => b.kind !== 'prebuild' && fits(libtorch, b.manifest));
  if (options.rebuild || (!prebuilt && !local)) {
    buildNative({ libtorch, log });
  } else {
    log(`native binary: ${(prebuilt ?? local)!.dir}`);
  }
  log('ready; `npx ulmfit info` shows the details');
}
