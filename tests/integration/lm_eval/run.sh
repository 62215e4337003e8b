#!/usr/bin/env bash
# lm-eval (EleutherAI lm-evaluation-harness) against `tokenscope serve`, checked against `tokenscope score`.
#
#   tests/integration/lm_eval/run.sh            # uses build/tokenscope, or $TOKENSCOPE_BIN
#
# 1. a virtualenv with requirements.txt ($LM_EVAL_VENV, default build/venv-lm-eval; needs PyPI the first time)
# 2. `tokenscope export-tokenizer` writes the demo model's tokenizer.json + tokenizer_config.json
# 3. `tokenscope serve` on the demo model (127.0.0.1, a free port read from its first log line)
# 4. lm_eval --model local-completions with tokenizer_backend=huggingface pointing at the exported tokenizer, on the
#    local task tokenscope_demo_mc.yaml (items.jsonl: 20 items x 4 choices = 80 loglikelihood requests, each sent
#    as token ids with echo=true, max_tokens=1, logprobs=1); add_bos_token=True so lm-eval's ids start with BOS as
#    `tokenscope score` texts do
# 5. check.py: every request's loglikelihood equals `tokenscope score` on the same ids within 1e-4
# Output: results/run.log (this script's output), results/comparison.md (the per-request table),
# results/lm_eval_results.json (lm-eval's aggregate file). Offline apart from step 1 (HF_*_OFFLINE set).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
bin=${TOKENSCOPE_BIN:-$repo/build/tokenscope}
model=$repo/models/tokenscope-demo.gguf
venv=${LM_EVAL_VENV:-$repo/build/venv-lm-eval}
results=$here/results
mkdir -p "$results"
exec > >(tee "$results/run.log") 2>&1

run() { echo "+ $*"; "$@"; }

[ -x "$bin" ] || { echo "run.sh: $bin not found: build tokenscope first (or set TOKENSCOPE_BIN)"; exit 2; }
if ! [ -x "$venv/bin/lm_eval" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"
fi
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TQDM_DISABLE=1
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $("$bin" --version); $("$venv/bin/python" --version)"
"$venv/bin/python" -m pip freeze --disable-pip-version-check | grep -iE '^(lm.eval|transformers|tokenizers|datasets)=' |
  sed 's/^/# /'

work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

run "$bin" export-tokenizer -m "$model" -o "$work/tokenizer"

echo "+ $bin serve -m $model --port 0 -t 2 --alias tokenscope-demo &"
"$bin" serve -m "$model" --port 0 -t 2 --alias tokenscope-demo 2>"$work/serve.log" &
server_pid=$!
port=
for _ in $(seq 600); do
  port=$(sed -n 's|.*on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$work/serve.log" | head -n 1)
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { echo "run.sh: the server did not start"; cat "$work/serve.log"; exit 1; }
head -n 1 "$work/serve.log"

cd "$here"  # the task's data_files (items.jsonl) is relative to the working directory
run "$venv/bin/lm_eval" --model local-completions \
  --model_args "model=tokenscope-demo,base_url=http://127.0.0.1:$port/v1/completions,tokenizer_backend=huggingface,tokenizer=$work/tokenizer,add_bos_token=True,max_length=256,num_concurrent=1,max_retries=1" \
  --tasks tokenscope_demo_mc --include_path "$here" --log_samples --output_path "$work/out"

echo "# server request log: $(grep -c '^POST /v1/completions 200' "$work/serve.log") x 'POST /v1/completions 200', $(grep -c '^POST' "$work/serve.log") POST in all"
samples=$(ls "$work"/out/*/samples_tokenscope_demo_mc_*.jsonl)
cp "$(ls "$work"/out/*/results_*.json)" "$results/lm_eval_results.json"
run "$venv/bin/python" "$here/check.py" --cli "$bin" --model "$model" --samples "$samples" \
  --tokenizer "$work/tokenizer" --table "$results/comparison.md"
