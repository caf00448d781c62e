#!/usr/bin/env bash
# npm run test:asan — builds the native addon with AddressSanitizer + UndefinedBehaviorSanitizer into
# build-asan/Release (cmake-js, CMakeLists.txt; build/ and build-cmake/ are never touched), then runs the
# native-heavy test files against that build with libasan preloaded into node.
#
# Exits non-zero on a failed build, a failed test, or any ASan/UBSan report (reports whose stack reaches
# native/*.cc are listed as "ours" in the summary; any other unsuppressed report fails the run too, since
# it may still be caused by us: add a commented entry to scripts/asan/*.supp only after reading it).
#
# Environment:
#   ASAN_SKIP_BUILD=1      reuse an existing build-asan/Release (no recompile)
#   ASAN_SKIP_TS=1         do not run `npm run build:ts` (the tests load dist/index.js)
#   ASAN_JOBS=N            parallel compile jobs (default: nproc)
#   ASAN_TEST_TIMEOUT=ms   vitest --testTimeout (default 600000; ASan makes LibTorch 2-5x slower)
#   ASAN_TESTS="files..."  override the list of test files
#   ASAN_OPTIONS_EXTRA=..  appended to ASAN_OPTIONS (e.g. detect_leaks=1)
#   ASAN_WORKERS=N         vitest --maxWorkers (default 1: each ASan'd LibTorch process is large and slow)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT_DIR="$ROOT/build-asan"
ADDON_DIR="$OUT_DIR/Release"
SUPP_DIR="$ROOT/scripts/asan"
LOG_DIR="$OUT_DIR/logs"
STARTED=$(date +%s)

SAN_FLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -g"

die() { echo "test:asan: $*" >&2; exit 2; }

