#!/usr/bin/env python3
"""Membership inference on the demo model: documents it was trained on vs documents it never saw (issue 6).

Non-members: N documents drawn (seeded) from the held-out corpus (training/out/corpus/heldout.jsonl). Members: for
each, a document of the training corpus (training/out/corpus/train.jsonl) from the same source (Bible, GCIDE,
fortunes, Jargon File) with the nearest length in bytes, drawn without replacement — so neither the source mix nor
the length can tell the classes apart. Both corpora are git-ignored; training/corpus.py remakes them.

DC-PDD's reference frequencies come from `tokenscope freq` over the rest of the training corpus (every training
document except the N members): a public corpus of the same kind of text, as the paper counts C4 for models trained
on the web. Then `tokenscope mia --method all --ref-freq` and `tokenscope eval` (label 1 = member). Documents longer
than the model's 256-token context are scored with the sliding window of `score`.

Outputs in --out (default experiments/membership/): scores.jsonl (with each document's corpus and line, no text),
eval.jsonl, eval.txt (table), per_source.txt; the documents and the table in work/ (not committed).
"""
import argparse
import bisect
import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        sys.exit("failed (%d): %s\n%s" % (r.returncode, " ".join(cmd), r.stderr.decode(errors="replace")))
    return r.stdout.decode("utf-8", errors="replace")


def load(path):
    if not os.path.exists(path):
        sys.exit("%s missing: run `python3 training/corpus.py` (see training/README.md)" % path)
    return [json.loads(l) for l in open(path, encoding="utf-8")]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tokenscope", default=os.environ.get("TOKENSCOPE", os.path.join(ROOT, "build", "tokenscope")))
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "tokenscope-demo.gguf"))
    ap.add_argument("--corpus", default=os.path.join(ROOT, "training", "out", "corpus"))
    ap.add_argument("--out", default=os.path.join(HERE, "membership"))
    ap.add_argument("-n", type=int, default=200, help="documents per class")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", default="2")
    args = ap.parse_args()
    ts, model = args.tokenscope, args.model
    heldout = load(os.path.join(args.corpus, "heldout.jsonl"))
    train = load(os.path.join(args.corpus, "train.jsonl"))
    work = os.path.join(args.out, "work")
    os.makedirs(work, exist_ok=True)

    rng = random.Random(args.seed)
    non_members = rng.sample(range(len(heldout)), args.n)
    # per source, the training documents sorted by length (random order among equal lengths)
    pool = {}
    order = list(range(len(train)))
    rng.shuffle(order)
    for i in order:
        pool.setdefault(train[i]["source"], []).append((len(train[i]["text"].encode("utf-8")), i))
    for v in pool.values():
        v.sort(key=lambda x: x[0])
    members = []
    for h in non_members:
        cands = pool[heldout[h]["source"]]
        n = len(heldout[h]["text"].encode("utf-8"))
        k = bisect.bisect_left(cands, (n, -1))
        best = min((j for j in (k - 1, k) if 0 <= j < len(cands)), key=lambda j: abs(cands[j][0] - n))
        members.append(cands.pop(best)[1])

    docs_path = os.path.join(work, "docs.jsonl")
    with open(docs_path, "w", encoding="utf-8") as f:
        for pair, (m, h) in enumerate(zip(members, non_members)):
            f.write(json.dumps({"text": train[m]["text"], "label": 1, "pair": pair, "source": train[m]["source"],
                                "corpus": "train", "line": m + 1}) + "\n")
            f.write(json.dumps({"text": heldout[h]["text"], "label": 0, "pair": pair, "source": heldout[h]["source"],
                                "corpus": "heldout", "line": h + 1}) + "\n")
    ref_path = os.path.join(work, "reference.jsonl")
    chosen = set(members)
    with open(ref_path, "w", encoding="utf-8") as f:
        for i, d in enumerate(train):
            if i not in chosen:
                f.write(json.dumps({"text": d["text"]}) + "\n")
    freq_path = os.path.join(work, "freq.bin")
    run([ts, "freq", "-m", model, "--jsonl", ref_path, "-o", freq_path, "-t", args.threads])
    scores = run([ts, "mia", "-m", model, "--jsonl", docs_path, "--ref-freq", freq_path, "--method", "all",
                  "-t", args.threads])
    scores_path = os.path.join(args.out, "scores.jsonl")
    with open(scores_path, "w", encoding="utf-8") as f:
        f.write(scores)
    exclude = ["--exclude", "doc,pair,line"]
    evaluation = run([ts, "eval", scores_path, "--label-field", "label"] + exclude)
    table = run([ts, "eval", scores_path, "--label-field", "label", "--format", "table"] + exclude)
    with open(os.path.join(args.out, "eval.jsonl"), "w", encoding="utf-8") as f:
        f.write(evaluation)
    with open(os.path.join(args.out, "eval.txt"), "w", encoding="utf-8") as f:
        f.write(table)
    # AUROC per source (fewer documents each: read with care)
    rows = [json.loads(l) for l in scores.splitlines()]
    per_source = []
    for src in sorted({r["source"] for r in rows}):
        path = os.path.join(work, "scores_%s.jsonl" % src)
        with open(path, "w", encoding="utf-8") as f:
            for r in rows:
                if r["source"] == src:
                    f.write(json.dumps(r) + "\n")
        n = sum(r["source"] == src for r in rows) // 2
        per_source.append("== %s (%d members, %d non-members)\n" % (src, n, n) +
                          run([ts, "eval", path, "--label-field", "label", "--format", "table", "--resamples", "200"]
                              + exclude))
    with open(os.path.join(args.out, "per_source.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(per_source))
    tokens = sorted(r["tokens"] for r in rows)
    print("%d members, %d non-members, %d-%d tokens per document (median %d)"
          % (args.n, args.n, tokens[0], tokens[-1], tokens[len(tokens) // 2]))
    print(table, end="")


if __name__ == "__main__":
    main()
