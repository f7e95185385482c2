# Deep Learning with PyTorch: build, test and run the book.
#   make book     set up everything, then build the website into _build/html
#   make test     set up everything, then lint, unit tests, nbval, GPU simulation, build,
#                 site and JupyterLab checks in Chromium, a Colab-like run
#   make execute  re-run the notebooks in place, storing their outputs (NB=one.ipynb for one)
#   make lab      JupyterLab on the same environment
#   make bench    measure run times and budgets (writes _build/bench.md)
#   make devcheck the notebooks on simulated CUDA and MPS GPUs (part of make test)
#   make spread   measure how far printed numbers move; sets nbval's tolerances
#   make gpu-wheels  the wheels scripts/gpu_check.sh installs on an offline CUDA machine

SHELL := /bin/bash
.DELETE_ON_ERROR:  # a failed site build leaves no index.html that looks up to date
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NB ?= $(sort $(wildcard notebooks/*.ipynb))
# Every notebook run and check happens in scripts/run.env's environment (static
# explorer figures, no progress bars, a fixed hash seed, one BLAS thread), which
# scripts/bench.py, spread.py and gpu_check.sh read too.
RUN := scripts/with_run_env.sh
JB_BUILD := $(BIN)/jupyter-book build . -W -n --keep-going
# The website, built from the notebooks' stored outputs; rebuilt when a source changes.
SITE := _build/html/index.html
SITE_SOURCES := _config.yml _toc.yml $(wildcard notebooks/*.ipynb book/*.md book/_ext/*.py \
	book/_css/* book/data/* dlbook/*.py dlbook/explore/*)

.PHONY: setup book test lint unit nbval spread devcheck site-check lab-check colab execute lab \
	bench gpu-wheels clean chromium

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
book: $(SITE)

$(SITE): $(BIN)/.installed _vendor/.installed $(SITE_SOURCES)
	rm -rf _build/html _build/.doctrees
	$(JB_BUILD)

test: setup chromium lint unit nbval devcheck book site-check lab-check colab

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check dlbook tests scripts book/_ext

# pyproject.toml's pytest settings: a bare `pytest` runs exactly these tests.
unit: setup
	$(BIN)/pytest -q

# Every notebook three times side by side: on this CPU, on the other CPU kernels and
# with shifted seeds, numbers within the measured tolerances (see the script).
nbval: setup
	scripts/nbval.sh $(NB)

# How far each printed number moves on the other CPU kernels and over SEEDS shifted
# seeds; writes the tolerances nbval uses and the report _build/spread.md. Run it
# after `make execute` whenever outputs change.
SEEDS ?= 8
spread: setup
	$(BIN)/python scripts/spread.py --seeds $(SEEDS) $(NB)

# Every notebook on simulated CUDA and MPS GPUs (DEVCHECK="cuda mps"; see the script).
devcheck: setup
	scripts/devcheck.sh $(NB)

site-check: $(SITE) chromium
	$(BIN)/pytest -q tests/site

# The live explorers in JupyterLab itself, driven in Chromium: sliders, choice buttons,
# keys, and a notebook saved and reopened without its kernel.
lab-check: setup chromium
	$(BIN)/pytest -q tests/lab

# A Colab-like environment (torch, numpy, matplotlib, ipywidgets, a kernel) where a
# chapter's bootstrap cell installs dlbook from this checkout, then the chapter runs.
colab: setup
	$(BIN)/pytest -q tests/colab

## authoring ----------------------------------------------------------------------
execute: setup
	for nb in $(NB); do echo "executing $$nb"; \
		$(RUN) $(BIN)/jupyter nbconvert --to notebook --execute --inplace \
			--ExecutePreprocessor.timeout=600 "$$nb"; done

lab: setup
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/

bench: setup
	$(BIN)/python scripts/bench.py

# The wheels an offline CUDA machine needs for scripts/gpu_check.sh, into .whl/.
gpu-wheels: setup
	scripts/fetch_gpu_wheels.sh

clean:
	rm -rf _build _vendor node_modules
