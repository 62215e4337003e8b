"""Checks that a converted GGUF is the PyTorch model: same tokens, same log-probabilities.

  /usr/bin/python3 training/check_convert.py --run training/out/cpu --gguf M.gguf [--cli build/tokenscope]

1. Tokenizer: bpe.Encoder (what the model was trained on) and `tokenscope tokenize --no-special` give the same ids
   on every held-out document and on the first --train-bytes of training text (one joined file each).
2. Forward: for held-out texts of up to n_ctx tokens (BOS + text), PyTorch's log_softmax at each position and
   `tokenscope score` agree; prints the mean and max |Δ logprob| and fails when the mean exceeds --tol.
   With F32 or F16 weights the difference is fp32 rounding (~1e-5) or F16 rounding; a quantized type adds its
   quantization error, which is what this reports for it.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bpe  # noqa: E402
from model import Config, Llama  # noqa: E402


def cli_ids(cli, gguf, text):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write(text)
    try:
        out = subprocess.run([cli, "tokenize", "-m", gguf, "-f", f.name, "--no-special"], capture_output=True,
                             text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    return [int(x) for x in out.split()]


def cli_logprobs(cli, gguf, text):
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", suffix=".txt", delete=False) as f:
        f.write(text)
    try:
        out = subprocess.run([cli, "score", "-m", gguf, "-f", f.name, "--top", "0"], capture_output=True,
                             text=True, check=True).stdout
    finally:
        os.unlink(f.name)
    rows = [json.loads(line) for line in out.splitlines()]
    return [(r["id"], r["logprob"]) for r in rows if "summary" not in r]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True, help="training output dir (model.pt, tokenizer.json)")
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--corpus", default="training/out/corpus")
    ap.add_argument("--cli", default="build/tokenscope")
    ap.add_argument("--docs", type=int, default=12, help="held-out documents to compare log-probabilities on")
    ap.add_argument("--train-bytes", type=int, default=2_000_000)
    ap.add_argument("--tol", type=float, default=1e-3, help="largest mean |Δ logprob| accepted")
    args = ap.parse_args()
    torch.set_num_threads(2)

    tokens, _, merges = bpe.load(os.path.join(args.run, "tokenizer.json"))
    enc = bpe.Encoder(tokens, merges)
    held = [json.loads(x)["text"] for x in open(os.path.join(args.corpus, "heldout.jsonl"), encoding="utf-8")]
    train = []
    with open(os.path.join(args.corpus, "train.jsonl"), encoding="utf-8") as f:
        size = 0
        for line in f:
            train.append(json.loads(line)["text"])
            size += len(train[-1])
            if size >= args.train_bytes:
                break
    for name, docs in [("held-out", held), ("train", train)]:
        text = "\n\n".join(docs)
        py, cc = enc.encode(text), cli_ids(args.cli, args.gguf, text)
        if py != cc:
            i = next((k for k, (a, b) in enumerate(zip(py, cc)) if a != b), min(len(py), len(cc)))
            sys.exit(f"tokenizer mismatch on {name} text at token {i}: python {py[i:i + 5]} tokenscope {cc[i:i + 5]}")
        print(f"tokenizer: {name} text, {len(text)} chars, {len(py)} tokens: identical")

    ck = torch.load(os.path.join(args.run, "model.pt"))
    c = {k: v for k, v in ck["config"].items() if k != "head_dim"}
    model = Llama(Config(**c))
    model.load_state_dict(ck["state"])
    model.eval()
    n_ctx = model.cfg.n_ctx
    diffs = []
    for doc in held[: args.docs]:
        ids = enc.encode(doc)[: n_ctx - 1]
        text = b"".join(enc.token_bytes(i) for i in ids).decode("utf-8", errors="strict")
        ids = [enc.special] + ids
        with torch.no_grad():
            lp = torch.log_softmax(model(torch.tensor([ids]))[0].double(), -1)
        ref = [float(lp[p - 1, ids[p]]) for p in range(1, len(ids))]
        got = cli_logprobs(args.cli, args.gguf, text)
        if [g[0] for g in got] != ids[1:]:
            sys.exit("score tokenized the text differently from bpe.Encoder")
        diffs += [abs(a - b[1]) for a, b in zip(ref, got)]
    mean = sum(diffs) / len(diffs)
    print(f"logprobs: {len(diffs)} positions in {args.docs} held-out documents: mean |Δ| {mean:.2e}, "
          f"max |Δ| {max(diffs):.2e}  ({os.path.basename(args.gguf)})")
    if mean > args.tol:
        sys.exit(f"mean |Δ logprob| {mean:.2e} exceeds --tol {args.tol:.0e}")


if __name__ == "__main__":
    main()
