#!/usr/bin/env python3
"""Interleaved speed comparison: `tokenscope bench` against llama.cpp's `llama-bench` (and ik_llama.cpp's, or any
other build of it) on the same GGUF files and threads.

On a shared machine the memory bandwidth moves with the neighbours within minutes, so one run per engine says little
about generation. This runs ROUNDS rounds; in each round every engine measures once (one repetition of pp and of tg),
one after the other, and the medians per engine over the rounds are compared. Only the caller's builds are run: the
llama.cpp binaries are references for the comparison, never part of tokenscope.

  python3 bench/vs_llama.py -m a.gguf [-m b.gguf] --llama /path/llama-bench [--ik /path/to/ik/llama-bench] \
      [--tokenscope build/tokenscope] [-p 512] [-n 64] [-t 2] [--rounds 5] [--ts-args "--fast"]

Prints one line per round and engine (tokenscope's tg line adds the plain read of the weights that `bench` makes
right after it: the memory bandwidth of that round), then a table of medians with the ratio to the faster anchor.
-p 0 or -n 0 skips that part.
"""
import argparse
import csv
import os
import re
import shlex
import statistics
import subprocess
import sys


def run(cmd):
    try:
        r = subprocess.run(cmd, capture_output=True, text=True)
    except OSError as e:
        sys.exit(f"vs_llama: cannot run {cmd[0]}: {e.strerror}")
    if r.returncode != 0:
        sys.exit(f"vs_llama: {shlex.join(cmd)} failed with exit code {r.returncode}: {r.stderr.strip()[-400:]}")
    return r.stdout


def tokenscope(binary, model, test, count, threads, extra):
    """tokens/s, and for tg the plain read of the weights that bench measures right after (GB/s), else None."""
    p, n = (count, 0) if test == "pp" else (0, count)
    out = run([binary, "bench", "-m", model, "-p", str(p), "-n", str(n), "-r", "1", "-t", str(threads),
               "--format", "json", *extra])
    last = out.strip().splitlines()[-1]
    m = re.search(r'"%s"\s*:\s*([0-9.eE+-]+)' % ("prompt_tokens_per_s" if test == "pp" else "gen_tokens_per_s"), last)
    if not m:
        sys.exit(f"vs_llama: no {test} figure in tokenscope's output: {out[-400:]}")
    read = re.search(r'"read_gb_per_s"\s*:\s*([0-9.eE+-]+)', last) if test == "tg" else None
    return float(m.group(1)), (float(read.group(1)) if read else None)


def llama_bench(binary, model, test, count, threads):
    p, n = (count, 0) if test == "pp" else (0, count)
    out = run([binary, "-m", model, "-p", str(p), "-n", str(n), "-t", str(threads), "-r", "1", "-o", "csv"])
    rows = list(csv.reader(l for l in out.splitlines() if l.strip()))
    header = next((r for r in rows if "avg_ts" in r), None)
    if header is None or rows[-1] is header:
        sys.exit(f"vs_llama: no result in {binary}'s CSV output: {out[-400:]}")
    return float(rows[-1][header.index("avg_ts")])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-m", "--model", action="append", required=True, help="GGUF file (repeatable)")
    ap.add_argument("--tokenscope", default="build/tokenscope", help="tokenscope binary")
    ap.add_argument("--llama", required=True, help="llama.cpp's llama-bench")
    ap.add_argument("--ik", help="a second llama-bench build (ik_llama.cpp)")
    ap.add_argument("-p", type=int, default=512, help="prompt positions (0: skip)")
    ap.add_argument("-n", type=int, default=64, help="generated tokens (0: skip)")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--ts-args", default="", help="extra tokenscope bench arguments, e.g. \"--fast\"")
    a = ap.parse_args()
    if a.rounds < 1 or a.threads < 1 or a.p < 0 or a.n < 0:
        ap.error("--rounds and --threads must be >= 1, -p and -n >= 0")
    for path in a.model:
        if not os.path.isfile(path):
            ap.error(f"-m {path}: no such file")
    for flag, path in (("--tokenscope", a.tokenscope), ("--llama", a.llama), ("--ik", a.ik)):
        if path is not None and not os.access(path, os.X_OK):
            ap.error(f"{flag} {path}: not an executable file")
    engines = [("tokenscope", None), ("llama.cpp", a.llama)] + ([("ik_llama.cpp", a.ik)] if a.ik else [])
    tests = [(t, c) for t, c in (("pp", a.p), ("tg", a.n)) if c > 0]
    for model in a.model:
        got = {(e, t): [] for e, _ in engines for t, _ in tests}
        for r in range(1, a.rounds + 1):
            for test, count in tests:
                for name, binary in engines:
                    read = None
                    if binary is None:
                        v, read = tokenscope(a.tokenscope, model, test, count, a.threads, shlex.split(a.ts_args))
                    else:
                        v = llama_bench(binary, model, test, count, a.threads)
                    got[(name, test)].append(v)
                    # the read says which state the machine's memory was in for this round
                    note = f" (a read of its weights right after: {read:.1f} GB/s)" if read else ""
                    print(f"{model} round {r} {test}{count} {name}: {v:.2f} t/s{note}", flush=True)
        print(f"\n{model}: medians of {a.rounds} interleaved rounds, {a.threads} threads, tokens/s")
        for test, count in tests:
            med = {name: statistics.median(got[(name, test)]) for name, _ in engines}
            best_anchor = max(v for k, v in med.items() if k != "tokenscope")
            cells = "  ".join(f"{k} {v:.2f}" for k, v in med.items())
            print(f"  {test}{count}: {cells}  -> tokenscope / faster anchor = {med['tokenscope'] / best_anchor:.2f}x")


if __name__ == "__main__":
    main()
