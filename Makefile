# msab — the two commands a newcomer needs are `make run` and `make test` (see README.md).
# Every target installs what it needs first (idempotently), so a fresh Debian 12 machine with
# Swift and Python works.
SHELL := /bin/bash
CONFIG ?= debug
SWIFT ?= swift
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
# C libraries the server links (OpenSSL), libsrtp2 (the SRTP tests' oracle), and the real peers
# the tests use.
APT_PACKAGES := libssl-dev openssl libsrtp2-dev pkg-config curl redis-server chromium chromium-driver python3-venv
PY_REQUIREMENTS := Tests/python/requirements.txt

.PHONY: help run build test test-swift test-python bench deps apt venv clean-venv

help:
	@echo "make run    build and start msab stand-alone (prints the URL and a token)"
	@echo "make test   install what is missing, build, run every test (Swift + Python real peers)"
	@echo "make bench  run the benchmarks and print their figures"

# ── dependencies ────────────────────────────────────────────────────────────────────────────
apt:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

$(VENV)/.installed: $(PY_REQUIREMENTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r $(PY_REQUIREMENTS)
	@touch $@

venv: $(VENV)/.installed

deps: apt venv

clean-venv:
	rm -rf $(VENV)

# ── build and run ───────────────────────────────────────────────────────────────────────────
build: apt
	$(SWIFT) build -c $(CONFIG) --product msab

run: build
	@echo "starting msab (stand-alone; Ctrl-C to stop)"
	$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/msab serve

# ── tests ───────────────────────────────────────────────────────────────────────────────────
test: deps
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory test-swift test-python

test-swift:
	$(SWIFT) test --skip-build

test-python: venv
	cd Tests/python && MSAB_BIN=$(CURDIR)/.build/debug/msab ../../$(PY) -m pytest -q

# ── benchmarks ──────────────────────────────────────────────────────────────────────────────
bench: deps
	$(SWIFT) build -c release --product msab-bench
	$(SWIFT) build -c release --product msab
	$$($(SWIFT) build -c release --show-bin-path)/msab-bench
	MSAB_BIN=$$($(SWIFT) build -c release --show-bin-path)/msab $(PY) Benchmarks/join_latency.py
