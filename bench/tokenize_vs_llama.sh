#!/usr/bin/env bash
# Tokenizer throughput: `tokenscope tokenize` vs llama.cpp's `llama-tokenize` on the same vocabulary and text
# (a benchmark, not a test). Runs each tool 3 times, interleaved, on a tiny input (start-up) and on TEXT, checks the
# ids are identical, prints MB/s of (TEXT seconds - start-up seconds).
#
#   bench/tokenize_vs_llama.sh VOCAB.gguf TEXT [TOKENSCOPE] [LLAMA_TOKENIZE]
#
# llama-tokenize runs with --no-escape (else it rewrites "\\" in the text before tokenizing) and --ids.
set -euo pipefail
vocab=$1 text=$2
ts=${3:-build/tokenscope} lt=${4:-llama-tokenize}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
printf 'hi' > "$tmp/tiny.txt"
bytes=$(stat -c %s "$text")
now() { date +%s.%N; }
declare -A best
for r in 1 2 3; do
  for tool in tokenscope llama; do
    for f in "$tmp/tiny.txt" "$text"; do
      if [ $tool = tokenscope ]; then cmd=("$ts" tokenize -m "$vocab" -f "$f" --format ids)
      else cmd=("$lt" -m "$vocab" -f "$f" --ids --no-escape --log-disable); fi
      s=$(now); "${cmd[@]}" > "$tmp/$tool.$(basename "$f").out" 2>/dev/null; e=$(now)
      t=$(echo "$e - $s" | bc)
      key=$tool.$(basename "$f")
      if [ -z "${best[$key]:-}" ] || [ "$(echo "$t < ${best[$key]}" | bc)" = 1 ]; then best[$key]=$t; fi
      echo "run $r $tool $(basename "$f"): $t s (load $(cut -d' ' -f1 /proc/loadavg))"
    done
  done
done
python3 - "$tmp/llama.$(basename "$text").out" "$tmp/tokenscope.$(basename "$text").out" <<'PY'
import sys
a = open(sys.argv[1]).read().strip().strip("[]").split(", ")
b = open(sys.argv[2]).read().split()
print(f"ids identical: {a == b} ({len(a)} vs {len(b)} tokens)")
PY
for tool in tokenscope llama; do
  t=$(echo "${best[$tool.$(basename "$text")]} - ${best[$tool.tiny.txt]}" | bc)
  echo "$tool: best $(echo "scale=2; $bytes / 1000000 / $t" | bc) MB/s (text ${best[$tool.$(basename "$text")]} s, start-up ${best[$tool.tiny.txt]} s)"
done
