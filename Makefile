# Deep Learning with PyTorch: build, test and run the book.
#   make book     set up everything, then build the website into _build/html
#   make test     set up everything, then lint, unit tests, strict nbval, build, site checks
#   make execute  re-run the notebooks in place, storing their outputs (NB=one.ipynb for one)
#   make lab      JupyterLab on the same environment
#   make bench    measure run times and budgets (writes _build/bench.md)
#   make devcheck the notebooks on simulated CUDA and MPS GPUs (part of make test)
#   make spread   measure how far printed numbers move; sets nbval's tolerances

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NB ?= $(sort $(wildcard notebooks/*.ipynb))
# Outputs are made and checked the same way: static explorer figures, no progress
# bars, a fixed hash seed, one thread for the kernel's BLAS.
RUN_ENV := DLBOOK_BUILD=1 TQDM_DISABLE=1 PYTHONHASHSEED=0 JUPYTER_PLATFORM_DIRS=1 \
	OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYDEVD_DISABLE_FILE_VALIDATION=1
JB_BUILD := $(BIN)/jupyter-book build . -W -n --keep-going

.PHONY: setup book test lint unit nbval spread devcheck site-check colab execute lab bench clean chromium

## set-up ---------------------------------------------------------------------
$(BIN)/.installed: requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -r requirements.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $@

# The site's JavaScript, installed from package registries and served by the site:
# MathJax and plotly.js's basic bundle (scatter plots: all the explorers draw; 1 MB
# instead of 4.8 MB) from npm, at the version the plotly Python package targets.
_vendor/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	rm -rf _vendor && mkdir -p _vendor/plotly
	cp -r node_modules/mathjax/es5 _vendor/mathjax
	cp node_modules/plotly.js-basic-dist-min/plotly-basic.min.js _vendor/plotly/plotly.min.js
	touch $@

chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

setup: $(BIN)/.installed _vendor/.installed

## the two commands -------------------------------------------------------------
book: setup
	rm -rf _build/html _build/.doctrees
	$(JB_BUILD)

test: setup chromium lint unit nbval devcheck book site-check colab

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check dlbook tests scripts book/_ext

unit: setup
	$(BIN)/pytest -q --doctest-modules dlbook tests/nbtolerance.py tests/unit

# Every notebook three times, side by side: on this CPU, on PyTorch's other CPU
# kernels (another CPU) and with every set_seed shifted (another draw of the noise,
# as on a GPU). Text is compared exactly; numbers within the tolerances that
# `make spread` measured (tests/nbtolerance.py, tests/tolerances.json); every cell
# and every self-check must pass in all three. Logs: _build/nbval-*.log.
NBVAL := PYTHONPATH=$(CURDIR) $(BIN)/pytest -q -p tests.nbtolerance --nbval $(NB) \
	--nbval-sanitize-with tests/sanitize.cfg --nbval-cell-timeout=600 \
	--nbval-kernel-startup-timeout=300
OTHER_CPU = $$($(BIN)/python -c "import torch; \
	print('avx2' if torch.backends.cpu.get_cpu_capability() == 'DEFAULT' else 'default')")
nbval: setup
	other=$(OTHER_CPU); scripts/side_by_side.sh \
		"nbval-this-cpu=$(RUN_ENV) $(NBVAL)" \
		"nbval-cpu-$$other=$(RUN_ENV) ATEN_CPU_CAPABILITY=$$other $(NBVAL)" \
		"nbval-seed-shift=$(RUN_ENV) DLBOOK_SEED_SHIFT=100 $(NBVAL)"

# How far each printed number moves on the other CPU kernels and over SEEDS shifted
# seeds; writes the tolerances nbval uses and the report _build/spread.md. Run it
# after `make execute` whenever outputs change.
SEEDS ?= 8
spread: setup
	$(BIN)/python scripts/spread.py --seeds $(SEEDS) $(NB)

# Every notebook again on a GPU simulated on the CPU (tests/devcheck/fake_gpu.py),
# CUDA and Apple MPS side by side: a tensor left on the CPU beside one on the GPU,
# .numpy() on a GPU tensor, a CPU generator drawing on the GPU or (MPS) a float64
# tensor on the GPU fails here as on a real GPU. Outputs are not compared (cells that
# branch on the device type print other numbers); every cell must run and the
# notebooks' self-checks must pass. Logs: _build/devcheck-<kind>.log.
DEVCHECK ?= cuda mps
devcheck: setup
	scripts/side_by_side.sh $(foreach kind,$(DEVCHECK),"devcheck-$(kind)=$(RUN_ENV) \
		DLBOOK_DEVICE=$(kind) JUPYTER_PATH=$(CURDIR)/tests/devcheck \
		PYTHONPATH=$(CURDIR) $(BIN)/pytest -q -p no:cacheprovider --nbval-lax \
		--nbval-kernel-name python3-fake-gpu --nbval-cell-timeout=600 \
		--nbval-kernel-startup-timeout=300 $(NB)")

site-check: setup chromium
	$(BIN)/pytest -q tests/site

# A Colab-like environment (torch, numpy, matplotlib, ipywidgets, a kernel) where a
# chapter's bootstrap cell installs dlbook from this checkout, then the chapter runs.
colab: setup
	$(BIN)/pytest -q tests/colab

## authoring ----------------------------------------------------------------------
execute: setup
	for nb in $(NB); do echo "executing $$nb"; \
		$(RUN_ENV) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=600 "$$nb"; done

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: setup
	$(BIN)/python scripts/bench.py

clean:
	rm -rf _build _vendor node_modules
