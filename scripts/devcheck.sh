#!/usr/bin/env bash
# Every notebook again on a GPU simulated on the CPU (tests/devcheck/fake_gpu.py),
# each kind in $DEVCHECK (default: CUDA and Apple MPS) side by side: a tensor left
# on the CPU beside one on the GPU, .numpy() on a GPU tensor, a CPU generator
# drawing on the GPU or (MPS) a float64 tensor on the GPU fails here as on a real
# GPU. Outputs are not compared (cells that branch on the device type print other
# numbers); every cell must run and the notebooks' self-checks must pass.
# Logs: _build/devcheck-<kind>.log.
#   scripts/devcheck.sh notebooks/01_concepts.ipynb ...   (make devcheck [NB=...])
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/.venv/bin
jobs=()
for kind in ${DEVCHECK:-cuda mps}; do
  case $kind in cuda | mps) ;; *)
    echo "DEVCHECK: unknown GPU kind '$kind'; use cuda and/or mps" >&2; exit 2 ;;
  esac
  jobs+=("devcheck-$kind=DLBOOK_DEVICE=$kind JUPYTER_PATH=$PWD/tests/devcheck \
PYTHONPATH=$PWD $bin/pytest -q --nbval-lax --nbval-kernel-name python3-fake-gpu \
--nbval-cell-timeout=600 --nbval-kernel-startup-timeout=300 $*")
done
exec scripts/with_run_env.sh scripts/side_by_side.sh "${jobs[@]}"
