#!/usr/bin/env python3
"""HF `tokenizers` tokenizer for a byte-level BPE GGUF with the `smollm` pre-tokenizer, and a 1 MB comparison.

The tokenizer is built from the GGUF's own tokens, merges and special tokens with HF's BPE model and SmolLM2's
published pre-tokenizer chain, Sequence[Digits(individual_digits=True), ByteLevel(add_prefix_space=False,
use_regex=True)] (SmolLM2's tokenizer.json; llama.cpp maps it to its `smollm` pre-type). transformers' own GGUF
tokenizer conversion (4.46) drops the Digits step, so it splits "\n\n1" differently from the model's real tokenizer.

Run as a script: compares `tokenscope tokenize` (default mode: special-token text is parsed, as HF always matches
added tokens; this model adds no BOS) with it on 1 MB of varied text (this repository's code, prose,
generated non-Latin text, whitespace runs, digits) and prints the result.
Usage: python tools/reference/smollm2_tokenizer.py [--model PATH] [--tokenscope build/tokenscope]
"""
import argparse
import os
import random
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def hf_tokenizer_from_gguf(path):
    from gguf import GGUFReader
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    r = GGUFReader(path)

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    tokens = strings("tokenizer.ggml.tokens")
    merges = [tuple(m.split(" ", 1)) for m in strings("tokenizer.ggml.merges")]
    f = r.fields["tokenizer.ggml.token_type"]
    types = [int(f.parts[i][0]) for i in f.data]
    tok = Tokenizer(models.BPE(vocab={t: i for i, t in enumerate(tokens)}, merges=merges, fuse_unk=False,
                               byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True),
    ])
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t, ty in zip(tokens, types) if ty == 3])
    return tok


def varied_text(size):
    rng = random.Random(1234)
    parts = []
    tracked = subprocess.run(["git", "-C", ROOT, "ls-files", "src", "apps", "tests", "training"], check=True,
                             capture_output=True, text=True).stdout.split()
    for fn in sorted(tracked):
        if fn.endswith((".cpp", ".h", ".py", ".sh", ".md")):
            parts.append(open(os.path.join(ROOT, fn), encoding="utf-8", errors="replace").read())
    # a third each: code, English prose, generated text in many scripts with whitespace runs and digits
    parts = ["\n".join(parts)[: size // 3]]
    parts.append(open(os.path.join(ROOT, "models", "eval.txt"), encoding="utf-8").read()[: size // 3])
    scripts = [(0x0400, 0x04FF), (0x0370, 0x03FF), (0x0600, 0x06FF), (0x0900, 0x097F), (0x4E00, 0x9FFF),
               (0x3040, 0x30FF), (0xAC00, 0xD7A3), (0x0E00, 0x0E7F), (0x1F300, 0x1F6FF), (0x00C0, 0x024F)]
    ws = [" ", "  ", "   ", "\t", "\n", "\n\n", " \n", "\r\n", "\u00a0", "\u3000", "\n\n\n    "]
    while sum(len(p.encode()) for p in parts) < size:
        words = []
        for _ in range(200):
            kind = rng.random()
            if kind < 0.55:
                lo, hi = rng.choice(scripts)
                words.append("".join(chr(rng.randint(lo, hi)) for _ in range(rng.randint(1, 8))))
            elif kind < 0.7:
                words.append(str(rng.randint(0, 10 ** rng.randint(1, 12))))
            elif kind < 0.85:
                words.append(rng.choice(["'s", "'ll", "don't", "I'M", "e.g.", "--", "...", "=>", "{}", "#!", "$x"]))
            else:
                words.append(rng.choice(["the", "The", "naïve", "café", "über", "résumé", "Ω", "ǅ"]))
            words.append(rng.choice(ws))
        parts.append("".join(words))
    text = "\n".join(parts).encode()[:size].decode("utf-8", errors="ignore")
    return text


def main():
    ap = argparse.ArgumentParser()
    cache = os.environ.get("TOKENSCOPE_MODELS") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tokenscope")
    ap.add_argument("--model", default=os.path.join(cache, "SmolLM2-135M-Instruct.Q4_1.gguf"))
    ap.add_argument("--tokenscope", default=os.path.join(ROOT, "build", "tokenscope"))
    ap.add_argument("--size", type=int, default=1 << 20)
    args = ap.parse_args()
    tok = hf_tokenizer_from_gguf(args.model)
    ok = True
    # The fixture texts: the 12 held-out reference documents and the tokenizer test-vector inputs of ../shared.
    fixtures = os.path.join(ROOT, "..", "shared", "fixtures")
    if os.path.isdir(fixtures):
        import json
        texts = [d["text"] for d in json.load(open(os.path.join(fixtures, "reference", "tiny-llama-spm.json")))["docs"]]
        for inp in sorted(f for f in os.listdir(os.path.join(fixtures, "tokenizer")) if f.endswith(".inp")):
            raw = open(os.path.join(fixtures, "tokenizer", inp), encoding="utf-8").read()
            texts += [t for t in raw.split("\n__ggml_vocab_test__\n") if t]
        same = 0
        for t in texts:
            path = "/tmp/ts_smollm2_fixture.txt"
            open(path, "w", encoding="utf-8").write(t)
            ts = [int(x) for x in subprocess.run([args.tokenscope, "tokenize", "-m", args.model, "-f", path],
                                                 check=True, capture_output=True, text=True).stdout.split()]
            if ts == tok.encode(t, add_special_tokens=False).ids:
                same += 1
            else:
                print("  differs:", repr(t[:60]))
        ok = same == len(texts)
        print(f"fixture texts (12 reference documents + tokenizer test inputs): {same}/{len(texts)} identical")
    text = varied_text(args.size)
    path = "/tmp/ts_smollm2_varied.txt"
    open(path, "w", encoding="utf-8").write(text)
    # Whole text as one document, then each line as its own document (many different starts).
    hf = tok.encode(text, add_special_tokens=False).ids
    ts = [int(x) for x in subprocess.run([args.tokenscope, "tokenize", "-m", args.model, "-f", path],
                                         check=True, capture_output=True, text=True).stdout.split()]
    same = hf == ts
    print(f"1 MB varied text ({len(text.encode())} bytes, {len(hf)} HF tokens): "
          f"{'identical' if same else 'DIFFERENT'}")
    if not same:
        k = next((j for j in range(min(len(hf), len(ts))) if hf[j] != ts[j]), min(len(hf), len(ts)))
        print(f"  first difference at token {k}: hf {hf[k:k+8]} tokenscope {ts[k:k+8]}")
        print("  text:", repr(tok.decode(hf[max(0, k - 5):k + 8])))
    return 0 if same and ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
