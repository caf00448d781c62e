// The benchmark entry point: `npm run bench -- <name> [options]` runs bench/<name>.js with the options.
//   lm    the LM training step against plain PyTorch (bench/lm.js)
//   clas  classifier training and inference against plain PyTorch (bench/clas.js)
//   data  tokenization, the 100 M-token LM stream, an epoch's reshuffle (bench/data.js)
//   ddp   data parallelism: 1 process against 2 ranks of a Gloo process group (bench/ddp.js)
//   onnx  inference: the LibTorch engine against ONNX Runtime on the exported graph (bench/onnx.js)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const benches = ['lm', 'clas', 'data', 'ddp', 'onnx'];
const [name = 'lm', ...args] = process.argv.slice(2);
if (!benches.includes(name)) {
  console.error(`bench: unknown benchmark "${name}" (known: ${benches.join(', ')})`);
  process.exit(2);
}
const r = spawnSync(process.execPath, [path.join(here, `${name}.js`), ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
