#!/usr/bin/env python3
"""Golden reference for the real model: SmolLM2-135M-Instruct (Q4_1 GGUF) through HF transformers vs tokenscope.

An independent implementation reads the same file: transformers' GGUF loader dequantizes every tensor (gguf-py) and
runs its own Llama forward in fp32; HF `tokenizers` tokenizes with a tokenizer built from the GGUF's vocabulary and
merges and SmolLM2's published pre-tokenizer (Sequence[Digits(individual_digits), ByteLevel(use_regex)], as in its
tokenizer.json and llama.cpp's `smollm` pre-type). This script

  1. builds 12 texts (8 paragraphs of the demo model's held-out models/eval.txt, 4 written here: code, numbers,
     several scripts, a chat-formatted exchange),
  2. checks `tokenscope tokenize` == HF tokenizers on them,
  3. computes per-token logprob and entropy with transformers (fp32 forward, log-softmax in float64),
  4. runs `tokenscope score` on the same ids and reports mean/max |Δ|,
  5. writes tests/data/smollm2_reference.json, which tests/runtime/smollm2_golden_test.cpp checks in CI when the
     model is installed.

Not run by CI (needs torch, transformers, tokenizers, gguf: tools/reference/requirements.txt).
Usage: python tools/reference/smollm2_transformers.py [--model PATH] [--tokenscope build/tokenscope]
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
from smollm2_tokenizer import hf_tokenizer_from_gguf  # noqa: E402

EXTRA_TEXTS = [
    "def fibonacci(n: int) -> list[int]:\n    \"\"\"Return the first n Fibonacci numbers.\"\"\"\n    seq = [0, 1]\n"
    "    while len(seq) < n:\n        seq.append(seq[-1] + seq[-2])\n    return seq[:n]\n\n\nif __name__ == "
    "\"__main__\":\n    print(fibonacci(10))  # [0, 1, 1, 2, 3, 5, 8, 13, 21, 34]\n",
    "On 14 March 2024 the index closed at 5,117.09, up 0.3%; volume was 3.86 billion shares. Between 1990 and 2023 "
    "the population grew from 5,300,000 to 8,045,311 (about 51.8 percent), i.e. 1.27% per year.",
    "Paris est la capitale de la France. Berlin ist die Hauptstadt Deutschlands. Москва — столица России. "
    "東京は日本の首都です。北京是中国的首都。 Αθήνα είναι η πρωτεύουσα της Ελλάδας. 🙂👍",
    "<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n"
    "The capital of France is Paris.<|im_end|>\n",
]


def texts():
    paras = [p.strip() for p in open(os.path.join(ROOT, "models", "eval.txt"), encoding="utf-8").read().split("\n\n")]
    paras = [p for p in paras if len(p) >= 300]
    step = max(1, len(paras) // 8)
    picked = [p[:700] for p in paras[::step][:8]]
    return picked + EXTRA_TEXTS


def tokenscope_ids(exe, model, text):
    out = subprocess.run([exe, "tokenize", "-m", model, "-p", text], check=True,
                         capture_output=True, text=True).stdout
    return [int(x) for x in out.split()]


def tokenscope_score(exe, model, docs):
    inp = "".join(json.dumps({"ids": ids}) + "\n" for ids in docs)
    path = os.path.join("/tmp", "ts_smollm2_ids.jsonl")
    open(path, "w").write(inp)
    out = subprocess.run([exe, "score", "-m", model, "--jsonl", path, "--top", "0"], check=True, capture_output=True,
                         text=True).stdout
    lp = [[] for _ in docs]
    ent = [[] for _ in docs]
    for line in out.splitlines():
        r = json.loads(line)
        if "summary" in r:
            continue
        lp[r["doc"]].append(r["logprob"])
        ent[r["doc"]].append(r["entropy"])
    return lp, ent


def main():
    ap = argparse.ArgumentParser()
    cache = os.environ.get("TOKENSCOPE_MODELS") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tokenscope")
    ap.add_argument("--model", default=os.path.join(cache, "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--tokenscope", default=os.path.join(ROOT, "build", "tokenscope"))
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "data", "smollm2_reference.json"))
    args = ap.parse_args()

    from transformers import AutoModelForCausalLM
    import transformers

    sha = hashlib.sha256(open(args.model, "rb").read()).hexdigest()
    tok = hf_tokenizer_from_gguf(args.model)
    docs = texts()
    ids_hf = [tok.encode(t, add_special_tokens=False).ids for t in docs]
    ids_ts = [tokenscope_ids(args.tokenscope, args.model, t) for t in docs]
    tok_equal = sum(a == b for a, b in zip(ids_hf, ids_ts))
    print(f"tokenizer: {tok_equal}/{len(docs)} texts tokenize identically (HF tokenizers {tokenizers_version()})")
    for i, (a, b) in enumerate(zip(ids_hf, ids_ts)):
        if a != b:
            k = next((j for j in range(min(len(a), len(b))) if a[j] != b[j]), min(len(a), len(b)))
            print(f"  text {i}: first difference at token {k}: hf {a[k:k+5]} tokenscope {b[k:k+5]}")

    d, f = os.path.split(args.model)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=f, torch_dtype=torch.float32)
    # transformers 4.46's GGUF loader does not tie the output to token_embd when the file has no output.weight
    # (SmolLM2 ties them): tie explicitly, as the file means.
    model.lm_head.weight = model.model.embed_tokens.weight
    model.eval()

    ref = []
    for ids in ids_ts:
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0].double()
        logp = torch.log_softmax(logits, -1)
        p = logp.exp()
        ent = -(p * logp).sum(-1)
        lp = [float(logp[i, ids[i + 1]]) for i in range(len(ids) - 1)]
        ref.append((lp, [float(e) for e in ent[:-1]]))

    ts_lp, ts_ent = tokenscope_score(args.tokenscope, args.model, ids_ts)
    dl = np.concatenate([np.abs(np.array(a) - np.array(r[0])) for a, r in zip(ts_lp, ref)])
    de = np.concatenate([np.abs(np.array(a) - np.array(r[1])) for a, r in zip(ts_ent, ref)])
    n_tok = sum(len(x) for x in ids_ts)
    print(f"model {f} sha256 {sha}")
    print(f"transformers {transformers.__version__}, torch {torch.__version__}; {len(docs)} texts, {n_tok} tokens, "
          f"{len(dl)} predicted positions")
    print(f"logprob  |tokenscope - transformers|: mean {dl.mean():.6f}  max {dl.max():.6f}")
    print(f"entropy  |tokenscope - transformers|: mean {de.mean():.6f}  max {de.max():.6f}")

    out = {
        "model": f, "sha256": sha,
        "source": f"HF transformers {transformers.__version__} fp32 forward of the dequantized GGUF "
                  f"(tools/reference/smollm2_transformers.py)",
        "docs": [{"text": t, "ids": ids, "logprob": [round(x, 6) for x in r[0]], "entropy": [round(x, 6) for x in r[1]]}
                 for t, ids, r in zip(docs, ids_ts, ref)],
    }
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(out, fh, ensure_ascii=False, separators=(",", ":"))
        fh.write("\n")
    print(f"wrote {os.path.relpath(args.out, ROOT)}")


def tokenizers_version():
    import tokenizers
    return tokenizers.__version__


if __name__ == "__main__":
    main()
