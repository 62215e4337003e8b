"""The Python API on the bundled demo model (no ../shared needed): shapes and dtypes, the summary's formulas,
agreement between score, generate and the tokenizer, thread safety, name resolution and error types."""

from __future__ import annotations

import math
import threading
from pathlib import Path

import numpy as np
import pytest

import tokenscope as ts

TEXTS = ["In the beginning God created the heaven and the earth.",
         "A hacker is a person who enjoys exploring the details of programmable systems.",
         "Hello, world!\nSecond line."]


@pytest.fixture(scope="module")
def demo():
    return ts.Model("demo", threads=1)


def test_demo_model_resolves_to_the_bundled_file(demo):
    assert Path(demo.path).name == "tokenscope-demo.gguf"
    assert demo.arch == "llama" and demo.n_vocab == len(demo.tokenizer) > 0


def test_score_arrays_have_one_entry_per_predicted_token(demo):
    r = demo.score(TEXTS, top=4)
    assert len(r) == len(TEXTS)
    for text, x in zip(TEXTS, r):
        ids = demo.tokenizer.encode(text, parse_special=False)
        n = len(ids) - 1
        assert x.input_ids.tolist() == ids.tolist()
        assert x.token_ids.tolist() == ids[1:].tolist()
        assert x.positions.tolist() == list(range(1, n + 1))
        for a, dt in ((x.token_ids, np.int32), (x.offsets, np.int64), (x.rank, np.int64), (x.logprob, np.float64),
                      (x.entropy, np.float64), (x.varentropy, np.float64)):
            assert a.dtype == dt and a.shape == (n,)
        assert x.top_ids.shape == x.top_logprobs.shape == (n, 4)
        assert x.top_ids.dtype == np.int32
        assert np.all(x.logprob <= 0) and np.all(x.rank >= 1) and np.all(x.entropy >= 0)
        assert np.all(np.diff(x.top_logprobs, axis=1) <= 0)  # most likely first
        first = x.rank == 1
        assert np.array_equal(x.token_ids[first], x.top_ids[first, 0])
        np.testing.assert_array_equal(x.logprob[first], x.top_logprobs[first, 0])


def test_summary_follows_its_formulas(demo):
    text = TEXTS[1]
    x = demo.score(text)[0]
    s = x.summary
    assert s["tokens"] == len(x)
    assert s["nll_sum"] == pytest.approx(-x.logprob.sum(), rel=1e-12)
    assert s["nll"] == pytest.approx(s["nll_sum"] / len(x), rel=1e-12)
    assert s["ppl"] == pytest.approx(math.exp(s["nll"]), rel=1e-12)
    # the predicted tokens cover the text from the second token's offset on
    assert s["bytes"] == len(text.encode()) - x.offsets[0]
    assert s["bits_per_byte"] == pytest.approx(s["nll_sum"] / math.log(2) / s["bytes"], rel=1e-12)


def test_ids_input_scores_as_given_and_matches_text_input(demo):
    text = TEXTS[0]
    ids = demo.tokenizer.encode(text, parse_special=False)
    by_text = demo.score(text)[0]
    for given in (ids, [ids.tolist()], [ids], (tuple(ids.tolist()),)):
        by_ids = demo.score(given)[0]
        np.testing.assert_array_equal(by_ids.logprob, by_text.logprob)
        np.testing.assert_array_equal(by_ids.top_ids, by_text.top_ids)
    # ids get no BOS added: one predicted token fewer
    assert len(demo.score([ids[1:].tolist()])[0]) == len(by_text) - 1


def test_generated_tokens_have_the_logprob_score_gives(demo):
    g = demo.generate("It was a dark and stormy night", max_tokens=20, samplers="greedy", seed=0, ignore_eos=True)
    assert len(g) == 20 and g.ids.dtype == np.int32
    assert not g.changed.any()  # greedy never departs from the raw argmax
    full = np.concatenate([g.prompt_ids, g.ids])
    r = demo.score([full.tolist()])[0]
    tail = slice(len(g.prompt_ids) - 1, None)
    np.testing.assert_array_equal(r.token_ids[tail], g.ids)
    np.testing.assert_allclose(r.logprob[tail], g.logprob, atol=1e-4)
    np.testing.assert_allclose(r.entropy[tail], g.entropy, atol=1e-4)
    assert g.bytes == b"".join(demo.tokenizer.token_bytes(int(i)) for i in g.ids)
    assert g.summary["stop"] == "length" and g.summary["samplers"] == "greedy"


def test_same_seed_same_continuation_and_seed_is_reported(demo):
    a = demo.generate("Once upon a time", max_tokens=24, samplers="min_p=0.05;temp=0.8", seed=42)
    b = demo.generate("Once upon a time", max_tokens=24, samplers="min_p=0.05;temp=0.8", seed=42)
    assert a.ids.tolist() == b.ids.tolist() and a.summary["seed"] == 42
    c = demo.generate("Once upon a time", max_tokens=4)
    assert isinstance(c.summary["seed"], int)


