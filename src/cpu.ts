// What this CPU offers the kernels LibTorch picks (read from /proc/cpuinfo, no native code needed).
import fs from 'node:fs';
import os from 'node:os';

export interface CpuFeatures {
  model: string;
  cores: number;
  avx2: boolean;
  fma: boolean;
  avx512: boolean;
  avx512Vnni: boolean;
  avxVnni: boolean;
  /** Native bf16 arithmetic (AVX512-BF16 or AMX-BF16): bf16 training pays off. */
  bf16: boolean;
  amx: boolean;
}

export function cpuFeatures(cpuinfo?: string): CpuFeatures {
  let text = cpuinfo;
  if (text === undefined) {
    try {
      text = fs.readFileSync('/proc/cpuinfo', 'utf8');
    } catch {
      text = '';
    }
  }
  const flags = new Set((/^flags\s*:\s*(.*)$/m.exec(text)?.[1] ?? '').split(/\s+/));
  const model = /^model name\s*:\s*(.*)$/m.exec(text)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  return {
    model,
    cores: os.availableParallelism(),
    avx2: flags.has('avx2'),
    fma: flags.has('fma'),
    avx512: flags.has('avx512f'),
    avx512Vnni: flags.has('avx512_vnni'),
    avxVnni: flags.has('avx_vnni'),
    bf16: flags.has('avx512_bf16') || flags.has('amx_bf16'),
    amx: flags.has('amx_tile'),
  };
}
