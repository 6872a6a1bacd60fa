# rt monorepo. On a fresh clone with only Python 3.11 and a C compiler:
#
#   make test    set up .venv, build every package into wheelhouse/ (tox env `wheels`), then run
#                every package's suite in its own isolated tox env, the integration suite, the
#                PyTorch parity suite, the docs site's build and tests, and the course's lessons
#                (each with only the packages it names)
#   make demo    set up .venv, install the packages into it (editable) and train a CNN on the
#                digits data set (demo/train_digits.py; DEMO_ARGS="--epochs 5" passes options)
#   make docs    build the documentation site (Sphinx + MyST) into docs/_build/html, warnings
#                as errors
#   make dev     install every package into .venv, editable, in layer order (day-to-day work;
#                after editing a .pyx run `make dev` again or `dev/build [_module,...]`)
#   make bench   run benchmarks/ in tox env `bench` (torch==2.13.0 + the rt wheels) and write
#                docs/performance.md
#   make clean   remove build products (keeps .venv); make distclean also removes .venv
#
# A second run rebuilds nothing that did not change: every step leaves a stamp in
# .venv/.rt-stamps and depends on the files it reads; the Cython build reuses each package's
# build/ directory (--no-build-isolation against the pinned tools in requirements/).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
TOX := $(VENV)/bin/tox
STAMPS := $(VENV)/.rt-stamps
PIP := $(PY) -m pip --disable-pip-version-check

# Layer order (DESIGN.md). Only the packages whose directory exists take part, so a later
# issue adds a package by adding its directory (and its env in tox.ini).
LAYERS := rt-tensor rt-autograd rt-nn rt-optim rt-import rt-distributed
PACKAGES := $(strip $(foreach p,$(LAYERS),$(if $(wildcard packages/$(p)/pyproject.toml),$(p))))

empty :=
space := $(empty) $(empty)
comma := ,
TEST_ENVS := $(subst $(space),$(comma),$(PACKAGES)),integration,parity,docs,course1,course2,course3,course4,course5

# Everything that goes into a wheel (tests are run from the tree, so they are not here).
PKG_SOURCES := $(shell find $(addprefix packages/,$(PACKAGES)) \
	\( -name build -o -name tests -o -name __pycache__ -o -name '*.egg-info' -o -name '.*' \) -prune \
	-o -type f \( -name '*.py' -o -name '*.pyx' -o -name '*.pxd' -o -name '*.pxi' -o -name '*.in' \
	-o -name '*.pyi' -o -name '*.h' -o -name '*.toml' -o -name '*.md' -o -name py.typed \) -print)
# What a compiled (in-place) build reads: an edit of a .py file needs no rebuild in `make dev`.
BUILD_SOURCES := $(filter %.pyx %.pxd %.pxi %.in %.h %.toml setup.py,$(PKG_SOURCES)) \
	$(filter $(wildcard packages/*/codegen/*.py),$(PKG_SOURCES))
PYPROJECTS := $(foreach p,$(PACKAGES),packages/$(p)/pyproject.toml)
REQUIREMENTS := requirements/build.txt requirements/test.txt requirements/tools.txt

# Serialise in-place builds with dev/build (several people or agents may build at once).
FLOCK := $(shell command -v flock >/dev/null 2>&1 && echo flock /tmp/rt-build.lock)

.PHONY: help venv tools wheels dev test demo docs bench clean distclean print-packages

help:
	@sed -n '2,19p' Makefile | sed 's/^# \{0,1\}//'

print-packages:
	@echo $(PACKAGES)

# --- set-up ------------------------------------------------------------------------------

$(PY):
	$(PYTHON) -m venv $(VENV)

venv: $(PY)

$(STAMPS)/tools: $(REQUIREMENTS) | $(PY)
	$(PIP) install -q $(addprefix -r ,$(REQUIREMENTS))
	@mkdir -p $(STAMPS) && touch $@

tools: $(STAMPS)/tools

# --- wheels (what `make test` and `make bench` install) ------------------------------------

$(STAMPS)/wheels: $(STAMPS)/tools tox.ini .ci/build.cfg .ci/pkgtool.py $(PKG_SOURCES)
	$(TOX) run -q -e wheels
	@touch $@

wheels: $(STAMPS)/wheels

# --- editable install into .venv (make dev, make demo) ------------------------------------

# Editable metadata once per pyproject change. RT_BUILD_ONLY=- makes setup.py compile
# nothing here: pip's editable build compiles in a throw-away directory, every module, every
# time; the incremental in-place build below reuses build/ instead.
$(STAMPS)/dev-install: $(STAMPS)/tools $(PYPROJECTS) .ci/pkgtool.py
	@deps="$$($(PY) .ci/pkgtool.py external-deps $(PACKAGES))"; \
	echo "installing external dependencies:" $$deps; \
	if [ -n "$$deps" ]; then $(PIP) install -q $$deps; fi
	@for p in $(PACKAGES); do \
		echo "installing $$p (editable)"; \
		RT_BUILD_ONLY=- $(PIP) install -q --no-build-isolation --no-deps -e packages/$$p \
			2>&1 | { grep -v -E "^warning: src|Location 'file" || true; }; \
		$(PY) -c "import importlib.metadata as m; m.distribution('$$p')" ; \
	done
	@touch $@

$(STAMPS)/dev: $(STAMPS)/dev-install $(BUILD_SOURCES)
	@for p in $(PACKAGES); do \
		if [ -f packages/$$p/setup.py ]; then \
			echo "building $$p (in place)"; \
			(cd packages/$$p && $(FLOCK) $(abspath $(PY)) setup.py -q build_ext --inplace -j 2 \
				2>&1 | { grep -v -E "^warning: src|Location 'file" || true; }); \
		fi; \
	done
	@$(PY) -c "import sys; [__import__(p.replace('-', '_')) for p in sys.argv[1:]]; print('importable:', *sys.argv[1:])" $(PACKAGES)
	@touch $@

dev: $(STAMPS)/dev

# --- the two commands ---------------------------------------------------------------------

test: $(STAMPS)/wheels
	$(TOX) run -e $(TEST_ENVS)

$(STAMPS)/demo-deps: requirements/demo.txt | $(STAMPS)/tools
	$(PIP) install -q -r requirements/demo.txt
	@touch $@

$(STAMPS)/docs-deps: requirements/docs.txt | $(STAMPS)/tools
	$(PIP) install -q -r requirements/docs.txt
	@touch $@

DEMO_ARGS ?=
demo: $(STAMPS)/dev $(STAMPS)/demo-deps
	$(PY) demo/train_digits.py $(DEMO_ARGS)

docs: $(STAMPS)/dev $(STAMPS)/docs-deps
	rm -rf docs/_build
	$(PY) -m sphinx -W --keep-going -q -b html docs docs/_build/html
	@echo "docs: open docs/_build/html/index.html"

bench: $(STAMPS)/wheels
	$(TOX) run -e bench

clean:
	rm -rf wheelhouse .tox $(addsuffix /build,$(addprefix packages/,$(PACKAGES)))
	find packages -name '*.so' -delete
	rm -f $(STAMPS)/wheels $(STAMPS)/dev

distclean: clean
	rm -rf $(VENV)
