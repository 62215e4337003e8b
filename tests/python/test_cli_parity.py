"""Python results equal the CLI's, value for value, on the fixture model (tiny-llama-spm-Q8_0).

The CLI prints statistics rounded to 6 decimals (score, generate) or 10 significant digits (detect); the Python
numbers, rounded the same way (conftest.round6 / round_sig), must be exactly those. Ids, ranks, offsets, counts and
texts must be identical.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import tokenscope as ts
from conftest import jsonl, round6, round_sig, run_cli

THREADS = "2"


@pytest.fixture(scope="module")
def model(fixture_model):
    return ts.Model(fixture_model, threads=int(THREADS))


def score_docs(reference_docs):
    """Texts, token-id documents and edge cases: the empty text, one token, non-ASCII text."""
    return [
        {"text": reference_docs[0]["text"][:600]},
        {"text": reference_docs[1]["text"][:400]},
        {"ids": reference_docs[2]["ids"][:60]},
        {"text": ""},
        {"ids": [1]},
        {"text": "Naïve café — 日本語 text,\n\twith a tab and <s> literal"},
    ]


def as_python_docs(docs):
    return [d["text"] if "text" in d else d["ids"] for d in docs]


def assert_score_matches(results, lines, model, top):
    tokens = [l for l in lines if "summary" not in l]
    summaries = [l for l in lines if "summary" in l]
    assert len(summaries) == len(results)
    for d, r in enumerate(results):
        t = [l for l in tokens if l["doc"] == d]
        assert len(r) == len(t), f"doc {d}"
        assert r.positions.tolist() == [x["pos"] for x in t]
        assert r.token_ids.tolist() == [x["id"] for x in t]
        assert r.offsets.tolist() == [x["offset"] for x in t]
        assert r.rank.tolist() == [x["rank"] for x in t]
        assert [round6(v) for v in r.logprob.tolist()] == [x["logprob"] for x in t], f"doc {d} logprob"
        assert [round6(v) for v in r.entropy.tolist()] == [x["entropy"] for x in t], f"doc {d} entropy"
        assert [model.tokenizer.token_text(i) for i in r.token_ids.tolist()] == [x["token"] for x in t]
        if top:
            assert r.top_ids.tolist() == [[a["id"] for a in x["top"]] for x in t]
            assert [[round6(v) for v in row] for row in r.top_logprobs.tolist()] == \
                [[a["logprob"] for a in x["top"]] for x in t]
        s = summaries[d]["summary"]
        assert summaries[d]["doc"] == d
        assert r.summary["tokens"] == s["tokens"] and r.summary["bytes"] == s["bytes"]
        for k in ("nll", "nll_sum", "ppl", "bits_per_byte"):
            assert round6(r.summary[k]) == s[k], f"doc {d} summary {k}"


def test_score_equals_cli_jsonl(model, fixture_model, cli, reference_docs, tmp_path):
    docs = score_docs(reference_docs)
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    lines = jsonl(run_cli(cli, "score", "-m", fixture_model, "--jsonl", str(path), "--top", "5", "-t", THREADS).stdout)
    results = model.score(as_python_docs(docs), top=5)
    assert_score_matches(results, lines, model, top=5)


def test_score_sliding_window_equals_cli(model, fixture_model, cli, reference_docs):
    # a text far longer than ctx: windows of 64 tokens with stride 32, each from a fresh cache
    text = reference_docs[3]["text"][:1200]
    lines = jsonl(run_cli(cli, "score", "-m", fixture_model, "-p", text, "--ctx", "64", "--batch", "16",
                          "--top", "0", "-t", THREADS).stdout)
    results = model.score([text], top=0, ctx=64, batch=16)
    assert len(results[0]) > 200
    assert results[0].top_ids.shape == (len(results[0]), 0)
    assert_score_matches(results, lines, model, top=0)


def test_score_parse_special_equals_cli(model, fixture_model, cli):
    text = "one <s> two </s> three"
    lines = jsonl(run_cli(cli, "score", "-m", fixture_model, "-p", text, "--parse-special", "-t", THREADS).stdout)
    r = model.score(text, parse_special=True)
    assert_score_matches(r, lines, model, top=5)
    assert 1 in r[0].token_ids.tolist()  # '<s>' became BOS


def test_tokenize_equals_cli(model, fixture_model, cli):
    text = "Hello world <s> — ünïcödé\n  spaces"
    ids = [int(x) for x in run_cli(cli, "tokenize", "-m", fixture_model, "-p", text).stdout.split()]
    assert model.tokenizer.encode(text).tolist() == ids
    raw = [int(x) for x in run_cli(cli, "tokenize", "-m", fixture_model, "-p", text, "--no-special").stdout.split()]
    assert model.tokenizer.encode(text, add_special=False, parse_special=False).tolist() == raw
    offs = jsonl(run_cli(cli, "tokenize", "-m", fixture_model, "-p", text, "--format", "jsonl").stdout)
    ids2, offsets = model.tokenizer.encode_with_offsets(text)
    assert ids2.tolist() == [o["id"] for o in offs]
    assert offsets.tolist() == [o["offset"] for o in offs]


@pytest.mark.parametrize("samplers,seed", [("min_p=0.05;temp=0.8", 1), ("default", 7), ("hf;temp=1.3", 3),
                                           ("penalties,repeat=1.3;top_k=20;mirostat_v2", 11)])
def test_generate_equals_cli_jsonl(model, fixture_model, cli, samplers, seed):
    prompt = "Once upon a time"
    lines = jsonl(run_cli(cli, "generate", "-m", fixture_model, "-p", prompt, "-n", "40", "--seed", str(seed),
                          "--samplers", samplers, "--format", "jsonl", "--top", "3", "-t", THREADS).stdout)
    toks, summary = lines[:-1], lines[-1]["summary"]
    g = model.generate(prompt, max_tokens=40, samplers=samplers, seed=seed, top=3)
    assert g.ids.tolist() == [t["id"] for t in toks]
    assert g.bytes == b"".join(bytes(t["bytes"]) for t in toks)
    assert g.rank.tolist() == [t["rank"] for t in toks]
    assert g.kept.tolist() == [t["kept"] for t in toks]
    assert g.changed.tolist() == [t["changed"] for t in toks]
    for name, key in (("logprob", "logprob"), ("entropy", "entropy"), ("varentropy", "varentropy"),
                      ("p_logprob", "p_logprob"), ("p_entropy", "p_entropy")):
        assert [round6(v) for v in getattr(g, name).tolist()] == [t[key] for t in toks], name
    assert g.top_ids.tolist() == [[a["id"] for a in t["top"]] for t in toks]
    assert [[a for a in row if a >= 0] for row in g.p_top_ids.tolist()] == [[a["id"] for a in t["p_top"]] for t in toks]
    for k in ("prompt_tokens", "tokens", "stop", "seed", "samplers"):
        assert g.summary[k] == summary[k], k


def test_generate_text_equals_cli_text_output(model, fixture_model, cli):
    out = run_cli(cli, "generate", "-m", fixture_model, "-p", "In the beginning", "-n", "48", "--seed", "5",
                  "--samplers", "min_p=0.05;temp=0.8", "-t", THREADS).stdout
    g = model.generate("In the beginning", max_tokens=48, samplers="min_p=0.05;temp=0.8", seed=5)
    assert out == g.bytes + b"\n"
    assert g.text == g.bytes.decode("utf-8", errors="replace")


def assert_detect_matches(py, lines):
    assert py["tokens"].tolist() == [l["tokens"] for l in lines]
    keys = [k for k in lines[0] if k not in ("doc", "tokens")]
    assert [k for k in py if k != "tokens"] == keys
    for k in keys:
        for d, l in enumerate(lines):
            v = float(py[k][d])
            if l.get(k) is None:  # the CLI's null: NaN (no predicted token) or +inf (lrr with every rank 1)
                assert math.isnan(v) or math.isinf(v), (k, d, v)
            else:
                assert round_sig(v) == l[k], (k, d, v, l[k])


def test_detect_equals_cli(model, fixture_model, fixture_model_f16, cli, reference_docs, tmp_path):
    docs = [{"text": reference_docs[4]["text"][:500]}, {"text": "The the the the the"}, {"ids": [1]},
            {"ids": reference_docs[5]["ids"][:40]}]
    path = tmp_path / "docs.jsonl"
    path.write_text("".join(json.dumps(d) + "\n" for d in docs))
    lines = jsonl(run_cli(cli, "detect", "-m", fixture_model, "--jsonl", str(path), "-t", THREADS).stdout)
    assert_detect_matches(model.detect(as_python_docs(docs)), lines)
    # two models: Fast-DetectGPT with a sampling model, Binoculars with its observer
    other = ts.Model(fixture_model_f16, threads=int(THREADS))
    lines = jsonl(run_cli(cli, "detect", "-m", fixture_model, "--jsonl", str(path), "--sampler-model",
                          fixture_model_f16, "-t", THREADS).stdout)
    assert_detect_matches(model.detect(as_python_docs(docs), sampler=other), lines)
    lines = jsonl(run_cli(cli, "detect", "-m", fixture_model, "--jsonl", str(path), "--observer", fixture_model_f16,
                          "--method", "binoculars,lrr", "-t", THREADS).stdout)
    assert_detect_matches(model.detect(as_python_docs(docs), methods="binoculars,lrr", observer=other), lines)


def cli_error(cli, *args):
    r = run_cli(cli, *args, check=False)
    assert r.returncode == 2, r
    err = r.stderr.decode().strip().splitlines()[-1]
    assert err.startswith("tokenscope: ")
    return err[len("tokenscope: "):]


def test_load_errors_raise_value_error_with_cli_message(cli, fixture_model, tmp_path):
    missing = str(tmp_path / "missing.gguf")
    with pytest.raises(ValueError) as e:
        ts.Model(missing)
    assert str(e.value) == cli_error(cli, "score", "-m", missing, "-p", "x")
    truncated = tmp_path / "truncated.gguf"
    with open(fixture_model, "rb") as f:
        truncated.write_bytes(f.read(5000))
    with pytest.raises(ValueError) as e:
        ts.Model(str(truncated))
    assert str(e.value) == cli_error(cli, "score", "-m", str(truncated), "-p", "x")
    assert str(truncated) in str(e.value)


def test_input_errors_raise_value_error_with_cli_message(model, fixture_model, cli, tmp_path):
    with pytest.raises(ValueError) as e:
        model.generate("x", samplers="top_k=abc;temp=0.8")
    assert str(e.value) == cli_error(cli, "generate", "-m", fixture_model, "-p", "x", "--samplers", "top_k=abc;temp=0.8")
    path = tmp_path / "bad.jsonl"
    path.write_text('{"ids": [1, 32000]}\n')
    with pytest.raises(ValueError) as e:
        model.score([[1, 32000]])
    # same message after the location ("docs.jsonl:1" for the CLI, "documents[0]" for Python)
    cli_msg = cli_error(cli, "score", "-m", fixture_model, "--jsonl", str(path))
    assert str(e.value) == "documents[0]" + cli_msg[len(str(path) + ":1"):]
    with pytest.raises(ValueError) as e:
        model.detect(["x"], methods="log_likelihood,nope")
    cli_msg = cli_error(cli, "detect", "-m", fixture_model, "-p", "x", "--method", "log_likelihood,nope")
    assert str(e.value).split(": ")[-1] == cli_msg.split(": ")[-1]  # "unknown method 'nope' (one of all, ...)"
