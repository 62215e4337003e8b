#!/usr/bin/env python3
"""Self-detection: can the demo model tell its own samples from held-out human text? (issue 6, acceptance)

Human side: N documents drawn (seeded) from the demo model's held-out corpus (training/out/corpus/heldout.jsonl,
never trained on; remake it with training/corpus.py) with at least --prompt-tokens + --min-continuation tokens,
each cut to its first --max-tokens tokens (BOS included) so that it fits the model's 256-token context in one
window. Machine side: for each human document, its first --prompt-tokens tokens as the prompt and a continuation of
the same length as the human remainder, sampled from the demo model at temperature 1:

    tokenscope generate -m MODEL -f PROMPT --samplers "logit_bias,EOS=-inf;temp=1;dist" --seed S -n M --format jsonl

(end-of-text banned so the continuation has exactly the human remainder's length, as the Fast-DetectGPT data
generation does with a minimum length). Both documents of a pair share the prompt tokens; both are scored as the
exact token ids (`{"ids": [...]}`), so tokenization cannot tell them apart and the lengths match pairwise.
Then `tokenscope detect --method all` (the scoring model is the demo model itself: the white-box setting) and
`tokenscope eval` (label 1 = machine). Outputs in --out (default experiments/self_detection/temp1/): scores.jsonl,
eval.jsonl, eval.txt (table), samples.txt (the first pairs as text); the documents in work/ (not committed).
--samplers replaces the chain after the ban (run_all.sh also runs top_p=0.96 and top_k=40, the truncated decodings
the Fast-DetectGPT paper reports beside pure sampling).
"""
import argparse
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd, stdin=None):
    r = subprocess.run(cmd, input=stdin, capture_output=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr.decode(errors="replace")))
    return r.stdout.decode("utf-8", errors="replace")