def test_two_python_threads_score_as_one_thread_does(demo):
    docs = [TEXTS[i % 3] * (1 + i % 2) for i in range(6)]
    expected = [x.logprob.copy() for x in demo.score(docs)]
    got = {}

    def work(k):
        got[k] = [x.logprob for x in demo.score(docs[k::2])]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(2):
        for a, b in zip(got[k], expected[k::2]):
            np.testing.assert_array_equal(a, b)


def test_tokenizer_round_trips_text(demo):
    tok = demo.tokenizer
    text = "Naïve café — tokens\nand lines"
    ids = tok.encode(text, add_special=False)
    assert ids.dtype == np.int32
    assert tok.decode(ids) == text and tok.decode_bytes(ids) == text.encode()
    ids2, offsets = tok.encode_with_offsets(text, add_special=False)
    assert ids2.tolist() == ids.tolist() and offsets[0] == 0 and np.all(np.diff(offsets) >= 0)
    assert tok.token_id(tok.token_text(int(ids[0]))) == ids[0]


def test_detect_returns_one_value_per_document(demo):
    s = demo.detect(TEXTS)
    assert list(s) == ["tokens", "log_likelihood", "log_rank", "lrr", "neg_entropy", "fast_detectgpt", "binoculars"]
    for v in s.values():
        assert v.shape == (len(TEXTS),)
    r = demo.score(TEXTS)
    np.testing.assert_allclose(s["log_likelihood"], [x.logprob.mean() for x in r], rtol=1e-12)
    assert demo.detect(TEXTS, methods="lrr").keys() == {"tokens", "lrr"}


def test_bad_arguments_raise_value_error_naming_the_field(demo):
    with pytest.raises(ValueError, match=r"documents\[1\]: field 'ids': value -1 is not a token id"):
        demo.score([[1, 2], [3, -1]])
    with pytest.raises(ValueError, match="top: value 5000 out of range"):
        demo.score("x", top=5000)
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        demo.detect("x", methods="nope")
    with pytest.raises(ValueError, match="generate: empty prompt"):
        demo.generate([], max_tokens=3)
    with pytest.raises(ValueError, match="sampler spec"):
        demo.generate("x", samplers="bogus")
    with pytest.raises(TypeError, match="got int"):
        demo.score([1, 2, 3])


def test_copied_and_mapped_weights_score_alike(demo):
    copied = ts.Model("demo", threads=1, load="copy")
    mapped = ts.Model("demo", threads=1, load="mmap")
    assert copied.weights_copied and not mapped.weights_copied
    assert not demo.weights_copied  # 'auto' maps files under 32 MiB
    a, b = copied.score(TEXTS[1])[0], mapped.score(TEXTS[1])[0]
    assert np.array_equal(a.logprob, b.logprob) and np.array_equal(a.entropy, b.entropy)
    with pytest.raises(ValueError, match="load: value 'disk' is not auto, copy or mmap"):
        ts.Model("demo", load="disk")


def test_default_model_follows_the_cli_rules(monkeypatch, tmp_path):
    monkeypatch.setenv("TOKENSCOPE_MODELS", str(tmp_path))  # nothing installed there
    monkeypatch.delenv("TOKENSCOPE_DEMO_MODEL", raising=False)
    with pytest.raises(ValueError, match="smollm2-135m: not installed .*; run scripts/fetch-models.sh"):
        ts.Model("smollm2-135m")
    assert Path(ts.resolve_model()).name == "tokenscope-demo.gguf"
    monkeypatch.setenv("TOKENSCOPE_DEMO_MODEL", str(tmp_path / "none.gguf"))
    with pytest.raises(ValueError, match="TOKENSCOPE_DEMO_MODEL: no such file"):
        ts.resolve_model()
    (tmp_path / ts.KNOWN_MODELS["smollm2-135m"]).write_bytes(b"")
    monkeypatch.delenv("TOKENSCOPE_DEMO_MODEL")
    assert ts.resolve_model() == str(tmp_path / ts.KNOWN_MODELS["smollm2-135m"])
    assert ts.resolve_model("smollm2-135m") == ts.resolve_model()


def test_stubs_name_every_public_attribute():
    stub = (Path(ts.__file__).parent / "_core.pyi").read_text()
    for cls in (ts.Model, ts.Tokenizer, ts.ScoreResult, ts.GenerateResult):
        assert f"class {cls.__name__}" in stub
        for name in dir(cls):
            if not name.startswith("_"):
                assert f"def {name}(" in stub or f"    {name}:" in stub, f"{cls.__name__}.{name} missing from _core.pyi"
