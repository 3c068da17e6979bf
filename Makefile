PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH ?= 2.13.0
# Where torch comes from. Empty: pip's default index (on plain PyPI for Linux that is the
# multi-GB CUDA build). A PyTorch wheel channel instead, e.g. `make install TORCH_INDEX=cpu`
# (CPU only, ~200 MB) or TORCH_INDEX=cu126: https://download.pytorch.org/whl/$(TORCH_INDEX)
TORCH_INDEX ?=
TORCH_FROM := $(if $(TORCH_INDEX),--index-url https://download.pytorch.org/whl/$(TORCH_INDEX),)

.PHONY: install demo test bench clean

$(BIN)/python:
	@command -v $(PY) >/dev/null 2>&1 || { echo "python3.11 not found; run: make PY=python3 ..."; exit 2; }
	$(PY) -m venv $(VENV)

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q --upgrade pip
	# the torch this machine is tested with; pyproject itself accepts any torch >= 2.2
	$(BIN)/pip install -q torch==$(TORCH) $(TORCH_FROM)
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/gankit train cdcgan-mnist-demo

test: $(STAMP)
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/gankit bench

clean:
	rm -rf $(VENV) runs
