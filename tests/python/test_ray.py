"""tokenscope.ray on a local Ray cluster (2 CPUs): 500 fixture documents give exactly the single-process numbers.

Optional: runs where Ray is installed (`pip install .[ray]`); skips with a message otherwise, and fails when
TOKENSCOPE_TEST_RAY=1 asks for it. Ray's start-up (about 10 s, then actor start-up) keeps it out of the default
suite's environment, which does not install Ray.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import tokenscope as ts

if os.environ.get("TOKENSCOPE_TEST_RAY") == "1":
    import ray  # noqa: F401  (a failure here is the point)
ray = pytest.importorskip("ray", reason="Ray not installed (pip install .[ray]); skipping the Ray test")
import tokenscope.ray  # noqa: E402


def fixture_documents(reference_docs, n=500):
    """n documents of varied length cut from the 12 held-out texts; every 10th as token ids (no BOS)."""
    docs = []
    for i in range(n):
        ref = reference_docs[i % len(reference_docs)]
        if i % 10 == 9:
            start = (i * 7) % 100
            docs.append({"doc": i, "text": None, "ids": ref["ids"][start:start + 20 + i % 40]})
        else:
            start = (i * 37) % 1000
            docs.append({"doc": i, "text": ref["text"][start:start + 60 + (i % 7) * 25], "ids": None})
    return docs


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield
    ray.shutdown()


def test_ray_scores_500_documents_as_one_process_does(local_ray, fixture_model, reference_docs):
    rows = fixture_documents(reference_docs)
    single = ts.Model(fixture_model, threads=1).score(
        [r["text"] if r["text"] is not None else r["ids"] for r in rows], top=3)
    ds = ray.data.from_items(rows)
    out = tokenscope.ray.score(ds, fixture_model, top=3, actors=2, batch_size=25, per_token=True).take_all()
    assert sorted(r["doc"] for r in out) == list(range(len(rows)))  # every document once
    for r in out:
        want = single[r["doc"]]
        for k in tokenscope.ray.SUMMARY_COLUMNS:
            assert r[k] == want.summary[k], (r["doc"], k)
        np.testing.assert_array_equal(np.asarray(r["logprob"]), want.logprob)
        np.testing.assert_array_equal(np.asarray(r["rank"]), want.rank)
        np.testing.assert_array_equal(np.asarray(r["token_ids"]), want.token_ids)
        assert np.asarray([list(x) for x in r["top_ids"]]).reshape(-1, 3).tolist() == want.top_ids.tolist()
    assert "text" not in out[0] and "ids" not in out[0]


def scorer_actor_pids():
    """Process ids of this session's scoring actors (Ray titles them 'ray::MapWorker(MapBatches(_Scorer))')."""
    pids = []
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if b"MapBatches(_Scorer)" in f.read():
                    pids.append(int(p))
        except OSError:
            pass
    return pids


def test_ray_rows_are_identical_after_an_actor_is_killed(local_ray, fixture_model, reference_docs):
    import signal

    rows = fixture_documents(reference_docs, n=200)
    single = ts.Model(fixture_model, threads=1).score(
        [r["text"] if r["text"] is not None else r["ids"] for r in rows])
    ds = tokenscope.ray.score(ray.data.from_items(rows), fixture_model, actors=2, batch_size=10)
    seen, killed = [], None
    for r in ds.iter_rows():
        seen.append(r)
        if killed is None and len(seen) >= 10:
            pids = scorer_actor_pids()
            assert pids, "no scoring actor found"
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)  # Ray restarts the actor and re-runs its batch
    assert killed is not None
    assert sorted(r["doc"] for r in seen) == list(range(len(rows)))  # every document once
    for r in seen:
        for k in tokenscope.ray.SUMMARY_COLUMNS:
            assert r[k] == single[r["doc"]].summary[k], (r["doc"], k)
