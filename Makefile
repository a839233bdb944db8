# relurepro: `make reproduce` rebuilds every figure and claim; `make test` runs the tests.
SHELL := /bin/bash
VENV ?= .venv
PYTHON ?= python3
BIN := $(abspath $(VENV))/bin
STAMP := $(VENV)/.installed
export PATH := $(BIN):$(PATH)
SNAKEMAKE := $(BIN)/snakemake
CONFIG ?=

.PHONY: venv reproduce full test test-fast lint format archive gpu-check config-doc clean help

help:
	@echo "make reproduce   run every paper on the quick CPU config, then build the report"
	@echo "make full        paper scale (config/full.yaml), CUDA when present"
	@echo "make test        the test suite (end-to-end on the smoke config included)"
	@echo "make archive     pack results/ into a verifiable archive"
	@echo "make lint        ruff, ruff format --check, snakefmt --check, snakemake --lint"
	@echo "make config-doc  regenerate config/README.md (the configuration reference) from the schemas"
	@echo "make gpu-check   on a CUDA machine: smoke workflow on CUDA vs CPU, engine benchmarks on CUDA"

$(STAMP): envs/requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r envs/requirements.txt
	$(BIN)/pip install --disable-pip-version-check -q --no-deps -e .
	touch $(STAMP)

venv: $(STAMP)

reproduce: $(STAMP)
	$(SNAKEMAKE) --profile profiles/default $(CONFIG)
	$(SNAKEMAKE) --profile profiles/default $(CONFIG) --report results/report.html
	@$(BIN)/python -m relurepro.cli summary $(CONFIG)

full: CONFIG = --configfile config/full.yaml
full: reproduce

test: $(STAMP)
	$(BIN)/python -m pytest -ra

test-fast: $(STAMP)
	$(BIN)/python -m pytest -ra -m "not slow and not slurm"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/snakefmt --check Snakefile workflow/rules
	$(SNAKEMAKE) --lint

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	$(BIN)/snakefmt Snakefile workflow/rules

archive: $(STAMP)
	$(SNAKEMAKE) --profile profiles/default $(CONFIG) --report results/report.html
	$(SNAKEMAKE) archive --profile profiles/default $(CONFIG)

config-doc: $(STAMP)
	$(BIN)/python -m relurepro.cli config-doc

gpu-check: $(STAMP)
	$(BIN)/python bench/gpu_check.py

clean:
	rm -rf results logs benchmarks .snakemake
