"""The demo's texts, drawn from the held-out documents only (never trained on):

  models/eval.txt    about --per-source bytes of whole documents from each source (seeded draw), joined by a blank
                     line: the text whose perplexity the model card states and tests/apps/demo_model_test.cpp checks.
  models/sample.txt  the README's first command scores it: the start of a held-out Bible chapter, where the model
                     is mostly sure, then the start of a held-out Jargon File entry, where it is mostly not.
"""
import argparse
import json
import os
import random


def first_lines(text, limit):
    out = []
    for line in text.split("\n"):
        if out and len("\n".join(out + [line])) > limit:
            break
        out.append(line)
    return "\n".join(out).rstrip("\n")


def to_sentence_end(text):
    """text cut after its last full stop, so a sample does not stop mid-sentence."""
    cut = max(text.rfind(". "), text.rfind(".\n"), text.rfind(".") if text.endswith(".") else -1)
    return text[: cut + 1] if cut > 0 else text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="training/out/corpus")
    ap.add_argument("--out", default="models")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--per-source", type=int, default=4000)
    args = ap.parse_args()
    docs = {}
    with open(os.path.join(args.corpus, "heldout.jsonl"), encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            docs.setdefault(d["source"], []).append(d["text"])
    rng = random.Random(args.seed)
    picked = []
    for source in ["kjv", "jargon", "fortunes", "gcide"]:
        pool = list(docs[source])
        rng.shuffle(pool)
        size = 0
        for d in pool:
            if size >= args.per_source:
                break
            if size and size + len(d) > 2 * args.per_source:  # keep one long document from taking the share
                continue
            picked.append(d)
            size += len(d.encode("utf-8"))
    with open(os.path.join(args.out, "eval.txt"), "w", encoding="utf-8") as f:
        f.write("\n\n".join(picked) + "\n")

    # sample: plain prose (no box drawing), a few lines of each
    kjv = next(d for d in docs["kjv"] if d not in picked)
    jargon = next(d for d in docs["jargon"] if d not in picked and "│" not in d and len(d) > 400)
    sample = first_lines(kjv, 420) + "\n\n" + to_sentence_end(first_lines(jargon, 420)) + "\n"
    with open(os.path.join(args.out, "sample.txt"), "w", encoding="utf-8") as f:
        f.write(sample)
    print(f"eval.txt: {len(picked)} documents, {sum(len(p.encode()) for p in picked)} bytes; "
          f"sample.txt: {len(sample.encode())} bytes")


if __name__ == "__main__":
    main()
