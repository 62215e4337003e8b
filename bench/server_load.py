#!/usr/bin/env python3
"""Load and fault run for `tokenscope serve` (loopback only, bounded, stops by itself; standard library only).

    python3 bench/server_load.py --bin build/tokenscope [--model models/tokenscope-demo.gguf] \
        [--clients 16] [--requests 2000] [--bad-fraction 0.05] [--parallel 4] [--threads 2]

Starts the server on a free port and sends --requests requests from --clients threads. About --bad-fraction of them
are malformed (bad JSON, wrong types, negative / huge max_tokens, invalid UTF-8, a body over the 8 MiB limit, an
unknown route, a client that hangs up in the middle of a stream). Every valid request is deterministic (greedy or
seeded) and its answer must equal the answer the same request got when sent alone before the load; every malformed
one must get a 4xx in OpenAI's error shape (the hang-ups get nothing: the check is that the server stays healthy).
RSS is read from /proc after the first and the last 500 requests. Exit status 0 only when every check holds.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time

VALID = [
    ("/v1/completions", {"prompt": "The committee met on", "max_tokens": 8, "temperature": 0, "logprobs": 3}),
    ("/v1/completions", {"prompt": "Once upon a time", "max_tokens": 0, "echo": True, "logprobs": 5}),
    ("/v1/completions", {"prompt": [[1, 2, 3, 4, 5]], "max_tokens": 4, "seed": 7, "temperature": 0.9}),
    ("/v1/completions", {"prompt": ["a list", "of prompts"], "max_tokens": 3, "temperature": 0, "n": 2}),
    ("/v1/completions", {"prompt": "Streaming text", "max_tokens": 6, "temperature": 0, "stream": True,
                         "logprobs": 2}),
    ("/v1/chat/completions", {"messages": [{"role": "user", "content": "Hello there"}], "max_tokens": 6,
                              "temperature": 0, "logprobs": True, "top_logprobs": 3}),
    ("/v1/score", {"text": "A short text to score, with a number: 1234.", "top": 5}),
    ("/tokenize", {"content": "tokenize this text"}),
]

# (name, method, route, body bytes or None, extra headers)
def malformed_requests():
    big = b'{"prompt": "' + b"x" * (8 * 1024 * 1024 + 16) + b'"}'
    return [
        ("bad json", "/v1/completions", b'{"prompt": "unterminated', {}),
        ("wrong type prompt", "/v1/completions", json.dumps({"prompt": {"a": 1}}).encode(), {}),
        ("wrong type max_tokens", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": "ten"}).encode(), {}),
        ("negative max_tokens", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": -5}).encode(), {}),
        ("huge max_tokens", "/v1/completions", json.dumps({"prompt": "x", "max_tokens": 10**12}).encode(), {}),
        ("logprobs out of range", "/v1/completions", json.dumps({"prompt": "x", "logprobs": 1000}).encode(), {}),
        ("invalid utf-8", "/v1/completions", b'{"prompt": "\xff\xfe\xc3(", "max_tokens": 2}', {}),
        ("messages not a list", "/v1/chat/completions", json.dumps({"messages": "hi"}).encode(), {}),
        ("over 8 MiB", "/v1/completions", big, {}),
        ("unknown route", "/v1/nothing-here", b"{}", {}),
    ]


def strip_volatile(obj):
    """Drops the fields that differ between identical requests (ids, timestamps, timings)."""
    if isinstance(obj, dict):
        return {k: strip_volatile(v) for k, v in obj.items() if k not in ("id", "created", "system_fingerprint",
                                                                         "timings", "ms", "elapsed_ms")}
    if isinstance(obj, list):
        return [strip_volatile(v) for v in obj]
    return obj


def canonical(route, body, status, data):
    if body.get("stream"):
        events = [line[6:] for line in data.decode().split("\n") if line.startswith("data: ")]
        if not events or events[-1] != "[DONE]":
            raise ValueError("stream did not end with [DONE]")
        return status, [strip_volatile(json.loads(e)) for e in events[:-1]]
    return status, strip_volatile(json.loads(data))


def request(port, route, payload: bytes, timeout=120, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", route, body=payload, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def hang_up_mid_stream(port):
    """Starts a long stream, reads its first event, then closes the socket."""
    body = json.dumps({"prompt": "A long story begins", "max_tokens": 200, "stream": True}).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    s.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    got = b""
    while b"data: " not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    s.close()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin", required=True)
    ap.add_argument("--model", default=os.path.join(os.path.dirname(__file__), "..", "models", "tokenscope-demo.gguf"))
    ap.add_argument("--clients", type=int, default=16)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--bad-fraction", type=float, default=0.05)
    ap.add_argument("--parallel", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=1800, help="give up (and fail) after this many seconds")
    a = ap.parse_args()

    chat = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "api", "chatml.jinja")
    proc = subprocess.Popen([a.bin, "serve", "-m", a.model, "--port", "0", "-t", str(a.threads), "--parallel",
                             str(a.parallel), "--chat-template-file", chat], stderr=subprocess.PIPE, text=True)
    port = None
    for line in proc.stderr:
        m = re.search(r"on http://127\.0\.0\.1:(\d+)/", line)
        if m:
            port = int(m.group(1))
            break
    if port is None:
        sys.exit("server did not start")
    threading.Thread(target=lambda: [None for _ in proc.stderr], daemon=True).start()
    deadline = time.monotonic() + a.time_limit

    try:
        # reference answers, each request alone
        refs = []
        for route, body in VALID:
            st, data = request(port, route, json.dumps(body).encode())
            if st != 200:
                sys.exit(f"reference request {route} {body} got {st}: {data[:300]!r}")
            refs.append(canonical(route, body, st, data))

        rng = random.Random(a.seed)
        bad = malformed_requests()
        plan = []
        for i in range(a.requests):
            if rng.random() < a.bad_fraction:
                plan.append(("bad", rng.randrange(len(bad) + 1)))  # the last index: hang up mid-stream
            else:
                plan.append(("ok", rng.randrange(len(VALID))))
        lock = threading.Lock()
        next_i = [0]
        results = [None] * len(plan)
        rss = {}
        t0 = time.monotonic()

        def worker():
            while time.monotonic() < deadline:
                with lock:
                    i = next_i[0]
                    if i >= len(plan):
                        return
                    next_i[0] += 1
                kind, k = plan[i]
                t = time.monotonic()
                try:
                    if kind == "ok":
                        route, body = VALID[k]
                        st, data = request(port, route, json.dumps(body).encode())
                        got = canonical(route, body, st, data)
                        results[i] = ("ok", k, got == refs[k], st, time.monotonic() - t)
                    elif k == len(bad):
                        hang_up_mid_stream(port)
                        results[i] = ("hangup", k, True, 0, time.monotonic() - t)
                    else:
                        name, route, payload, hdr = bad[k]
                        try:
                            st, data = request(port, route, payload, headers=hdr)
                            shaped = False
                            try:
                                err = json.loads(data).get("error", {})
                                shaped = all(f in err for f in ("message", "type", "param", "code"))
                            except ValueError:
                                pass
                            results[i] = ("bad", k, 400 <= st < 500 and shaped, st, time.monotonic() - t)
                        except (ConnectionError, http.client.HTTPException) as e:
                            # a server may answer 413 and close before the whole body is sent
                            results[i] = ("bad", k, name == "over 8 MiB", repr(e), time.monotonic() - t)
                except Exception as e:  # noqa: BLE001 - every failure is a finding
                    results[i] = (kind, k, False, repr(e), time.monotonic() - t)
                with lock:
                    done = sum(r is not None for r in results)
                    if done == 500 and "first" not in rss:
                        rss["first"] = rss_kb(proc.pid)
                    if done == len(plan) - 500 and "last_start" not in rss:
                        rss["last_start"] = rss_kb(proc.pid)

        threads = [threading.Thread(target=worker) for _ in range(a.clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        rss["end"] = rss_kb(proc.pid)
        health = None
        if proc.poll() is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", "/health")
            health = conn.getresponse().status
        after = [canonical(r, b, *request(port, r, json.dumps(b).encode())) == refs[i]
                 for i, (r, b) in enumerate(VALID)]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()

    missing = sum(r is None for r in results)
    ok = [r for r in results if r and r[0] == "ok"]
    badr = [r for r in results if r and r[0] == "bad"]
    hang = [r for r in results if r and r[0] == "hangup"]
    wrong = [(i, r) for i, r in enumerate(results) if r and not r[2]]
    print(f"requests {len(plan)} in {wall:.1f} s with {a.clients} clients ({len(plan) / wall:.1f} req/s); "
          f"valid {len(ok)}, malformed {len(badr)}, hang-ups {len(hang)}, unfinished {missing}")
    print(f"valid answered correctly: {sum(r[2] for r in ok)}/{len(ok)}; malformed got an OpenAI-shaped 4xx: "
          f"{sum(r[2] for r in badr)}/{len(badr)}")
    by_status = {}
    for r in badr:
        by_status.setdefault(bad[r[1]][0], set()).add(r[3])
    for name, sts in sorted(by_status.items()):
        print(f"  {name}: {sorted(map(str, sts))}")
    lat = sorted(r[4] for r in ok)
    if lat:
        print(f"valid latency s: median {lat[len(lat) // 2]:.3f}, p95 {lat[int(len(lat) * 0.95)]:.3f}, "
              f"max {lat[-1]:.3f}")
    first, last = rss.get("first", 0), rss.get("end", 0)
    growth = (last - first) / first if first else float("nan")
    print(f"RSS after first 500: {first / 1024:.1f} MiB, before last 500: {rss.get('last_start', 0) / 1024:.1f} MiB, "
          f"end: {last / 1024:.1f} MiB (growth first->end {100 * growth:+.1f}%)")
    print(f"health after: {health}; the {len(VALID)} reference requests again: {sum(after)}/{len(after)} equal")
    for i, r in wrong[:10]:
        kind, k = plan[i]
        what = VALID[k] if kind == "ok" else (bad[k][0] if k < len(bad) else "hangup")
        print(f"  FAILED #{i} {kind}: {what} -> {r[3]}")
    good = not wrong and not missing and health == 200 and all(after) and growth < 0.10
    print("PASS" if good else "FAIL")
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
