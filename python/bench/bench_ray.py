"""Documents/s of tokenscope.ray.score with 1 and 2 actors (one engine thread each) on a local Ray cluster, against
one process (Model.score). Wall time of the whole Dataset run, actor start-up included (it is printed apart).

    python python/bench/bench_ray.py --model ../shared/fixtures/models/tiny-llama-spm-Q8_0.gguf --docs 1000
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import ray

import tokenscope as ts
import tokenscope.ray

REPO = Path(__file__).resolve().parents[2]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--model", default=str(REPO / "models" / "tokenscope-demo.gguf"))
    p.add_argument("--docs", type=int, default=1000)
    p.add_argument("--chars", type=int, default=400)
    p.add_argument("--batch-size", type=int, default=20)
    args = p.parse_args()
    text = (REPO / "models" / "eval.txt").read_text()
    docs = [{"doc": i, "text": text[(i * 97) % (len(text) - args.chars):][:args.chars]} for i in range(args.docs)]
    print(f"model {args.model}; {args.docs} docs of {args.chars} chars; load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    t0 = time.perf_counter()
    ts.Model(args.model, threads=1).score([d["text"] for d in docs])
    single = time.perf_counter() - t0
    print(f"  one process, 1 thread: {args.docs / single:.1f} docs/s")
    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    print(f"  ray.init: {time.perf_counter() - t0:.1f} s")
    for actors in (1, 2):
        t0 = time.perf_counter()
        n = len(tokenscope.ray.score(ray.data.from_items(docs), args.model, actors=actors,
                                     batch_size=args.batch_size).take_all())
        wall = time.perf_counter() - t0
        print(f"  ray, {actors} actor(s): {n / wall:.1f} docs/s ({wall:.1f} s with actor start-up)")
    ray.shutdown()


if __name__ == "__main__":
    main()
