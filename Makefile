# berth: two entry points for a newcomer, `make demo` and `make test`.
VENV      := .venv
PY        := $(VENV)/bin/python
BIN       := /usr/local/bin
STAMP     := $(VENV)/.installed

.PHONY: demo test lint deps system-deps install bench clean registry-image

demo: install
	bash scripts/demo.sh

test: install
	bash scripts/test.sh

lint: deps
	$(VENV)/bin/ruff check berth tests
	$(VENV)/bin/mypy berth

deps: system-deps $(STAMP)

system-deps:
	bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# compat mode: a plain path in a .pth, no import hook that every berth process would pay for
	$(PY) -m pip install -q -e '.[test]' --config-settings editable_mode=compat
	touch $@

install: deps
	$(PY) -m compileall -q berth  # the CLI's start-up counts; never leave it to compile at run time
	$(PY) scripts/cli_launcher.py $(VENV)/bin  # and so does `site`: the berth command starts without it
	ln -sf $(CURDIR)/$(VENV)/bin/berth $(BIN)/berth
	ln -sf $(CURDIR)/$(VENV)/bin/berthd $(BIN)/berthd
	ln -sf $(CURDIR)/$(VENV)/bin/berth-runtime $(BIN)/berth-runtime

# the course's registry:2 (Debian's docker-registry) and berth/registry, built by berth (berthd must be running)
registry-image: install
	bash scripts/registry_image.sh

bench: install
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) build *.egg-info
