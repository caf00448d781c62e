#!/usr/bin/env bash
# The CUDA path in one command: build against the machine's CUDA LibTorch, the CUDA tests, the LM and
# classifier benchmarks at the paper's configuration beside the PyTorch eager reference on the same GPU, a
# profile of the step, and the paper-size demo cut to minutes; logs and JSON into $OUT, a table last.
# Sized for under 8 minutes on an H200; each step has a time box and the run stops starting steps once
# its budget is spent, so what finished is always reported.
#
#   bash bench/gpu.sh                          # on a GPU machine, after npm install
#   bash bench/gpu.sh --device cpu --quick     # the dry run: the same steps at tiny sizes on the CPU
#
# Options: --device cuda|cpu, --quick (tiny sizes), --out DIR (default $OUT, else bench-out/gpu),
# --budget SECONDS (default 470), --only STEP,... (build, info, cuda-tests, lm-bench, profile, clas-bench,
# demo, lm-chunk; default all). Needs node, npm's node_modules, python3 with the torch whose LibTorch
# the addon is built against. Files in the output folder (8 at most): gpu.log, build.log, info.json,
# cuda-report.json, results.jsonl, profile.json, demo.log, summary.txt.
set -uo pipefail
cd "$(dirname "$0")/.."

device=cuda quick=0 budget=470 out=${OUT:-bench-out/gpu} only=
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --out) out=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --only) only=",$2,"; shift 2 ;;
    *) echo "gpu.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
out=$(cd "$out" && pwd)
log="$out/gpu.log"
: > "$log"
: > "$out/results.jsonl"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
t0=$(date +%s)
failed=()

say() { echo "gpu.sh: $*" | tee -a "$log"; }
left() { echo $(( budget - ($(date +%s) - t0) )); }

# step NAME SECONDS COMMAND...: runs COMMAND with a time box (capped by what is left of the budget); its
# output goes to the log (and to the terminal). Skipped when less than a quarter of its box is left.
step() {
  local name=$1 box=$2
  shift 2
  if [ -n "$only" ] && [[ "$only" != *",$name,"* ]]; then
    say "$name: not asked for (--only)"
    return 0
  fi
  local remaining
  remaining=$(left)
  if [ "$remaining" -lt $(( box / 4 )) ]; then
    say "$name: skipped ($remaining s of the budget left)"
    failed+=("$name (skipped)")
    return 1
  fi
  [ "$box" -gt "$remaining" ] && box=$remaining
  say "$name: start (+$(( $(date +%s) - t0 )) s, box $box s)"
  local start status
  start=$(date +%s)
  timeout --kill-after=10 "$box" "$@" 2>&1 | tee -a "$log"
  status=${PIPESTATUS[0]}
  say "$name: exit $status after $(( $(date +%s) - start )) s"
  [ "$status" -eq 0 ] || failed+=("$name (exit $status)")
  return "$status"
}

# Sizes: the paper's (vocab 60,000, emb 400, hidden 1152, 3 layers, seq 70; bs 64 and 256), or tiny ones.
if [ "$quick" = 1 ]; then
  lm_sizes=(--vocab 2000 --bs 8,16 --seq 20 --emb 32 --hidden 64 --layers 3 --warmup 1 --steps 2)
  clas_sizes=(--vocab 2000 --bs 8 --docLen 100 --emb 32 --hidden 64 --layers 3 --warmup 1 --steps 2)
  profile_cell='{"vocab": 2000, "bs": 8, "seq": 20, "precision": "bf16", "device": "'$device'"}'
  demo_size=quick
else
  lm_sizes=(--vocab 60000 --bs 64,256 --seq 70 --warmup 3 --steps 10)
  clas_sizes=(--vocab 60000 --bs 64 --docLen 250 --warmup 2 --steps 5)
  profile_cell='{"vocab": 60000, "bs": 64, "seq": 70, "precision": "bf16", "device": "'$device'"}'
  demo_size=paper-short
fi

say "device $device, budget $budget s, output $out"
{ nvidia-smi -L 2>/dev/null || true; python3 -c 'import torch; print("python3 torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version())' 2>&1; node --version; } | tee -a "$log"

# 1. The addon, against the LibTorch discovery finds (python3's torch on a GPU machine); cmake-js if node-gyp fails.
if ! step build 300 bash -c "node scripts/build.js > '$out/build.log' 2>&1 || { echo 'node-gyp failed; trying cmake-js'; node scripts/build.js --cmake >> '$out/build.log' 2>&1; }"; then
  tail -60 "$out/build.log" | tee -a "$log"
  say "the addon did not build: nothing else can run"
  exit 1
fi
[ -f dist/index.js ] || step build-ts 120 npm run build:ts
step info 60 bash -c "node bin/ulmfit.js info --json > '$out/info.json'" && cat "$out/info.json" >> "$log"

# 2. The CUDA tests (on the CPU dry run: the same checks against the golden values on the CPU).
ULMFIT_CUDA_REPORT="$out/cuda-report.json" ULMFIT_CUDA_TEST_DEVICE=$device \
  step cuda-tests 150 node node_modules/vitest/vitest.mjs run test/cuda

# 3. LM training step, ulmfit and the PyTorch reference, fp32 and bf16.
step lm-bench 200 bash -c "node bench/lm.js --json --device $device --precision fp32,bf16 --rounds 1 ${lm_sizes[*]} | tee -a '$out/results.jsonl'"

# 4. Where the step's time goes (the reference under torch.profiler) and cuDNN's LSTM per dtype; python3
# imports the torch whose LibTorch the addon uses, as the benchmarks' reference does.
torch_site=$(node --input-type=module -e "import { discover } from './scripts/libtorch.js'; import path from 'node:path'; console.log(path.dirname(discover().root))")
PYTHONPATH="$torch_site${PYTHONPATH:+:$PYTHONPATH}" step profile 90 bash -c "cd bench/reference && python3 profile_lm.py '$profile_cell' > '$scratch/profile.txt' 2>&1; status=\$?; cat '$scratch/profile.txt'; tail -1 '$scratch/profile.txt' > '$out/profile.json'; exit \$status"

# 5. Classifier training and inference.
step clas-bench 150 bash -c "node bench/clas.js --json --device $device --mode train,infer --precision fp32,bf16 --rounds 1 ${clas_sizes[*]} | tee -a '$out/results.jsonl'"

# 6. End to end: the demo's three stages at the paper's size, cut to minutes.
step demo 240 bash -c "node bin/ulmfit.js demo --size $demo_size --device $device --out '$scratch/demo' > '$out/demo.log' 2>&1; status=\$?; tail -40 '$out/demo.log'; exit \$status"

# 7. The decoder chunk: the CPU's 64 MB of logits (279 rows at vocab 60,000) against the GPU default's 1 GB.
if [ "$quick" = 0 ]; then
  step lm-chunk 60 bash -c "node bench/lm.js --json --device $device --precision bf16 --rounds 1 --chunk 279 ${lm_sizes[*]/64,256/64} | tee -a '$out/results.jsonl'"
fi

# 8. The table.
node bench/gpu-summary.js "$out" | tee "$out/summary.txt" | tee -a "$log"
if [ ${#failed[@]} -gt 0 ]; then
  say "not all steps passed: ${failed[*]}"
  exit 1
fi
say "all steps passed in $(( $(date +%s) - t0 )) s"
