#!/usr/bin/env python3
"""Aggregate generation throughput of an OpenAI-compatible server under N concurrent streams (standard library only).

    python3 bench/server_parallel.py --url http://127.0.0.1:8080 [--streams 4] [--max-tokens 128] [--n-requests 8]

Starts nothing: point it at a running `tokenscope serve` or `llama-server` (bench/server_parallel.md says how to
start both alike). --streams client threads send --n-requests POST /v1/completions requests in all, one at a time
each, every request asking for exactly --max-tokens tokens: greedy (temperature 0), end-of-generation ignored (the
top-level "ignore_eos" llama-server reads and tokenscope's "tokenscope": {"ignore_eos": true}), a short prompt that
differs per request (so no server can reuse a whole earlier prompt). One warm-up request runs first and is not
counted.

Prints one line of JSON: generated tokens (the servers' usage.completion_tokens), wall seconds from the first request
to the last answer, aggregate tokens/s, and the mean and worst request latency. Exit status 1 when a request fails
or returns fewer tokens than asked.
"""
from __future__ import annotations

import argparse
import json
import sys
import threading
import time
import urllib.error
import urllib.request

PROMPTS = [
    "Once upon a time, in a village by the sea,",
    "The committee met on a grey morning to decide",
    "In the beginning there was a small machine that",
    "A fortune cookie said that the next train would",
    "The old map showed a road that nobody had taken",
    "When the lights went out in the library, the",
    "Her notebook listed three reasons to leave and",
    "The recipe began with flour, salt and a promise",
]


def complete(url: str, i: int, max_tokens: int, model: str, timeout: float) -> tuple[int, float]:
    body = {
        "model": model,
        "prompt": f"{PROMPTS[i % len(PROMPTS)]} (request {i})",
        "max_tokens": max_tokens,
        "temperature": 0,
        "ignore_eos": True,
        "tokenscope": {"ignore_eos": True},
    }
    req = urllib.request.Request(url.rstrip("/") + "/v1/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=timeout) as r:
        reply = json.load(r)
    return int(reply["usage"]["completion_tokens"]), time.perf_counter() - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True, help="server root, e.g. http://127.0.0.1:8080")
    ap.add_argument("--streams", type=int, default=4, help="concurrent clients")
    ap.add_argument("--max-tokens", type=int, default=128, help="tokens generated per request")
    ap.add_argument("--n-requests", type=int, default=8, help="requests in all (spread over the streams)")
    ap.add_argument("--model", default="any", help="the request's model field (both servers serve one model)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds one request may take")
    args = ap.parse_args()

    try:
        complete(args.url, 10_000, 8, args.model, args.timeout)  # warm-up: load pages, first-call allocations
    except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
        print(f"server_parallel: warm-up request failed: {e}", file=sys.stderr)
        return 1

    lock = threading.Lock()
    next_req = [0]
    results: list[tuple[int, float]] = []
    errors: list[str] = []

    def client() -> None:
        while True:
            with lock:
                i = next_req[0]
                if i >= args.n_requests:
                    return
                next_req[0] += 1
            try:
                got = complete(args.url, i, args.max_tokens, args.model, args.timeout)
            except (urllib.error.URLError, OSError, KeyError, ValueError) as e:
                with lock:
                    errors.append(f"request {i}: {e}")
                return
            with lock:
                results.append(got)

    threads = [threading.Thread(target=client) for _ in range(args.streams)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0

    tokens = sum(n for n, _ in results)
    lat = [s for _, s in results]
    out = {
        "url": args.url,
        "streams": args.streams,
        "requests": len(results),
        "max_tokens": args.max_tokens,
        "tokens": tokens,
        "wall_s": round(wall, 2),
        "tokens_per_s": round(tokens / wall, 2) if wall > 0 else 0.0,
        "latency_mean_s": round(sum(lat) / len(lat), 2) if lat else None,
        "latency_max_s": round(max(lat), 2) if lat else None,
    }
    print(json.dumps(out))
    short = [n for n, _ in results if n < args.max_tokens]
    for e in errors:
        print(f"server_parallel: {e}", file=sys.stderr)
    if short:
        print(f"server_parallel: {len(short)} requests returned fewer than {args.max_tokens} tokens", file=sys.stderr)
    return 1 if errors or short or len(results) < args.n_requests else 0


if __name__ == "__main__":
    sys.exit(main())
