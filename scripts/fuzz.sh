#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang in build-fuzz (TOKENSCOPE_FUZZ=ON: coverage, AddressSanitizer,
# UndefinedBehaviorSanitizer) and runs each for SECONDS (default 30), as many at once as there are cores, each on its
# own corpus in build-fuzz/corpus/<target>: the seeds of tests/fuzz/corpus/<target> (only read, never written) plus
# what earlier runs found, with the dictionary tests/fuzz/<target>.dict where there is one. Exits 1 if any target crashed, leaked, tripped a sanitizer, ran out of memory or hung on
# one input; the input that did it is left in build-fuzz/artifacts/<target>/ and the log in build-fuzz/logs/.
#   scripts/fuzz.sh [SECONDS] [TARGET...]        e.g. scripts/fuzz.sh 60, scripts/fuzz.sh 300 fuzz_gguf
# Reproduce a crash: build-fuzz/tests/fuzz/<target> build-fuzz/artifacts/<target>/crash-...
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_request_json fuzz_chat_template fuzz_gguf fuzz_tokenizer)
if ! command -v clang++ >/dev/null; then
  echo "fuzz.sh: clang++ not found (scripts/install-deps.sh installs clang and libclang-rt-14-dev)" >&2
  exit 2
fi
jobs=$(nproc 2>/dev/null || echo 2)
out=build-fuzz
CC=clang CXX=clang++ cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTOKENSCOPE_FUZZ=ON \
  -DTOKENSCOPE_BUILD_TESTS=OFF -DTOKENSCOPE_BUILD_BENCH=OFF >/dev/null
cmake --build "$out" -j"$jobs" --target fuzz_targets

mkdir -p "$out/logs"
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
run_one() {
  local t=$1 corpus="$out/corpus/$1" art="$out/artifacts/$1"
  mkdir -p "$corpus" "$art"
  cp -n tests/fuzz/corpus/"$t"/* "$corpus"/ 2>/dev/null || true
  [ "$t" != fuzz_gguf ] || "$out/tests/fuzz/make_gguf_seeds" "$corpus"
  local dict=()
  [ ! -f "tests/fuzz/$t.dict" ] || dict=(-dict="tests/fuzz/$t.dict")
  "$out/tests/fuzz/$t" "$corpus" "${dict[@]}" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
    -artifact_prefix="$art/" -print_final_stats=1 >"$out/logs/$t.log" 2>&1
}

failed=()
pids=()
names=()
finish() {  # waits for the oldest running target and reports it
  local pid=${pids[0]} t=${names[0]}
  pids=("${pids[@]:1}")
  names=("${names[@]:1}")
  if wait "$pid"; then
    local execs cov
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/logs/$t.log" | grep -o '[0-9]*$' || echo "?")
    cov=$(grep -o 'cov: [0-9]*' "$out/logs/$t.log" | tail -1 || true)
    echo "fuzz.sh: $t ok: ${execs} runs in ${secs} s, ${cov:-cov: ?}, corpus $(ls "$out/corpus/$t" | wc -l) files"
  else
    echo "fuzz.sh: $t FAILED (log $out/logs/$t.log, input in $out/artifacts/$t/):" >&2
    grep -E 'ERROR|SUMMARY|invariant|runtime error|==[0-9]+==' "$out/logs/$t.log" | head -20 >&2 || true
    tail -n 30 "$out/logs/$t.log" >&2
    failed+=("$t")
  fi
}
for t in "${targets[@]}"; do
  [ -x "$out/tests/fuzz/$t" ] || { echo "fuzz.sh: no target $t" >&2; exit 2; }
  [ ${#pids[@]} -lt "$jobs" ] || finish
  run_one "$t" &
  pids+=($!)
  names+=("$t")
done
while [ ${#pids[@]} -gt 0 ]; do finish; done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: failed: ${failed[*]}" >&2
  exit 1
fi
