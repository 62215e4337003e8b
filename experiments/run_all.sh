#!/usr/bin/env bash
# Reruns every experiment of experiments/README.md and rewrites its outputs. Needs the built CLI (build/tokenscope, or
# TOKENSCOPE=path) and the demo model's corpus (training/out/corpus/, made by `python3 training/corpus.py`).
# About three minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export TOKENSCOPE="${TOKENSCOPE:-build/tokenscope}"
python3 experiments/self_detection.py --samplers "temp=1;dist" --out experiments/self_detection/temp1
python3 experiments/self_detection.py --samplers "top_p=0.96;temp=1;dist" --out experiments/self_detection/top_p_0.96
python3 experiments/self_detection.py --samplers "top_k=40;temp=1;dist" --out experiments/self_detection/top_k_40
python3 experiments/membership.py --out experiments/membership
