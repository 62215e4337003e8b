#!/usr/bin/env python3
"""Documents/s of corpus scoring: one Python process, and tokenscope.ray with 1 and 2 actors (a benchmark, not a test).

    pip install .[ray]
    python3 bench/ray_score.py [--model PATH] [--docs 400] [--bytes 600] [--reps 2]

The corpus is --docs pieces of --bytes bytes cut from models/eval.txt (the demo model's held-out text). Every
configuration scores the same documents with one engine thread per model; the Ray runs use a local cluster with as
many CPUs as actors and count the whole Dataset materialisation (scheduling, serialisation, result rows), not the
actors' start-up, which is measured separately (first run minus later runs is the start-up of the pool).
Each Ray run's summary columns are checked against the single-process numbers (exactly equal).
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import tokenscope as ts

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def corpus(n, size):
    text = open(os.path.join(ROOT, "models", "eval.txt"), encoding="utf-8").read()
    step = max(1, (len(text) - size) // n)
    return [{"doc": i, "text": text[i * step:i * step + size]} for i in range(n)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "tokenscope-demo.gguf"))
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--bytes", type=int, default=600)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=20)
    a = ap.parse_args()
    rows = corpus(a.docs, a.bytes)
    texts = [r["text"] for r in rows]

    m = ts.Model(a.model, threads=1)
    times = []
    for _ in range(a.reps):
        t = time.perf_counter()
        single = m.score(texts)
        times.append(time.perf_counter() - t)
    tokens = sum(int(r.summary["tokens"]) for r in single)
    best = min(times)
    print(f"{a.docs} documents, {tokens} tokens, model {os.path.basename(a.model)}, load {os.getloadavg()[0]:.2f}")
    print(f"one process, 1 thread: {a.docs / best:.1f} docs/s ({tokens / best:.0f} tokens/s), runs "
          + ", ".join(f"{t:.2f}s" for t in times))

    import ray
    import tokenscope.ray

    for actors in (1, 2):
        ray.init(num_cpus=actors, include_dashboard=False, log_to_driver=False, configure_logging=False)
        try:
            ctx = ray.data.DataContext.get_current()
            ctx.enable_progress_bars = False
            runs = []
            for _ in range(a.reps + 1):
                ds = ray.data.from_items(rows)
                t = time.perf_counter()
                out = tokenscope.ray.score(ds, a.model, actors=actors, batch_size=a.batch_size).take_all()
                runs.append(time.perf_counter() - t)
                got = {r["doc"]: r for r in out}
                assert len(got) == a.docs
                for i, r in enumerate(single):
                    for k in ("tokens", "nll", "ppl", "bits_per_byte"):
                        assert got[i][k] == r.summary[k], (i, k, got[i][k], r.summary[k])
            steady = min(runs[1:])
            print(f"ray, {actors} actor(s): {a.docs / steady:.1f} docs/s ({tokens / steady:.0f} tokens/s); "
                  f"first run (with pool start-up) {runs[0]:.1f}s, then " + ", ".join(f"{t:.2f}s" for t in runs[1:])
                  + "; numbers equal to the single process")
        finally:
            ray.shutdown()


if __name__ == "__main__":
    main()
