"""Checks lm-eval's per-request log-likelihoods (from the server) against `tokenscope score` on the same token ids.

For every request lm-eval logged (--log_samples: each sample's `arguments` are (context, continuation) pairs and
`resps` their (loglikelihood, is_greedy)), this rebuilds the ids lm-eval sent, the way lm-eval 0.4.13 does
(TemplateLM._encode_pair): trailing spaces of the context move to the continuation; whole = encode(context +
continuation), context_ids = encode(context), continuation_ids = whole[len(context_ids):]. encode is
`tokenscope tokenize` (BOS added as the GGUF says, special-token text parsed), which equals the exported
tokenizer.json under HF's encode(add_special_tokens=True), what lm-eval calls with add_bos_token=True.
Then `tokenscope score --jsonl` on {"ids": whole} (ids scored as given) gives each token's logprob given the ids
before it; the continuation's loglikelihood is the sum over its tokens, and is_greedy is "every continuation token
has rank 1". Asserts |lm-eval - tokenscope| <= 1e-4 for every request and equal is_greedy; writes a table.
With --tokenizer DIR it also asserts that transformers' AutoTokenizer on the exported DIR (what lm-eval loaded) gives
the same context and whole ids as `tokenscope tokenize`.

    python check.py --cli build/tokenscope --model models/tokenscope-demo.gguf --samples SAMPLES.jsonl \
        --table results/comparison.md
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

TOLERANCE = 1e-4


def tokenize(cli: str, model: str, text: str, cache: dict) -> list[int]:
    if text not in cache:
        r = subprocess.run([cli, "tokenize", "-m", model, "-f", "-"], input=text.encode(), capture_output=True,
                           check=True)
        cache[text] = [int(x) for x in r.stdout.decode().split()]
    return cache[text]


def encode_pair(cli: str, model: str, context: str, continuation: str, cache: dict):
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = tokenize(cli, model, context + continuation, cache)
    ctx = tokenize(cli, model, context, cache)
    return whole, len(ctx)


def encode_pair_hf(hf, context: str, continuation: str):
    n_spaces = len(context) - len(context.rstrip())
    if n_spaces > 0:
        continuation = context[-n_spaces:] + continuation
        context = context[:-n_spaces]
    whole = hf(context + continuation, add_special_tokens=True).input_ids
    return whole, len(hf(context, add_special_tokens=True).input_ids)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--samples", required=True, help="lm-eval's samples_<task>_<time>.jsonl")
    ap.add_argument("--table", required=True, help="markdown table to write")
    ap.add_argument("--tokenizer", help="the exported tokenizer directory lm-eval used (checks its ids too)")
    ap.add_argument("--max-length", type=int, default=256, help="lm-eval's max_length model arg")
    a = ap.parse_args()

    hf = None
    if a.tokenizer:
        from transformers import AutoTokenizer
        hf = AutoTokenizer.from_pretrained(a.tokenizer)

    requests = []  # (doc_id, choice, is_label, whole, ctxlen, lm_eval_ll, lm_eval_greedy)
    for line in Path(a.samples).read_text(encoding="utf-8").splitlines():
        s = json.loads(line)
        label = int(s["target"])
        cache: dict = {}
        for k, (key, args) in enumerate(sorted(s["arguments"].items(), key=lambda kv: int(kv[0].split("_")[-1]))):
            whole, ctxlen = encode_pair(a.cli, a.model, args["arg_0"], args["arg_1"], cache)
            if hf is not None:
                hf_whole, hf_ctxlen = encode_pair_hf(hf, args["arg_0"], args["arg_1"])
                assert (hf_whole, hf_ctxlen) == (whole, ctxlen), f"doc {s['doc_id']} choice {k}: HF ids differ"
            # lm-eval left-truncates to max_length - 1 tokens (one is kept for the generated token)
            assert len(whole) <= a.max_length - 1, f"doc {s['doc_id']}: {len(whole)} tokens, truncated by lm-eval"
            ll, greedy = s["resps"][k][0]
            requests.append((s["doc_id"], k, k == label, whole, ctxlen, float(ll), greedy in (True, "True")))

    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for i, r in enumerate(requests):
            f.write(json.dumps({"ids": r[3], "request": i}) + "\n")
        jsonl = f.name
    out = subprocess.run([a.cli, "score", "-m", a.model, "--jsonl", jsonl, "--top", "0", "-t", "2"],
                         capture_output=True, check=True)
    Path(jsonl).unlink()
    per_doc: dict[int, list] = {}
    for line in out.stdout.decode().splitlines():
        rec = json.loads(line)
        if "summary" not in rec:
            per_doc.setdefault(rec["doc"], []).append(rec)

    rows, worst, failures = [], 0.0, 0
    for i, (doc, k, is_label, whole, ctxlen, ll, greedy) in enumerate(requests):
        toks = [t for t in per_doc.get(i, []) if t["pos"] >= ctxlen]
        assert [t["id"] for t in toks] == whole[ctxlen:], f"request {i}: score's tokens are not the continuation's"
        ours = sum(t["logprob"] for t in toks)
        ours_greedy = all(t["rank"] == 1 for t in toks)
        delta = ll - ours
        worst = max(worst, abs(delta))
        ok = abs(delta) <= TOLERANCE and greedy == ours_greedy
        failures += not ok
        rows.append(f"| {doc} | {k}{' *' if is_label else ''} | {ctxlen} | {len(whole) - ctxlen} | {ll:.6f} | "
                    f"{ours:.6f} | {delta:+.1e} | {greedy} / {ours_greedy} | {'ok' if ok else 'FAIL'} |")

    summary = (f"{len(requests)} loglikelihood requests ({len(set(r[0] for r in requests))} items): "
               f"max |lm-eval - tokenscope score| = {worst:.2e} (tolerance {TOLERANCE:g}); "
               f"{failures} failing")
    table = ["# lm-eval (local-completions against `tokenscope serve`) vs `tokenscope score`", "",
             summary, "",
             "ctx / cont: tokens of context (BOS included) and continuation; `*` marks the correct choice; "
             "greedy: lm-eval / tokenscope (every continuation token ranked 1).", "",
             "| doc | choice | ctx | cont | lm-eval loglikelihood | tokenscope score | Δ | greedy | |",
             "|---:|---:|---:|---:|---:|---:|---:|---|---|", *rows]
    Path(a.table).write_text("\n".join(table) + "\n", encoding="utf-8")
    print(summary)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
