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
# sudo keeping the environment (the benches' settings), or nothing as root.
SUDO_E := $(if $(SUDO),$(SUDO) -E)
# C libraries the server links (OpenSSL), libsrtp2 (the SRTP tests' oracle), and the real peers
# the tests use.
APT_PACKAGES := libssl-dev openssl libsrtp2-dev pkg-config curl redis-server chromium chromium-driver firefox-esr iproute2 python3-venv
PY_REQUIREMENTS := Tests/python/requirements.txt

.PHONY: help run cluster build test test-swift test-python test-fuzz bench bench-janus janus soak format format-check fuzz fuzz-build sanitize deps apt venv clean-venv

help:
	@echo "make run    build and start msab stand-alone (prints the URL and a token)"
	@echo "make cluster  start redis-server and two msab nodes sharing rooms through it"
	@echo "make test   install what is missing, build, run every test (Swift + Python real peers)"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make soak   churn msab for SOAK_SECONDS (default 1800) and judge its memory, fds and errors"
	@echo "make bench-janus  the same audio fan-out against Janus (VideoRoom) and msab, CPU per forwarded packet side by side"
	@echo "make format  rewrite the Swift sources with swift-format (make format-check: report only; part of make test)"
	@echo "make fuzz   run every libFuzzer target for FUZZ_SECONDS (default 60) each"
	@echo "make sanitize  run the Swift tests under AddressSanitizer, then ThreadSanitizer"

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

# Janus (Debian package) for the side-by-side bench and its test. Not in APT_PACKAGES: the
# package's postinst starts a daemon listening on every interface, so the bench's installer keeps
# it from starting (policy-rc.d answering 101) and stops/disables anything that did.
janus: venv
	@command -v janus >/dev/null || $(SUDO) $(PY) -c 'import sys; sys.path.insert(0, "Benchmarks"); import janus_bench; print(janus_bench.install_janus())'

deps: apt venv

clean-venv:
	rm -rf $(VENV)

# ── build and run ───────────────────────────────────────────────────────────────────────────
build: apt
	$(SWIFT) build -c $(CONFIG) --product msab

run: build
	@echo "starting msab (stand-alone; Ctrl-C to stop)"
	$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/msab serve

# Two msab nodes and a redis-server on loopback (scale-out mode; see README "Running several nodes").
cluster: build
	MSAB_BIN=$$($(SWIFT) build -c $(CONFIG) --show-bin-path)/msab scripts/cluster.sh

# ── tests ───────────────────────────────────────────────────────────────────────────────────
test: deps janus
	$(SWIFT) build --build-tests
	$(MAKE) --no-print-directory format-check test-swift test-fuzz test-python

# ── style ───────────────────────────────────────────────────────────────────────────────────
# swift-format with the repository's .swift-format (`make format` rewrites, `make format-check`
# only reports and fails), and no comment naming a file, type or member that does not exist.
FORMAT_PATHS := Sources Tests Benchmarks Fuzz Package.swift
format:
	$(SWIFT) format format -i -r -p $(FORMAT_PATHS)

format-check:
	$(SWIFT) format lint -r -p --strict $(FORMAT_PATHS)
	python3 scripts/check-comment-refs.py Sources Tests Benchmarks Fuzz

test-swift:
	$(SWIFT) test --skip-build

test-python: venv
	cd Tests/python && MSAB_BIN=$(CURDIR)/.build/debug/msab ../../$(PY) -m pytest -q

# ── fuzzing and sanitizers ─────────────────────────────────────────────────────────────────
# msab-fuzz (Fuzz/) holds a libFuzzer target per network decoder. It is built with
# -sanitize=fuzzer,address in its own build folder; a plain build is a replayer of saved inputs.
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4
FUZZ_TARGETS := engine-packet engine-payload socketio-packet json stun rtp rtcp srtp dtls-record mediasoup-json \
	resp msgpack redis-broadcast redis-request
FUZZ_BUILD := .build-fuzz
# lld: gold fails on the sanitizer-instrumented objects (internal error in dwarf_reader).
FUZZ_FLAGS := -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld

