"""Benchmarks of the Python bindings against the CLI (numbers, not tests).

1. score of N predicted tokens: the CLI process (`tokenscope score --jsonl`, load + score + JSON) against Python
   (Model load + score), interleaved, medians; and score alone (CLI: its time minus a 2-token run's, i.e. minus
   start-up and load; Python: score() on a loaded model).
2. documents/s of two Python threads, each scoring with one engine thread (Model(threads=1)), against one thread.

    python python/bench/bench_python.py --model ~/.cache/tokenscope/SmolLM2-135M-Instruct.Q4_1.gguf --cli build/tokenscope
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import tokenscope as ts

REPO = Path(__file__).resolve().parents[2]


def corpus_ids(m: ts.Model) -> list[int]:
    text = (REPO / "models" / "eval.txt").read_text()
    return m.tokenizer.encode(text, parse_special=False).tolist()


def cli_seconds(cli: str, model: str, ids: list[int], threads: int) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        f.write(json.dumps({"ids": ids}) + "\n")
    try:
        t0 = time.perf_counter()
        subprocess.run([cli, "score", "-m", model, "--jsonl", f.name, "-t", str(threads)], check=True,
                       stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0
    finally:
        os.unlink(f.name)


def bench_score(args, ids: list[int]) -> None:
    doc = ids[: args.tokens + 1]  # N predicted tokens
    warm = ts.Model(args.model, threads=args.threads)
    warm.score([doc])
    cli_full, cli_load, py_full, py_score = [], [], [], []
    for _ in range(args.reps):
        cli_full.append(cli_seconds(args.cli, args.model, doc, args.threads))
        cli_load.append(cli_seconds(args.cli, args.model, doc[:2], args.threads))
        t0 = time.perf_counter()
        m = ts.Model(args.model, threads=args.threads)
        m.score([doc])
        py_full.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        warm.score([doc])
        py_score.append(time.perf_counter() - t0)
    med = statistics.median
    cli_score = med(cli_full) - med(cli_load)
    print(f"score {args.tokens} tokens, {args.threads} threads, median of {args.reps}:")
    print(f"  CLI process  {med(cli_full):.3f} s   Python load+score {med(py_full):.3f} s   "
          f"ratio {med(py_full) / med(cli_full):.3f}")
    print(f"  CLI score    {cli_score:.3f} s   Python score      {med(py_score):.3f} s   "
          f"ratio {med(py_score) / cli_score:.3f}   (CLI start-up+load {med(cli_load):.3f} s)")


def bench_threads(args, ids: list[int]) -> None:
    L = args.doc_tokens
    docs = [ids[i * L:(i + 1) * L] for i in range(args.docs)]
    m = ts.Model(args.model, threads=1)
    m.score(docs[:1])

    def run(parts: int) -> float:
        def work(k):
            for d in docs[k::parts]:
                m.score([d])
        threads = [threading.Thread(target=work, args=(k,)) for k in range(parts)]
        t0, c0 = time.perf_counter(), time.process_time()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        cpu_per_wall.setdefault(parts, []).append((time.process_time() - c0) / wall)
        return wall

    one, two, cpu_per_wall = [], [], {}
    for _ in range(args.reps):
        one.append(run(1))
        two.append(run(2))
    d1 = len(docs) / statistics.median(one)
    d2 = len(docs) / statistics.median(two)
    print(f"{len(docs)} docs of {L} tokens, Model(threads=1), median of {args.reps}:")
    print(f"  1 Python thread {d1:.2f} docs/s   2 Python threads {d2:.2f} docs/s   speed-up {d2 / d1:.2f}x")
    # with the GIL held during forward passes, 2 threads could never use more than one core (CPU/wall <= 1)
    print(f"  CPU time / wall time: 1 thread {statistics.median(cpu_per_wall[1]):.2f}   "
          f"2 threads {statistics.median(cpu_per_wall[2]):.2f}")


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=str(REPO / "models" / "tokenscope-demo.gguf"))
    p.add_argument("--cli", default=str(REPO / "build" / "tokenscope"))
    p.add_argument("--tokens", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--docs", type=int, default=16)
    p.add_argument("--doc-tokens", type=int, default=128)
    p.add_argument("--only", choices=["score", "threads"])
    args = p.parse_args()
    ids = corpus_ids(ts.Model(args.model, threads=1))
    print(f"model {args.model}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if args.only != "threads":
        bench_score(args, ids)
    if args.only != "score":
        bench_threads(args, ids)


if __name__ == "__main__":
    main()
