#!/usr/bin/env bash
# Put into .whl/ the wheels an offline CUDA machine (Python 3.12, x86-64, with torch,
# numpy, matplotlib, scikit-learn, tqdm and pytest installed) lacks for running the
# notebooks: the Jupyter kernel, nbclient and nbval, ipywidgets, plotly, the packages
# chapter 8 imports, and `names` (chapter 5's data, which has no wheel on PyPI, so it
# is built here). scripts/gpu_check.sh installs them on that machine.
#   make gpu-wheels      (or: bash scripts/fetch_gpu_wheels.sh [EXTRA_PACKAGE ...])
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .git/info
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo '/.whl/' >>.git/info/exclude
rm -rf .whl && mkdir .whl
plat=(--only-binary=:all: --python-version 3.12 --implementation cp
  --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
  --platform manylinux2014_x86_64 --platform any)
pip=(.venv/bin/python -m pip)
"${pip[@]}" download -q "${plat[@]}" -d .whl nbval ipykernel nbclient
"${pip[@]}" download -q --no-deps "${plat[@]}" -d .whl ipywidgets widgetsnbextension \
  jupyterlab_widgets plotly lightning lightning-utilities torchmetrics "$@"
"${pip[@]}" wheel -q --no-deps "names==0.3.0" -w .whl
# Already on the CUDA machine; two versions of one package break the install there.
rm -f .whl/{pytest,pluggy,iniconfig,packaging,typing_extensions,attrs,psutil}-*.whl \
  .whl/{python_dateutil,coverage,pygments,tzdata}-*.whl
du -sh .whl
