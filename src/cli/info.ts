// `ulmfit info`: what ulmfit runs on, or, when it cannot load, what discovery found and how to fix it.
import { z } from 'zod';

import { describe, findCandidates } from '../../scripts/libtorch.js';
import { DeviceSchema } from '../device.js';
import { benchmarkMatmul } from '../ops.js';
import { validate } from '../options.js';
import { info } from '../runtime.js';
import { describeModelDirectory, modelDirectoryLines } from './model-info.js';

const InfoOptionsSchema = z.object({
  model: z.string().min(1).optional(),
  json: z.boolean().default(false),
  bench: z.boolean().default(false),
  device: DeviceSchema.default('cpu'),
  size: z.number().int().min(1).max(16384).default(1024),
});

function yesNo(b: boolean): string {
  return b ? 'yes' : 'no';
}

export async function runInfo(raw: unknown): Promise<void> {
  const options = validate(InfoOptionsSchema, raw, 'info options');
  if (options.model !== undefined) {
    const described = describeModelDirectory(options.model);
    const out = options.json
      ? JSON.stringify(described.length === 1 ? described[0] : described, null, 2)
      : modelDirectoryLines(described).join('\n');
    process.stdout.write(out + '\n');
    return;
  }
  let details;
  try {
    details = info();
  } catch (err) {
    const looked = findCandidates()
      .map(
        (c) =>
          `  - ${c.source}: ${c.info ? describe(c.info) + (c.info.problems.length ? ` (not usable: ${c.info.problems.join('; ')})` : '') : c.note}`,
      )
      .join('\n');
    throw new Error(`${(err as Error).message}\n\nLibTorch discovery:\n${looked}`, { cause: err });
  }
  const bench = options.bench ? await benchmarkMatmul({ size: options.size, iterations: 10, device: options.device }) : null;
  if (options.json) {
    const { torch, ...rest } = details;
    process.stdout.write(
      JSON.stringify({ ...rest, torch: { builtWith: torch.builtWith, cxx11Abi: torch.cxx11Abi }, bench }, null, 2) + '\n',
    );
    return;
  }
  const d = details;
  const lines = [
    `ulmfit ${d.ulmfit} on Node ${d.node} (${d.platform})`,
    `LibTorch ${d.libtorch.version} (${d.libtorch.variant}), cxx11 ABI ${d.libtorch.cxx11Abi}, found via ${d.libtorch.source}`,
    `  at ${d.libtorch.root}`,
    `native binary: ${d.binary.kind} (${d.binary.builder}, built for ${d.binary.builtFor})`,
    `  at ${d.binary.dir}`,
    `CUDA: built ${yesNo(d.cuda.built)}, available ${yesNo(d.cuda.available)}, devices ${d.cuda.deviceCount}` +
      (d.cuda.runtime ? `, runtime ${d.cuda.runtime}` : '') +
      (d.cuda.cudnn ? `, cuDNN ${d.cuda.cudnn}` : ''),
    `threads: ${d.threads.intraOp} intra-op, ${d.threads.interOp} inter-op`,
    `backends: OpenMP ${yesNo(d.backends.openmp)}, MKL ${yesNo(d.backends.mkl)}, oneDNN ${yesNo(d.backends.mkldnn)}`,
    `process groups (ulmfit launch): Gloo ${yesNo(d.distributed.gloo)}, NCCL ${yesNo(d.distributed.nccl)}`,
    `CPU: ${d.cpu.model}, ${d.cpu.cores} cores; AVX2 ${yesNo(d.cpu.avx2)}, AVX-512 ${yesNo(d.cpu.avx512)}, ` +
      `bf16 ${yesNo(d.cpu.bf16)}, AMX ${yesNo(d.cpu.amx)}`,
  ];
  if (bench) {
    lines.push(
      `matmul ${options.size}x${options.size} float32 on ${bench.device}: ${bench.gflops.toFixed(1)} GFLOP/s (10 products in ${bench.seconds.toFixed(3)} s)`,
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}
