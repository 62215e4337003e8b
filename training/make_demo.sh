#!/usr/bin/env bash
# The demo model's recipe, end to end (training/README.md explains each step and the timings).
#
#   bash training/make_demo.sh [cpu|gpu]      (as root on Debian 12; TYPE=Q8_0 by default; STEPS=N overrides the
#                                             config's step count, for a quick run of the whole recipe)
#
# Writes training/out/{corpus,<config>}/ and, for the cpu config, the bundled files in models/:
# tokenscope-demo.gguf, eval.txt, sample.txt. The model card's numbers come from the last lines it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-cpu}
type=${TYPE:-Q8_0}
py=/usr/bin/python3  # Debian's python3-torch lives in the system Python

# torch from Debian; OpenBLAS so that its matrix products are not the reference BLAS (10x slower here)
pkgs=(python3-torch python3-regex python3-numpy libopenblas0-openmp bible-kjv dict-gcide jargon-text fortunes)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target tokenscope

out=training/out/$config
$py training/corpus.py --out training/out/corpus
nice -n 10 $py -u training/train.py --config "$config" --out "$out" ${STEPS:+--steps "$STEPS"}

./build/tokenscope convert "$out/dump" -o "$out/model-F32.gguf" --type F32
./build/tokenscope convert "$out/dump" -o "$out/model-$type.gguf" --type "$type"
$py training/check_convert.py --run "$out" --gguf "$out/model-F32.gguf" --cli build/tokenscope
$py training/check_convert.py --run "$out" --gguf "$out/model-$type.gguf" --cli build/tokenscope --tol 0.05

if [ "$config" = cpu ]; then
  cp "$out/model-$type.gguf" models/tokenscope-demo.gguf
  $py training/make_eval.py --corpus training/out/corpus --out models
  echo "eval perplexity (for models/MODEL_CARD.md):"
  ./build/tokenscope score -m models/tokenscope-demo.gguf -f models/eval.txt --top 0 | tail -n 1
fi
