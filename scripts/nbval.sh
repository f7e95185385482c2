#!/usr/bin/env bash
# Every notebook three times, side by side: on this CPU, on PyTorch's other CPU
# kernels (as on another CPU) and with every set_seed shifted (another draw of the
# noise, as on a GPU). Text is compared exactly; numbers within the tolerances that
# `make spread` measured (tests/nbtolerance.py, tests/tolerances.json); every cell
# and every self-check must pass in all three. Logs: _build/nbval-*.log.
#   scripts/nbval.sh notebooks/01_concepts.ipynb ...   (make nbval [NB=...])
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$PWD/.venv/bin
other=$("$bin/python" -c "import torch; print('avx2' if \
torch.backends.cpu.get_cpu_capability() == 'DEFAULT' else 'default')")
nbval="PYTHONPATH=$PWD $bin/pytest -q -p tests.nbtolerance --nbval $* \
--nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout=600 \
--nbval-kernel-startup-timeout=300"
exec scripts/with_run_env.sh scripts/side_by_side.sh \
  "nbval-this-cpu=$nbval" \
  "nbval-cpu-$other=ATEN_CPU_CAPABILITY=$other $nbval" \
  "nbval-seed-shift=DLBOOK_SEED_SHIFT=100 $nbval"
