#!/usr/bin/env bash
# Sets up museforge in .venv/ inside the checkout: the CPU build of torch where no
# NVIDIA GPU is present, then the package with every extra (and the test tools with --dev).
# Safe to run again: it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

extras="all"
[[ "${1:-}" == "--dev" ]] && extras="all,dev"

py="${PYTHON:-python3}"
if [[ ! -x .venv/bin/python ]]; then
    "$py" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

# torch: pinned CPU build unless an NVIDIA GPU is visible (then pip's default CUDA build).
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        "${pip[@]}" install "torch<=2.14.1"
    else
        # On the project's machines this wheel is the CPU build (see README, Development).
        "${pip[@]}" install "torch==2.13.0"
    fi
fi

stamp=".venv/.museforge-$extras-$(sha256sum pyproject.toml | cut -c1-16)"
if [[ ! -f "$stamp" ]]; then
    "${pip[@]}" install -e ".[$extras]"
    touch "$stamp"
fi

# spandrel (the GAN upscalers, pyproject's `upscale` extra) without its dependencies: it
# declares torchvision, and PyPI's torchvision replaces the pinned CPU torch with a CUDA one.
if ! .venv/bin/python -c "import importlib.util as u, sys; sys.exit(not (u.find_spec('spandrel') and u.find_spec('einops')))"; then
    "${pip[@]}" install --no-deps "spandrel>=0.4.2,<0.5" "einops>=0.7"
fi
