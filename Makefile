# voicecli: `make demo` (try it on the built-in simulator) and `make test` (the suite).
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT := out
# System packages: espeak-ng gives the simulator a voice, libportaudio2 is what sounddevice
# opens devices with, pulseaudio & co. provide the virtual microphone/speaker for device tests.
SYSPKGS := espeak-ng libportaudio2
# xvfb, xdotool and python3-tk: a private X display with a window for the screen-sharing tests.
TESTPKGS := pulseaudio pulseaudio-utils libasound2-plugins sox xvfb xdotool python3-tk

.PHONY: demo test venv sysdeps testdeps lint typecheck pytest bench clean test-sdk-min test-sdk-min-ci

$(BIN)/voicecli: pyproject.toml
	@echo "make: creating $(VENV) and installing voicecli with its extras (a minute or two, once)"
	$(PY) -m venv $(VENV)
	@echo "make: upgrading pip"
	$(BIN)/pip install -q --upgrade pip
	@echo "make: installing voicecli[dev,aec,mcp,silero,video] and its dependencies (pip shows each)"
	$(BIN)/pip install --progress-bar on --disable-pip-version-check -e '.[dev,aec,mcp,silero,video]'
	@echo "make: $(VENV) is ready"
	touch $@

venv: $(BIN)/voicecli

sysdeps:
	@bash scripts/sysdeps.sh $(SYSPKGS)

testdeps:
	@bash scripts/sysdeps.sh $(SYSPKGS) $(TESTPKGS)

demo: venv sysdeps
	@mkdir -p $(OUT)
	@echo "make: running a conversation with the built-in simulator (files in $(OUT)/)"
	$(BIN)/voicecli demo --out-dir $(OUT)

lint: venv
	$(BIN)/ruff check voicecli tests bench
	$(BIN)/ruff format --check voicecli tests bench

typecheck: venv
	$(BIN)/mypy

# the suite in parallel (pytest-xdist): two workers a core, as most of its time is waiting
# on real-time audio and child processes (one worker averaged half a core); device tests
# each get a private virtual PulseAudio (tests/conftest.py)
PYTEST_JOBS ?= $(shell echo $$(( 2 * $$(nproc 2>/dev/null || echo 1) )))
XDIST = -n $(PYTEST_JOBS) --dist loadgroup

pytest: venv
	$(BIN)/pytest $(XDIST) $(PYTEST_ARGS)

# lint and mypy run beside the suite (they need a core for well under a minute)
test: venv testdeps
	@$(MAKE) --no-print-directory -j3 lint typecheck pytest

bench: venv testdeps
	@for b in bench/bench_gate.py bench/bench_talk.py bench/bench_turns.py bench/bench_turn_taking.py bench/bench_soak.py \
	          bench/bench_ui.py bench/bench_say.py bench/bench_devices.py bench/bench_starter.py bench/bench_streams.py bench/bench_echo.py \
	          bench/bench_continue.py bench/bench_video.py bench/bench_help.py; do \
	  echo "### $$b"; $(BIN)/python $$b || exit 1; done

# The suite against the lowest google-genai that pyproject.toml allows, in a second venv.
# SDK_MIN_ARGS picks tests (default: all but the device tests, which do not touch the SDK).
SDK_MIN := 3.4.0  # keep in step with "google-genai>=..." in pyproject.toml
SDK_MIN_VENV := .venv-sdk-min
SDK_MIN_ARGS ?= -m 'not slow and not devices'

$(SDK_MIN_VENV)/bin/voicecli: pyproject.toml
	$(PY) -m venv $(SDK_MIN_VENV)
	$(SDK_MIN_VENV)/bin/pip install -q --upgrade pip
	$(SDK_MIN_VENV)/bin/pip install -q --disable-pip-version-check -e '.[dev]' 'google-genai==$(SDK_MIN)'
	touch $@

# CI: the tests that drive the SDK directly (wire protocol, fidelity, handshake failures, REST)
SDK_MIN_CI_ARGS := tests/test_fidelity.py tests/test_handshake_errors.py tests/test_sim_live.py \
	tests/test_sim_faults.py tests/test_sim_rest.py tests/test_talk_e2e.py \
	tests/test_live_refusals.py tests/test_live_schema.py tests/test_ui_live_view.py

test-sdk-min-ci: $(SDK_MIN_VENV)/bin/voicecli
	$(MAKE) test-sdk-min SDK_MIN_ARGS='$(SDK_MIN_CI_ARGS)'

test-sdk-min: $(SDK_MIN_VENV)/bin/voicecli testdeps
	$(SDK_MIN_VENV)/bin/python -c 'import google.genai as g; print("google-genai", g.__version__)'
	$(SDK_MIN_VENV)/bin/pytest -q -p no:cacheprovider $(XDIST) $(SDK_MIN_ARGS)

clean:
	rm -rf $(VENV) $(SDK_MIN_VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