fuzz-build: apt
	$(SWIFT) build --scratch-path $(FUZZ_BUILD) --product msab-fuzz $(FUZZ_FLAGS)

fuzz: fuzz-build
	Fuzz/run.sh $$($(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --show-bin-path)/msab-fuzz $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# In `make test`: the seeds and past crash inputs replay through the plain build, then each target
# fuzzes for a few seconds, so the harness keeps building and quick regressions show.
test-fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do .build/debug/msab-fuzz $$t Fuzz/corpus/$$t Fuzz/regressions/$$t || exit 1; done
	Fuzz/run.sh $$($(SWIFT) build --scratch-path $(FUZZ_BUILD) $(FUZZ_FLAGS) --show-bin-path)/msab-fuzz $(FUZZ_SMOKE_SECONDS) $(FUZZ_TARGETS)

# LeakSanitizer runs at exit of the ASan pass; the suppressions are Foundation's and XCTest's, not ours.
sanitize: apt
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/sanitizers/lsan.supp $(SWIFT) test --scratch-path .build-asan --sanitize=address
	$(SWIFT) test --scratch-path .build-tsan --sanitize=thread

# ── benchmarks ──────────────────────────────────────────────────────────────────────────────
bench: deps
	$(SWIFT) build -c release --product msab-bench
	$(SWIFT) build -c release --product msab
	$$($(SWIFT) build -c release --show-bin-path)/msab-bench
	MSAB_BIN=$$($(SWIFT) build -c release --show-bin-path)/msab $(PY) Benchmarks/join_latency.py
	MSAB_BIN=$$($(SWIFT) build -c release --show-bin-path)/msab $(PY) Benchmarks/cluster_fanout.py
	MSAB_BIN=$$($(SWIFT) build -c release --show-bin-path)/msab $(PY) Benchmarks/broadcast_fanout.py

# ── soak ────────────────────────────────────────────────────────────────────────────────────
# Release msab under `msab loadtest --churn` for SOAK_SECONDS (default 1800): RSS, fds, CPU and
# the load test's counters every minute, then a verdict (Benchmarks/soak.py); non-zero exit on fail.
# `make test` runs a 60 s version against the debug build (Tests/python/test_soak.py).
# SOAK_BUILD: the build folder of the release build (e.g. .build-release to reuse one).
SOAK_SECONDS ?= 1800
SOAK_BUILD ?= .build
soak: deps
	$(SWIFT) build -c release --scratch-path $(SOAK_BUILD) --product msab
	SOAK_SECONDS=$(SOAK_SECONDS) MSAB_BIN=$$($(SWIFT) build -c release --scratch-path $(SOAK_BUILD) --show-bin-path)/msab $(PY) Benchmarks/soak.py
# Janus side by side (issue 14 item 3): one speaker, N = 100 and 1,000 listeners, 20 s each, against
# Janus (default config, then event_loops = 2) and msab, each alone in a network namespace.
# JANUS_BENCH_SECONDS / JANUS_BENCH_SIZES shorten it for a quick check. The release msab is built
# in RELEASE_SCRATCH (its own scratch path, so it never disturbs the debug build); MSAB_RELEASE_BIN
# names an already built one instead (e.g. make bench-janus MSAB_RELEASE_BIN=/path/to/release/msab).
RELEASE_SCRATCH ?= .build-release
MSAB_RELEASE_BIN ?=
bench-janus: deps janus
ifeq ($(MSAB_RELEASE_BIN),)
	$(SWIFT) build -c release --scratch-path $(RELEASE_SCRATCH) --product msab
	MSAB_BIN=$$($(SWIFT) build -c release --scratch-path $(RELEASE_SCRATCH) --show-bin-path)/msab $(SUDO_E) $(PY) Benchmarks/janus_bench.py
else
	MSAB_BIN=$(MSAB_RELEASE_BIN) $(SUDO_E) $(PY) Benchmarks/janus_bench.py
endif
