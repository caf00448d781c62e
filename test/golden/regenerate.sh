#!/usr/bin/env bash
# Regenerates the golden files with PyTorch, using the torch package of the LibTorch that discovery finds
# (a pip install: LibTorch lives inside the torch package, so python can import it from there).
#   npm run golden            # rewrite test/golden/*.json
#   npm run golden -- --check # also fail when they changed (CI)
set -euo pipefail
cd "$(dirname "$0")/../.."
libdir=$(node scripts/libtorch.js libdir)
site=$(dirname "$(dirname "$libdir")")
if ! PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" python3 -c 'import torch' 2> /dev/null; then
  echo "golden: python3 cannot import torch from $site (a LibTorch archive has no Python package);" >&2
  echo "golden: use a pip-installed torch (npx ulmfit setup) to regenerate the golden files" >&2
  exit 1
fi
PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" python3 test/golden/lm_golden.py test/golden/lm.json
if [ "${1:-}" = "--check" ]; then
  git diff --exit-code --stat -- test/golden || { echo "golden: the regenerated golden files differ from the committed ones" >&2; exit 1; }
fi
echo "golden: test/golden/lm.json written"