def tokenize(ts, model, text):
    """[(id, bytes)] of text, BOS included."""
    out = run([ts, "tokenize", "-m", model, "-f", "-", "--format", "jsonl"], stdin=text.encode("utf-8"))
    return [(t["id"], bytes(t["bytes"])) for t in map(json.loads, out.splitlines())]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenscope", default=os.environ.get("TOKENSCOPE", os.path.join(ROOT, "build", "tokenscope")))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "tokenscope-demo.gguf"))
    ap.add_argument("--heldout", default=os.path.join(ROOT, "training", "out", "corpus", "heldout.jsonl"))
    ap.add_argument("--out", default=os.path.join(HERE, "self_detection", "temp1"))
    ap.add_argument("-n", type=int, default=200, help="documents per class")
    ap.add_argument("--prompt-tokens", type=int, default=32)
    ap.add_argument("--min-continuation", type=int, default=32)
    ap.add_argument("--max-tokens", type=int, default=160, help="tokens per document, BOS included")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", default="2")
    ap.add_argument("--samplers", default="temp=1;dist",
                    help="the sampler chain after the end-of-text ban (the issue's protocol: pure sampling at "
                         "temperature 1; the Fast-DetectGPT paper also reports top_p=0.96 and top_k=40)")
    args = ap.parse_args()
    ts, model = args.tokenscope, args.model
    if not os.path.exists(args.heldout):
        sys.exit("%s missing: run `python3 training/corpus.py` (see training/README.md)" % args.heldout)
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)

    info = run([ts, "info", "-m", model])
    eos = int(info.split(" eos ")[1].split(",")[0])
    # models that add no BOS (SmolLM2) have no leading token to skip
    b = 1 if "add_bos yes" in info else 0
    docs = [json.loads(l) for l in open(args.heldout, encoding="utf-8")]
    rng = random.Random(args.seed)
    order = list(range(len(docs)))
    rng.shuffle(order)

    pairs = []
    for idx in order:
        if len(pairs) == args.n:
            break
        toks = tokenize(ts, model, docs[idx]["text"])
        if len(toks) - b < args.prompt_tokens + args.min_continuation:
            continue
        toks = toks[: args.max_tokens]
        pairs.append({"line": idx + 1, "source": docs[idx]["source"], "toks": toks})
    if len(pairs) < args.n:
        sys.exit("only %d held-out documents have %d tokens" % (len(pairs), args.prompt_tokens + args.min_continuation))

    out_docs, samples, retokenized = [], [], 0
    for i, p in enumerate(pairs):
        toks = p["toks"]
        prompt_text = b"".join(x for _, x in toks[b : b + args.prompt_tokens]).decode("utf-8", errors="replace")
        m = len(toks) - b - args.prompt_tokens
        prompt_file = os.path.join(work, "prompt.txt")
        with open(prompt_file, "w", encoding="utf-8") as f:
            f.write(prompt_text)
        # the prompt as generate tokenizes it (BOS included), which is what the continuation is conditioned on
        prompt_ids = [t for t, _ in tokenize(ts, model, prompt_text)]
        retokenized += prompt_ids != [t for t, _ in toks[: b + args.prompt_tokens]]
        seed = args.seed * 100000 + i
        gen = run([ts, "generate", "-m", model, "-f", prompt_file, "-n", str(m), "--seed", str(seed),
                   "--samplers", "logit_bias,%d=-inf;%s" % (eos, args.samplers), "--format", "jsonl", "--top", "0",
                   "-t", args.threads])
        lines = [json.loads(l) for l in gen.splitlines()]
        gen_ids = [t["id"] for t in lines if "id" in t]
        if len(gen_ids) != m:
            sys.exit("pair %d: generated %d tokens, wanted %d" % (i, len(gen_ids), m))
        common = {"pair": i, "source": p["source"], "heldout_line": p["line"]}
        out_docs.append(dict(ids=[t for t, _ in toks], label=0, **common))
        out_docs.append(dict(ids=prompt_ids + gen_ids, label=1, seed=seed, **common))
        if i < 3:
            human = b"".join(x for _, x in toks[b + args.prompt_tokens :]).decode("utf-8", errors="replace")
            machine = "".join(t["text"] for t in lines if "id" in t)
            samples.append("== pair %d (%s, held-out line %d)\n-- prompt\n%s\n-- human\n%s\n-- machine (seed %d)\n%s\n"
                           % (i, p["source"], p["line"], prompt_text, human, seed, machine))
        if sys.stderr.isatty():
            print("\rgenerated %d / %d" % (i + 1, len(pairs)), end="", file=sys.stderr)

    docs_path = os.path.join(work, "docs.jsonl")
    with open(docs_path, "w", encoding="utf-8") as f:
        for d in out_docs:
            f.write(json.dumps(d) + "\n")
    print("samplers: logit_bias,%d=-inf;%s" % (eos, args.samplers))
    scores = run([ts, "detect", "-m", model, "--jsonl", docs_path, "--method", "all", "--terms", "-t", args.threads])
    scores_path = os.path.join(args.out, "scores.jsonl")
    with open(scores_path, "w", encoding="utf-8") as f:
        f.write(scores)
    evaluation = run([ts, "eval", scores_path, "--label-field", "label", "--exclude", "doc,pair,heldout_line,seed"])
    table = run([ts, "eval", scores_path, "--label-field", "label", "--exclude", "doc,pair,heldout_line,seed",
                 "--format", "table"])
    with open(os.path.join(args.out, "eval.jsonl"), "w", encoding="utf-8") as f:
        f.write(evaluation)
    with open(os.path.join(args.out, "eval.txt"), "w", encoding="utf-8") as f:
        f.write(table)
    with open(os.path.join(args.out, "samples.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(samples))
    n_tokens = [len(d["ids"]) - 1 for d in out_docs if d["label"] == 0]
    print("%d pairs, %d-%d scored tokens per document (mean %.1f), %d prompts re-tokenized differently"
          % (len(pairs), min(n_tokens), max(n_tokens), sum(n_tokens) / len(n_tokens), retokenized))
    print(table, end="")


if __name__ == "__main__":
    main()
