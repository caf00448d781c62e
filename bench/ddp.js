// Data parallelism on this machine (`npm run bench -- ddp`): a language model's training throughput in one
// process and in 2 processes of a Gloo process group (the same total batch and cores), and the all-reduce of
// one step's gradients on its own. Each cell in its own processes (bench/ddp-worker.js); interleaved rounds,
// medians.
//   npm run bench -- ddp [--rounds 2] [--vocab 30000] [--emb 96] [--hidden 256] [--layers 2] [--bs 64] [--json]
import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const flag = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const model = { vocab: flag('vocab', 30_000), emb: flag('emb', 96), hidden: flag('hidden', 256), layers: flag('layers', 2) };
const total = flag('bs', 64);
const rounds = flag('rounds', 2);
const cores = os.availableParallelism();
const base = { ...model, seq: 70, precision: 'fp32', warmup: 2, steps: 6 };
// The same total batch and the same cores in each: one process with every thread, or 2 ranks with half each.
const cells = [
  { name: '1 process', ranks: 1, cell: { ...base, bs: total, threads: cores } },
  { name: '2 processes (Gloo)', ranks: 2, cell: { ...base, bs: total / 2, threads: Math.max(1, cores / 2) } },
  { name: "1 process, one rank's share (no communication)", ranks: 1, cell: { ...base, bs: total / 2, threads: Math.max(1, cores / 2) } },
];

async function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function run({ ranks, cell }) {
  const port = String(await freePort());
  const outputs = await Promise.all(
    Array.from({ length: ranks }, (_, rank) => {
      const env = ranks > 1 ? { RANK: String(rank), WORLD_SIZE: String(ranks), MASTER_ADDR: '127.0.0.1', MASTER_PORT: port } : {};
      const child = spawn(process.execPath, [path.join(here, 'ddp-worker.js'), JSON.stringify(cell)], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      return new Promise((resolve, reject) =>
        child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`ddp-worker rank ${rank} exited with ${code}`)))),
      );
    }),
  );
  return JSON.parse(outputs[0]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = cells.map(() => []);
for (let r = 0; r < rounds; r++) for (const [i, c] of cells.entries()) results[i].push(await run(c));
const rows = cells.map((c, i) => {
  const rs = results[i];
  return {
    name: c.name,
    ranks: c.ranks,
    threadsPerRank: c.cell.threads,
    batchPerRank: c.cell.bs,
    stepSeconds: median(rs.map((x) => x.stepSeconds)),
    tokensPerSecond: median(rs.map((x) => x.tokensPerSecond)),
    allReduceMs: median(rs.map((x) => x.allReduceSeconds)) * 1000,
    gradientMB: rs[0].gradientMB,
  };
});
if (args.includes('--json')) console.log(JSON.stringify({ model, totalBatch: total, cores, rows }));
else {
  console.log(
    `model ${model.emb}/${model.hidden}/${model.layers}, vocab ${model.vocab}, total batch ${total} x 70, fp32, ${cores} cores, ${rounds} rounds`,
  );
  console.log('| cell | ranks x threads | batch per rank | step s | tokens/s (all ranks) | gradient all-reduce ms | gradients MB |');
  console.log('| --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows)
    console.log(
      `| ${r.name} | ${r.ranks} x ${r.threadsPerRank} | ${r.batchPerRank} | ${r.stepSeconds.toFixed(3)} | ${Math.round(r.tokensPerSecond)} | ${r.ranks > 1 ? r.allReduceMs.toFixed(1) : '-'} | ${r.gradientMB.toFixed(1)} |`,
    );
}