# ---- the sanitizer runtimes (must be the ones of the compiler that builds the addon) -----------------
CXX_BIN="${CXX:-g++}"
LIBASAN="$("$CXX_BIN" -print-file-name=libasan.so)"
LIBUBSAN="$("$CXX_BIN" -print-file-name=libubsan.so)"
[[ "$LIBASAN" == /* && -e "$LIBASAN" ]] || die "no libasan for $CXX_BIN (Debian: sudo apt-get install -y libasan8 libubsan1)"
[[ "$LIBUBSAN" == /* && -e "$LIBUBSAN" ]] || die "no libubsan for $CXX_BIN (Debian: sudo apt-get install -y libubsan1)"
LIBASAN="$(readlink -f "$LIBASAN")"
LIBUBSAN="$(readlink -f "$LIBUBSAN")"

echo "test:asan: $("$CXX_BIN" --version | head -1); LibTorch $(node -e "import('./scripts/libtorch.js').then(m=>{const t=m.discover();console.log(t.version+' at '+t.root)})")"
echo "test:asan: node $(node --version); libasan $LIBASAN; libubsan $LIBUBSAN"

# ---- 1. build -------------------------------------------------------------------------------------------
if [[ "${ASAN_SKIP_BUILD:-0}" != 1 ]]; then
  echo "test:asan: building the addon with $SAN_FLAGS into $ADDON_DIR"
  # -O1: readable stacks at a bearable speed; no -DNDEBUG, so our own assert()s run too.
  node --input-type=module -e '
    import { spawnSync } from "node:child_process";
    import { createRequire } from "node:module";
    import { discover } from "./scripts/libtorch.js";
    import { manifestFor, writeManifest } from "./scripts/binaries.js";
    const [out, flags, jobs] = process.argv.slice(1);
    const libtorch = discover();
    if (!libtorch.cmakeDir) { console.error(`${libtorch.root} has no share/cmake/Torch`); process.exit(1); }
    if (libtorch.variant !== "cpu") { console.error("test:asan builds against a CPU LibTorch only"); process.exit(1); }
    const cmakeJs = createRequire(import.meta.url).resolve("cmake-js/bin/cmake-js");
    const args = [cmakeJs, "rebuild", "--out", out, "--parallel", jobs,
      `--CDTorch_DIR=${libtorch.cmakeDir}`,
      // cmake-js sets CMAKE_CXX_FLAGS itself (-DBUILDING_NODE_EXTENSION), so the flags go in the
      // Release ones, which it leaves alone.
      `--CDCMAKE_CXX_FLAGS_RELEASE=-O1 ${flags}`,
      `--CDCMAKE_SHARED_LINKER_FLAGS=${flags}`,
      `--CDCMAKE_MODULE_LINKER_FLAGS=${flags}`];
    const r = spawnSync(process.execPath, args, { stdio: "inherit", env: { ...process.env, LIBTORCH: libtorch.root } });
    if (r.status !== 0) process.exit(r.status ?? 1);
    writeManifest(`${out}/Release`, { ...manifestFor(libtorch, "cmake-js"), sanitizers: "address,undefined" });
  ' "$OUT_DIR" "$SAN_FLAGS" "${ASAN_JOBS:-$(nproc)}" || die "the ASan build failed"
fi
[[ -f "$ADDON_DIR/ulmfit.node" && -f "$ADDON_DIR/ulmfit-build.json" ]] || die "no ASan build in $ADDON_DIR (run without ASAN_SKIP_BUILD)"
# (grep on captured text, not `| grep -q`: with pipefail, grep -q closing the pipe early fails the pipeline)
DYN="$(readelf -d "$ADDON_DIR/ulmfit.node")"
UNDEF="$(nm -D --undefined-only "$ADDON_DIR/ulmfit.node")"
grep -q 'libasan' <<<"$DYN" || die "$ADDON_DIR/ulmfit.node is not linked against libasan"
grep -q '__asan_report' <<<"$UNDEF" || die "$ADDON_DIR/ulmfit.node is not instrumented (no __asan_report_* calls)"
grep -q '__ubsan_handle' <<<"$UNDEF" || die "$ADDON_DIR/ulmfit.node is not instrumented (no __ubsan_handle_* calls)"

if [[ "${ASAN_SKIP_TS:-0}" != 1 ]]; then
  npm run --silent build:ts || die "npm run build:ts failed"
fi

# ---- 2. tests -------------------------------------------------------------------------------------------
# test/model/lifetime.test.ts "frees native memory on dispose() ..." measures RSS deltas: ASan's quarantine
# keeps freed memory mapped (and its shadow adds more), so that case cannot pass under ASan. It is excluded
# by name below; the other case of that file (a model kept alive during its step) runs.
# test/model/classifier-memory.test.ts is an RSS test as a whole and is not in the list.
DEFAULT_TESTS=(
  test/native/loader.test.ts
  test/native/runtime.test.ts
  test/model/language-model.test.ts
  test/model/classifier.test.ts
  test/model/golden.test.ts
  test/model/classifier-golden.test.ts
  test/model/lifetime.test.ts
  test/model/directory.test.ts
  test/train/learner.test.ts
  test/train/resume.test.ts
  test/reliability/non-finite.test.ts
  test/reliability/bad-input.test.ts
)
EXCLUDE_NAMES='frees native memory on dispose\(\) and when a dropped model is garbage-collected'
if [[ -n "${ASAN_TESTS:-}" ]]; then read -r -a TESTS <<<"$ASAN_TESTS"; else TESTS=("${DEFAULT_TESTS[@]}"); fi

rm -rf "$LOG_DIR"
mkdir -p "$LOG_DIR"

# Reports go to one file per process ($LOG_DIR/san.<pid>; ASan and UBSan share it) instead of stderr, so
# reports from the child processes that tests spawn (and whose stderr the tests read or swallow) are seen
# too, and the tests' own "stderr is empty" checks are not upset by them.
export ULMFIT_ADDON_DIR="$ADDON_DIR"
export LD_PRELOAD="$LIBASAN${LD_PRELOAD:+ $LD_PRELOAD}"
# detect_leaks=0: at exit, Node's V8 heap pages (v8::internal::MemoryChunk, Page, ...) are still allocated
#   by design, and so is memory in every other program the tests spawn with LD_PRELOAD inherited (bash, tr,
#   python3). A trial with detect_leaks=1 on test/model/golden.test.ts: 7 processes, ~2,400 leaked blocks,
#   all in node/V8 or those tools, none in LibTorch or native/. Leak checking can be turned on with
#   ASAN_OPTIONS_EXTRA=detect_leaks=1 (scripts/asan/lsan.supp then hides V8's heap).
# abort_on_error=0: a report ends the process with exit code 1 (ASan stops at its first error; UBSan
#   keeps going, halt_on_error=0) and the summary below decides the exit code of the whole run.
# ODR-violation and new/delete-type-mismatch checks stay on (defaults): LibTorch does not trip them here.
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=0:allow_user_segv_handler=1:log_path=$LOG_DIR/san:log_exe_name=0:symbolize=1${ASAN_OPTIONS_EXTRA:+:$ASAN_OPTIONS_EXTRA}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=0:report_error_type=1:suppressions=$SUPP_DIR/ubsan.supp:log_path=$LOG_DIR/san"
export LSAN_OPTIONS="suppressions=$SUPP_DIR/lsan.supp"
export ASAN_SYMBOLIZER_PATH="${ASAN_SYMBOLIZER_PATH:-$(command -v llvm-symbolizer || true)}"
[[ -n "$ASAN_SYMBOLIZER_PATH" ]] || unset ASAN_SYMBOLIZER_PATH

TEST_LOG="$LOG_DIR/vitest.log"
echo "test:asan: ULMFIT_ADDON_DIR=$ULMFIT_ADDON_DIR LD_PRELOAD=$LD_PRELOAD"
echo "test:asan: ASAN_OPTIONS=$ASAN_OPTIONS"
echo "test:asan: UBSAN_OPTIONS=$UBSAN_OPTIONS"
echo "test:asan: npx vitest run ${TESTS[*]} --testTimeout ${ASAN_TEST_TIMEOUT:-600000} --hookTimeout 900000 --maxWorkers ${ASAN_WORKERS:-1} -t '^(?!.*(${EXCLUDE_NAMES})).*$'"
npx vitest run "${TESTS[@]}" \
  --testTimeout "${ASAN_TEST_TIMEOUT:-600000}" --hookTimeout 900000 \
  --maxWorkers "${ASAN_WORKERS:-1}" \
  -t "^(?!.*(${EXCLUDE_NAMES})).*\$" \
  2>&1 | tee "$TEST_LOG"
TEST_RC=${PIPESTATUS[0]}
unset LD_PRELOAD

# ---- 3. summary -----------------------------------------------------------------------------------------
shopt -s nullglob
REPORTS=("$LOG_DIR"/san.*)
# Reports may also land on a stderr that vitest printed.
grep -qE '^(==[0-9]+==ERROR: AddressSanitizer|.*runtime error: )' "$TEST_LOG" && REPORTS+=("$TEST_LOG")
OURS=0
OTHER=0
for f in "${REPORTS[@]}"; do
  n_asan=$(grep -cE 'ERROR: AddressSanitizer|ERROR: LeakSanitizer' "$f" || true)
  n_ubsan=$(grep -cE 'runtime error: ' "$f" || true)
  (( n_asan + n_ubsan == 0 )) && continue
  if grep -qE '(/native/[A-Za-z0-9_]+\.(cc|h))' "$f"; then
    OURS=$((OURS + n_asan + n_ubsan))
    echo "test:asan: REPORT touching native/*.cc in $f:"
  else
    OTHER=$((OTHER + n_asan + n_ubsan))
    echo "test:asan: REPORT outside native/ (LibTorch/Node?) in $f:"
  fi
  grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error: |^    #[0-9]+ ' "$f" | head -40 | sed 's/^/    /'
done
ELAPSED=$(( $(date +%s) - STARTED ))
PLAIN_LOG="$LOG_DIR/vitest.plain.log"
sed -E 's/\x1b\[[0-9;]*m//g' "$TEST_LOG" >"$PLAIN_LOG"
FILES=$(grep -E '^ *Test Files ' "$PLAIN_LOG" | tail -1 | sed -E 's/^ *Test Files +//')
PASSED=$(grep -E '^ *Tests ' "$PLAIN_LOG" | tail -1 | sed -E 's/^ *Tests +//')

echo
echo "================ test:asan summary ================"
echo "  addon:            $ADDON_DIR/ulmfit.node ($SAN_FLAGS)"
echo "  test files:       ${FILES:-?}"
echo "  tests:            ${PASSED:-?}"
echo "  vitest exit:      $TEST_RC"
echo "  reports (ours):   $OURS   (stack reaches native/*.cc)"
echo "  reports (other):  $OTHER  (unsuppressed, not in native/*.cc)"
echo "  logs:             $LOG_DIR"
echo "  wall time:        ${ELAPSED}s"
echo "===================================================="
if (( TEST_RC != 0 || OURS != 0 || OTHER != 0 )); then exit 1; fi
exit 0
