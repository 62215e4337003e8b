#!/usr/bin/env bash
# Builds tokenscope and runs the whole test suite (the README's test command; .ci/run calls it).
# Golden tests read ../shared/fixtures; without it they skip with a message, and under CI=true they fail.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$jobs"
cd build && ctest --output-on-failure -j"$jobs" --timeout 600
