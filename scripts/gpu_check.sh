#!/usr/bin/env bash
# Execute every notebook on a CUDA GPU and record per-chapter times; first measure
# the CPU-vs-GPU step times that chapter 7 plots (scripts/gpu_step_times.py).
#
# The stored outputs come from a CPU, so on a GPU this checks that every cell runs
# and the notebooks' own self-check assertions hold (nbval in lax mode), not every
# printed digit. Prepare an offline CUDA machine (Python 3.12 with torch, numpy,
# matplotlib, scikit-learn, tqdm and pytest) with `make gpu-wheels` here (the wheels
# it lacks, into .whl/), then, on the GPU machine, from the project root:
#     bash scripts/gpu_check.sh   # writes gpu_times.md, gpu_check.log and
#                                 # gpu_step_times.json into ${OUT:-_build}
# Back on the book's machine: copy gpu_step_times.json to book/data/, then
# make execute NB=notebooks/07_faq.ipynb. (make devcheck catches most device bugs
# without a GPU; this is the real thing.)
set -uo pipefail
out_dir=${OUT:-_build}
mkdir -p "$out_dir"
if [ -d .whl ]; then
  python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl
  export PYTHONPATH=/tmp/site:$PWD PATH=/tmp/site/bin:$PATH
  python3 -m ipykernel install --user --name python3 >/dev/null
fi
export PYTHONPATH=${PYTHONPATH:-$PWD} DLBOOK_DEVICE=cuda
status=0
rm -f "$out_dir/gpu_step_times.json"  # never pass on a file from an earlier run
if python3 scripts/gpu_step_times.py --out "$out_dir/gpu_step_times.json" \
    >"$out_dir/gpu_check.log" 2>&1; then
  cp -f "$out_dir/gpu_step_times.json" book/data/
else
  echo "gpu_step_times.py FAILED (see gpu_check.log)"
  status=1
fi
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n 1)
report="$out_dir/gpu_times.md"
{
  echo "# Notebooks on ${gpu:-no GPU found} ($(date -u +%F))"
  echo
  echo "| notebook | result | seconds |"
  echo "| --- | --- | ---: |"
} >"$report"
# The notebooks in the book's run environment, as make execute and nbval run them
# (after the step times above, which use every CPU thread for the CPU's side).
set -a
. scripts/run.env
set +a
# The notebooks side by side (a GPU machine has many cores; each kernel uses one
# CPU thread): each one's time is its own wall time while the others run too.
run_one() {
  local nb=$1 start tenths result
  start=$(date +%s%N)
  if python3 -m pytest -p no:cacheprovider -q --nbval-lax "$nb" \
      >"$out_dir/gpu_$(basename "$nb" .ipynb).log" 2>&1; then result=passed
  else result=FAILED; fi
  tenths=$((($(date +%s%N) - start) / 100000000))
  printf '| %s | %s | %d.%d |\n' "$(basename "$nb")" "$result" $((tenths / 10)) \
    $((tenths % 10)) >"$out_dir/gpu_$(basename "$nb" .ipynb).row"
}
for nb in notebooks/*.ipynb; do run_one "$nb" & done
wait
for nb in notebooks/*.ipynb; do
  name=$(basename "$nb" .ipynb)
  cat "$out_dir/gpu_$name.row" >>"$report"
  { echo "=== $nb"; cat "$out_dir/gpu_$name.log"; } >>"$out_dir/gpu_check.log"
  grep -q FAILED "$out_dir/gpu_$name.row" && status=1
  rm -f "$out_dir/gpu_$name.row" "$out_dir/gpu_$name.log"
done
cat "$report"
exit $status
