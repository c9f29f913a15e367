# The RCM platform's entry points for people and CI.
# Installs come from requirements.lock (hashed, no download addresses); uv.lock stays untracked.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
LOCKFILE ?= requirements.lock
STAMP := $(VENV)/.rcm-installed
ASYNCAPI_PARSER := tools/asyncapi/node_modules/.rcm-installed
MEMBERS := $(patsubst %/pyproject.toml,%,$(wildcard libs/*/pyproject.toml services/*/pyproject.toml tools/pyproject.toml))
# Every source tree, and every test tree that has Python in it (mypy refuses an empty one). The source trees
# are mypy's package roots, found here so a new service needs no configuration.
SOURCE_TREES := $(wildcard libs/*/src services/*/src tools/src)
export MYPYPATH := $(subst $(eval) ,:,$(SOURCE_TREES))
MYPY_TARGETS := $(SOURCE_TREES) \
	$(foreach dir,$(wildcard libs/*/tests services/*/tests tools/tests tests),$(if $(shell find $(dir) -name '*.py' -print -quit),$(dir)))
# uv from PATH, else the copy `make toolchain` installed for $(PYTHON). Expanded when a recipe starts.
UV = $(if $(shell command -v uv 2>/dev/null),uv,$(PYTHON) -m uv)
RUN = $(UV) run --no-sync
RCM = $(RUN) rcm

# Use the machine's Python; never download an interpreter.
export UV_PYTHON_DOWNLOADS := never

.PHONY: help toolchain install run up down status test lint lock contracts bench bench-x12 debian-tools container-tools images k8s-check k8s-smoke code-audit fuzz soak

help:
	@echo "make run        install, start the local stack, run the demo, stop the stack"
	@echo "make up|down|status   manage the local stack (state in .rcm/)"
	@echo "make test       install and run the whole test suite"
	@echo "make lint       ruff check, ruff format --check, mypy"
	@echo "make lock       regenerate $(LOCKFILE) from the workspace"
	@echo "make contracts  regenerate contracts/ (the suite fails when it drifts from the code)"
	@echo "make bench      run the benchmarks; each prints one JSON line"
	@echo "make bench-x12  the X12 codec: 835 read vs pyx12 in the same run, 837P claims/s written"
	@echo "make images     each service's container image, built with podman from a Debian base made here"
	@echo "make k8s-check  render deploy/ and check it offline: Kubernetes' and the CRDs' schemas, the rules"
	@echo "make k8s-smoke  one service's image run as its rendered pod (podman kube play), up to its /readyz"
	@echo "make code-audit bandit over the code (every finding explained where it stands), pip-audit over the lock"
	@echo "make fuzz       the X12 readers and the CSV uploads fuzzed, 3,000 examples each (make test runs 25)"
	@echo "make soak       the reliability proof, long: 5,000 claims under every fault (make test runs 200)"

toolchain:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is required: run with PYTHON=/path/to/python3.11" >&2; exit 1; }
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m uv --version >/dev/null 2>&1 \
		|| $(PYTHON) -m pip install --quiet --user uv 2>/dev/null || $(PYTHON) -m pip install --quiet uv

install: $(STAMP)

# Re-run only when the lock or a project file changes: repeated `make test` starts at once.
$(STAMP): $(LOCKFILE) pyproject.toml $(addsuffix /pyproject.toml,$(MEMBERS)) | toolchain
	@$(VENV)/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null \
		|| $(UV) venv --clear --python $(PYTHON) $(VENV)
	$(UV) pip sync --python $(VENV)/bin/python --require-hashes $(LOCKFILE)
	$(UV) pip install --python $(VENV)/bin/python --no-deps $(addprefix --editable ,$(MEMBERS))
	@touch $@

# The official AsyncAPI parser checks contracts/asyncapi in the tests; it comes from npm, pinned by its
# lock, where npm is installed (the test says it was skipped where it is not).
$(ASYNCAPI_PARSER): tools/asyncapi/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tools/asyncapi --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is not installed: the AsyncAPI parser's check of contracts/asyncapi is skipped" >&2; fi

# The tests look at what people look at: the appeal letters and statements are read back with poppler's pdftotext
# and pdftoppm, and the dashboard is screenshot in headless Chromium. Where both are on the PATH this
# prerequisite is empty and costs nothing; where one is not, apt-get installs its Debian package when it can
# (root), else the reason is printed and those tests fail saying what to install.
DEBIAN_TOOLS := $(strip $(if $(shell command -v pdftoppm 2>/dev/null),,poppler-utils) \
	$(if $(shell command -v chromium 2>/dev/null),,chromium))
