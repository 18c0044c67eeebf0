#!/usr/bin/env bash
# Create (or update) the project's virtual environment in .venv with everything the
# book and the tests need. Idempotent: a second run only checks what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${VENV:-.venv}

[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip "$@"; }
pip install -q --upgrade pip setuptools wheel

# torch + torchvision: `ofa` imports torchvision, which needs a matching torch build.
if ! "$VENV/bin/python" -c "import torch, torchvision" 2>/dev/null; then
  pip install -q "torch==2.14.1" "torchvision==0.29.1"
fi

# torchsort compiles from source against the installed torch (no build isolation).
# Its setup.py builds a CUDA kernel whenever `nvcc` is on PATH; on a machine where torch
# sees no GPU that build is useless and can fail, so hide nvcc from it there.
if ! "$VENV/bin/python" -c "import torchsort" 2>/dev/null; then
  build_path=$PATH
  if ! "$VENV/bin/python" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" \
      && command -v nvcc >/dev/null; then
    nvcc_dir=$(dirname "$(command -v nvcc)")
    build_path=$(tr ':' '\n' <<<"$PATH" | grep -vx "$nvcc_dir" | paste -sd: -)
  fi
  PATH=$build_path pip install -q --no-build-isolation "torchsort==0.1.10" \
    || echo "WARNING: torchsort did not build; autobuild falls back to its pure-PyTorch soft rank." >&2
fi

pip install -q -e ".[ofa,sd,book,test,dask]"
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
echo "environment ready: $VENV"
