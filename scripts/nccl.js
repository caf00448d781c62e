// NCCL for process groups between GPUs: c10d's ProcessGroupNCCL is in a CUDA LibTorch's libtorch_cuda, but
// its header includes nccl.h and CUDA's runtime and math-library headers, which the torch wheel does not
// ship. Found where ULMFIT_NCCL_INCLUDE / CUDA_HOME point, beside a pip torch (site-packages/nvidia/nccl,
// nvidia/cu13, ...: the nvidia-* wheels that torch depends on), or in a CUDA toolkit (/usr/local/cuda). A
// CUDA build without them, and every CPU build, has Gloo alone (the addon says so when nccl is asked for).
//   node scripts/nccl.js include      the include directories, or nothing
//   node scripts/nccl.js defines      USE_C10D_NCCL when the build can have it, or nothing
//   node scripts/nccl.js libraries    the CUDA libraries ProcessGroupNCCL lives in, or nothing
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { discover } from './libtorch.js';

// What c10d's ProcessGroupNCCL.hpp includes beyond LibTorch: NCCL, and CUDA's runtime and math libraries.
const HEADERS = ['nccl.h', 'cuda_runtime_api.h', 'cublas_v2.h', 'cublasLt.h', 'cusparse.h', 'cusolverDn.h'];

/** What a build needs for NCCL with the LibTorch in use, or null (a CPU LibTorch, or headers missing). */
export function ncclBuild(env = process.env) {
  let info;
  try {
    info = discover({ env });
  } catch {
    return null;
  }
  if (info.variant === 'cpu') return null;
  const nvidia = path.join(info.root, '..', 'nvidia');
  const candidates = [
    env.ULMFIT_NCCL_INCLUDE,
    env.CUDA_HOME && path.join(env.CUDA_HOME, 'include'),
    ...['nccl', 'cu13', 'cuda_runtime', 'cublas', 'cusparse', 'cusolver'].map((pkg) => path.join(nvidia, pkg, 'include')),
    '/usr/local/cuda/include',
    '/usr/include',
  ].filter(Boolean);
  const dirs = [];
  for (const header of HEADERS) {
    const dir = candidates.find((d) => fs.existsSync(path.join(d, header)));
    if (!dir) return null;
    if (!dirs.includes(dir)) dirs.push(dir);
  }
  // The system's /usr/include is on the compiler's path already: named again with -I it would reorder it.
  return { includeDirs: dirs.filter((dir) => dir !== '/usr/include'), libraries: ['-lc10_cuda', '-ltorch_cuda'] };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const command = process.argv[2];
  const build = ncclBuild();
  if (command === 'include') console.log(build ? build.includeDirs.join(' ') : '');
  else if (command === 'defines') console.log(build ? 'USE_C10D_NCCL' : '');
  else if (command === 'libraries') console.log(build ? build.libraries.join(' ') : '');
  else {
    console.error('usage: node scripts/nccl.js include | defines | libraries');
    process.exit(2);
  }
}
