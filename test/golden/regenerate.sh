#!/usr/bin/env bash
# Regenerates the golden files: lm.json and clas.json with PyTorch, using the torch package of the LibTorch
# that discovery finds (a pip install: LibTorch lives inside the torch package, so python can import it from
# there), and tokenizer.jsonl with spaCy 3.8, found on PYTHONPATH with ULMFIT_TEST_PYTHONPATH in front when set (CI:
# pip install --target DIR spacy==3.8.*, then ULMFIT_TEST_PYTHONPATH=DIR).
#   npm run golden            # rewrite test/golden/*.json and *.jsonl
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
PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}" python3 test/golden/clas_golden.py test/golden/clas.json
spacy_path="${ULMFIT_TEST_PYTHONPATH:-}${ULMFIT_TEST_PYTHONPATH:+${PYTHONPATH:+:}}${PYTHONPATH:-}"
if ! PYTHONPATH="$spacy_path" python3 -c 'import spacy' 2> /dev/null; then
  echo "golden: python3 cannot import spacy (set ULMFIT_TEST_PYTHONPATH to a directory holding spaCy 3.8)" >&2
  exit 1
fi
PYTHONPATH="$spacy_path" python3 test/golden/tokenizer_golden.py test/golden/tokenizer.jsonl
if [ "${1:-}" = "--check" ]; then
  git diff --exit-code --stat -- test/golden || { echo "golden: the regenerated golden files differ from the committed ones" >&2; exit 1; }
fi
echo "golden: test/golden/lm.json, test/golden/clas.json and test/golden/tokenizer.jsonl written"
