# `make demo`: set up .venv and run the demo. `make test`: set up .venv and run the tests.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: setup system-deps demo test clean

setup: $(INSTALLED)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall when the package's requirements change.
$(INSTALLED): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,distributed,mpd]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/songscape demo

# chromium and Noto fonts for the browser test (apt-get, only when missing)
system-deps:
	bash .ci/system-deps

test: system-deps $(INSTALLED)
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) songscape-runs .pytest_cache
