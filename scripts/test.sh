#!/usr/bin/env bash
# Builds tokenscope and runs the whole test suite (the README's test command; .ci/run calls it): the C++ tests under
# ctest, then the Python suites under pytest.
# Golden tests read ../shared/fixtures; without it they skip with a message, and under CI=true they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
(cd build && ctest --output-on-failure -j"$jobs" --timeout 600)
# A short fuzz run of the libFuzzer targets (request JSON, chat templates, GGUF, tokenizer) with ASan + UBSan.
bash scripts/fuzz.sh 30

# Python suites in a virtualenv with the pinned packages: tests/python checks the bindings (`pip install .`, built
# into build/python) against the CLI; tests/api drives `tokenscope serve` with the official openai client.
venv=build/venv-test
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r python/requirements.txt -r tests/api/requirements.txt
"$venv/bin/python" -m pip install -q --disable-pip-version-check --no-build-isolation . -C build-dir=build/python
# (two runs: each folder has its own conftest.py)
TOKENSCOPE_CLI="$PWD/build/tokenscope" "$venv/bin/python" -m pytest -q tests/python
TOKENSCOPE_BIN="$PWD/build/tokenscope" "$venv/bin/python" -m pytest -q tests/api