DEBIAN_TOOLS_TARGET := $(if $(DEBIAN_TOOLS),debian-tools)

debian-tools:
	@if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "installing $(DEBIAN_TOOLS) for the tests that render letters, statements and the dashboard" >&2; \
		export DEBIAN_FRONTEND=noninteractive; \
		{ apt-get install -y -qq --no-install-recommends $(DEBIAN_TOOLS) \
			|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends $(DEBIAN_TOOLS); }; } >/dev/null \
			|| echo "apt-get could not install $(DEBIAN_TOOLS): the tests that need them will fail" >&2; \
	else echo "$(DEBIAN_TOOLS) missing and only root with apt-get can install them here: install them" \
		"(the tests that render PDFs and the dashboard fail without them)" >&2; fi

$(LOCKFILE):
	@echo "$(LOCKFILE) is missing: run 'make lock' and commit it" >&2; exit 1

# The demo's outcome is make's outcome, and the stack is stopped whatever happens after it started.
run: install
	$(RCM) up && trap '$(RCM) down' EXIT && $(RCM) demo

up: install
	$(RCM) up

down: install
	$(RCM) down

status: install
	$(RCM) status

# pytest exits 5 when it collects nothing: like any non-zero exit, that fails the target. Two workers
# (pytest-xdist), each taking whole test modules, so a module's stack or database fixture starts once, in the
# order the rcm pytest plugin puts them (the longest first; xdist would otherwise order them by size).
TEST_WORKERS ?= 2
test: install $(ASYNCAPI_PARSER) $(DEBIAN_TOOLS_TARGET)
	$(RUN) pytest -n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy $(MYPY_TARGETS)

# With the dev group: `make test` installs its tools from the same lock. A download address must never
# land in the lock (it would tie installs to one index), so the new lock replaces the old only without one.
lock: toolchain
	$(UV) export --quiet --format requirements-txt --no-emit-workspace --all-packages --all-groups --no-header \
		--output-file $(LOCKFILE).new
	@if grep -nE '(https?|file)://' $(LOCKFILE).new; then \
		rm -f $(LOCKFILE).new; echo "the exported lock records download addresses; $(LOCKFILE) is unchanged" >&2; exit 1; \
	fi
	@mv $(LOCKFILE).new $(LOCKFILE)

contracts: install
	$(RCM) contracts

bench: install
	$(RCM) bench outbox
	$(RCM) bench x12
	$(RCM) bench charge
	$(RCM) bench claim
	$(RCM) bench remittance
	$(RCM) bench collections
	$(RCM) bench simulator
	$(RCM) bench http
	$(RCM) bench e2e

bench-x12: install
	$(RCM) bench x12

# Also run by `make test` (tools/tests/test_k8s_check.py), with the broken manifests it must refuse.
k8s-check: install
	$(RCM) k8s-check

# podman, buildah and mmdebstrap are Debian packages; CONTAINERS_CONF holds the runtime settings that work here.
PODMAN = CONTAINERS_CONF=$${CONTAINERS_CONF:-$(CURDIR)/deploy/images/containers.conf}

container-tools:
	@command -v podman >/dev/null 2>&1 && command -v mmdebstrap >/dev/null 2>&1 \
		|| DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends podman buildah mmdebstrap runc

images: install container-tools
	$(PODMAN) $(RCM) images --pip-python "$$(command -v $(PYTHON))"

# The pod deploy/ renders for registration, played by podman against the embedded broker and the host's
# PostgreSQL; it prints each change it had to make to the manifests and what this machine lacks that needs it.
k8s-smoke: install container-tools
	$(PODMAN) $(RCM) k8s-smoke --pip-python "$$(command -v $(PYTHON))"

# Not part of `make test`: pip-audit reads PyPI's vulnerability data, which a machine may not reach; a locked
# version it could not look up fails the target as not audited, never passes as clean.
code-audit: install
	$(RCM) code-audit

# tests/fuzz with many examples: the X12 readers on mutated corpus files and arbitrary bytes, the CSV uploads on
# mutated files and arbitrary text; `make test` runs the same tests with a few examples each.
fuzz: install
	RCM_FUZZ_EXAMPLES=$${RCM_FUZZ_EXAMPLES:-3000} $(RUN) pytest tests/fuzz

# The long reliability proof (`rcm prove`): 5,000 claims on PostgreSQL under every fault several times, then
# every claim, cent, dead letter and replay accounted for; one JSON line of figures. SOAK_ARGS changes the run
# (`make soak SOAK_ARGS="--claims 100000 --kills 10"`).
soak: install
	$(RCM) prove $(SOAK_ARGS)
