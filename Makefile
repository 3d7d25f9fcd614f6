# Everything a fresh machine needs, in one place. `make demo` and `make test` are
# the two commands the README opens with; both install what they need first.
VENV ?= .venv
PY := $(VENV)/bin/python
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: install install-train system-deps demo test test-fast lab units check-units bench lint train

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@echo "Installing minagent and its dependencies (the first time builds llama.cpp: ~5 minutes)"
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# The `train` extra (PyTorch CPU, transformers, peft, gguf: about 1 GB on disk) is only for
# fine-tuning and its tests; `make test` pulls it in, `make demo` does not need it.
$(VENV)/.installed-train: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev,train]'
	touch $@

install-train: $(VENV)/.installed-train

system-deps:
	bash scripts/system-deps.sh

demo: install
	$(VENV)/bin/minagent run "What is 17 * 23 + 5?"

test: install install-train system-deps
	$(VENV)/bin/pytest

test-fast: install
	$(VENV)/bin/pytest -m "not slow and not browser"

# JupyterLab on the course folder with the repo's jupyter-config/ (README: "Working in
# JupyterLab"); the venv's own kernel comes before any kernel of the user's.
lab: install
	JUPYTER_CONFIG_PATH=$(CURDIR)/jupyter-config JUPYTER_PREFER_ENV_PATH=1 \
		$(VENV)/bin/jupyter lab --ServerApp.root_dir=$(CURDIR) --LabApp.default_url=/lab/tree/units \
		$(if $(filter 0,$(shell id -u)),--allow-root)

units: install
	$(PY) -m grader.release

check-units: install
	$(PY) -m grader.release --check

# Fine-tune the embedded model's agent adapter (minagent/train, about an hour on 2 cores).
train: install-train
	$(PY) -m minagent.train train --out runs/agent

bench: install
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	for b in bench/*.py; do $(PY) $$b || exit 1; done

lint: install
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .
