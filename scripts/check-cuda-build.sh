#!/usr/bin/env bash
# Checks that the native sources build against a CUDA LibTorch (default: torch==2.14.1, CUDA 13), with both
# routes: node-gyp (binding.gyp) and cmake-js (find_package(Torch), which needs the CUDA toolkit: nvcc).
# Compile and link only: running CUDA code needs a GPU (see ../shared/device for the GPU machine).
#
#   npm run check:cuda              # uses or installs torch==2.14.1 (and NCCL's, cuBLAS's... headers) under $ULMFIT_HOME/check
#   CUDA_TORCH=2.14.1 LIBTORCH_CUDA=/path/to/libtorch npm run check:cuda
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=${CUDA_TORCH:-2.14.1}
home=${ULMFIT_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/ulmfit}
python=${ULMFIT_PYTHON:-python3}

libtorch=${LIBTORCH_CUDA:-}
if [ -z "$libtorch" ]; then
  target="$home/check/torch-$version"
  if [ ! -d "$target/torch" ]; then
    # The torch package alone holds LibTorch's headers and libraries; NVIDIA's runtime wheels are only
    # needed to run, not to compile and link.
    echo "check:cuda: installing torch==$version (CUDA) into $target"
    rm -rf "$target.partial"
    "$python" -m pip install --disable-pip-version-check --no-input --no-deps --target "$target.partial" "torch==$version"
    mv "$target.partial" "$target"
  fi
  libtorch="$target/torch"
  # The headers c10d's NCCL backend includes (scripts/nccl.js looks beside torch, in nvidia/*/include), from
  # the NVIDIA wheels torch depends on: their include/ directories only, not their libraries.
  if [ ! -f "$target/nvidia/.headers" ]; then
    echo "check:cuda: unpacking the headers of NCCL, cuBLAS, cuSPARSE and cuSOLVER into $target/nvidia"
    wheels=$(mktemp -d)
    "$python" -m pip download --disable-pip-version-check --no-input --retries 0 --no-deps --dest "$wheels" \
      nvidia-nccl-cu13 'nvidia-cublas>=13,<14' 'nvidia-cusparse>=12,<13' 'nvidia-cusolver>=12,<13' > /dev/null
    "$python" -c '
import sys, zipfile, glob
for wheel in glob.glob(sys.argv[1] + "/*.whl"):
    with zipfile.ZipFile(wheel) as z:
        z.extractall(sys.argv[2], [n for n in z.namelist() if "/include/" in n])
' "$wheels" "$target"
    rm -rf "$wheels"
    touch "$target/nvidia/.headers"
  fi
fi

# A private copy of the build inputs, so that ./build and ./build-cmake keep the CPU builds.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$root/package.json" "$root/binding.gyp" "$root/CMakeLists.txt" "$root/native" "$root/scripts" "$work/"
ln -s "$root/node_modules" "$work/node_modules"
cd "$work"

node -e '
  import("./scripts/libtorch.js").then(({ inspectLibTorch, describe }) => {
    const info = inspectLibTorch(process.argv[1], "check:cuda");
    console.log("check:cuda: " + describe(info));
    if (info.problems.length) { console.error("check:cuda: not usable: " + info.problems.join("; ")); process.exit(1); }
    if (info.variant === "cpu") { console.error("check:cuda: " + info.root + " is a CPU build"); process.exit(1); }
  });' "$libtorch"

export LIBTORCH="$libtorch"
status=0
if [ -n "$(node scripts/nccl.js defines)" ]; then
  echo "check:cuda: NCCL process groups: built in (headers: $(node scripts/nccl.js include))"
else
  status=1; echo "check:cuda: NCCL's or CUDA's headers not found (scripts/nccl.js): the NCCL process groups are not checked"
fi
start=$(date +%s)
if node scripts/build.js > "$work/gyp.log" 2>&1; then
  echo "check:cuda: node-gyp build: ok ($(( $(date +%s) - start )) s)"
else
  status=1; echo "check:cuda: node-gyp build FAILED"; tail -40 "$work/gyp.log"
fi
start=$(date +%s)
if command -v nvcc > /dev/null && node scripts/build.js --cmake > "$work/cmake.log" 2>&1; then
  echo "check:cuda: cmake-js build: ok ($(( $(date +%s) - start )) s)"
  readelf -d build-cmake/Release/ulmfit.node | grep NEEDED | sed 's/^/check:cuda:   /'
else
  status=1; echo "check:cuda: cmake-js build FAILED (needs nvcc on PATH)"; tail -40 "$work/cmake.log" 2>/dev/null || true
fi
exit $status
