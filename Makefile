# berth: two entry points for a newcomer, `make demo` and `make test`.
VENV      := .venv
PY        := $(VENV)/bin/python
BIN       := /usr/local/bin
STAMP     := $(VENV)/.installed

.PHONY: demo test deps system-deps install bench clean

demo: install
	bash scripts/demo.sh

test: install
	bash scripts/test.sh

deps: system-deps $(STAMP)

system-deps:
	bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

install: deps
	ln -sf $(CURDIR)/$(VENV)/bin/berth $(BIN)/berth
	ln -sf $(CURDIR)/$(VENV)/bin/berthd $(BIN)/berthd
	ln -sf $(CURDIR)/$(VENV)/bin/berth-runtime $(BIN)/berth-runtime

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
