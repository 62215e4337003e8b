"""The OpenAI-compatible API through the official `openai` client, against `tokenscope serve` on the demo model.

Skipped when the `openai` package is not installed (pip install -r tests/api/requirements.txt).
"""
import json
import math
import subprocess

import pytest

openai = pytest.importorskip("openai")

from conftest import DEMO_MODEL  # noqa: E402

TEXTS = [
    "In the beginning God created the heaven and the earth.",
    "The hacker's ethic holds that information wants to be free, and so do the machines.",
    "A fortune: you will be hungry again in one hour.",
]


@pytest.fixture(scope="module")
def client(server):
    return openai.OpenAI(base_url=server.base_url, api_key="unused", max_retries=0, timeout=120)


def cli_score(binary, text):
    out = subprocess.run([binary, "score", "-m", DEMO_MODEL, "-p", text, "--top", "0"], check=True,
                         capture_output=True, text=True).stdout
    recs = [json.loads(line) for line in out.splitlines() if line.strip()]
    return [r["logprob"] for r in recs if "summary" not in r]


def health(server):
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health") as r:
        return json.load(r)


def test_models_lists_the_alias(client):
    ids = [m.id for m in client.models.list().data]
    assert ids == ["demo"]


@pytest.mark.parametrize("text", TEXTS)
def test_echo_prompt_logprobs_equal_tokenscope_score(client, server, text):
    r = client.completions.create(model="demo", prompt=text, max_tokens=0, echo=True, logprobs=5)
    c = r.choices[0]
    assert c.text == text
    lp = c.logprobs
    assert lp.token_logprobs[0] is None and lp.top_logprobs[0] is None
    assert len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset)
    ref = cli_score(server.binary, text)
    assert len(lp.token_logprobs) == len(ref) + 1
    for got, want in zip(lp.token_logprobs[1:], ref):
        assert abs(got - want) <= 1e-4
    assert r.usage.prompt_tokens == len(ref) + 1
    assert r.usage.completion_tokens == 0


def test_completion_logprobs_shape(client):
    r = client.completions.create(model="demo", prompt="And God said", max_tokens=8, logprobs=3, seed=7,
                                  temperature=0.8)
    assert r.object == "text_completion"
    c = r.choices[0]
    assert c.finish_reason in ("stop", "length")
    lp = c.logprobs
    n = len(lp.tokens)
    assert 0 < n <= 8
    assert len(lp.token_logprobs) == len(lp.top_logprobs) == len(lp.text_offset) == n
    for tok, logprob, top in zip(lp.tokens, lp.token_logprobs, lp.top_logprobs):
        assert logprob <= 0
        assert tok in top and len(top) <= 4
    assert "".join(lp.tokens) == c.text
    assert lp.text_offset == sorted(lp.text_offset)


def test_completion_seed_reproduces(client):
    kw = dict(model="demo", prompt="The machine", max_tokens=10, seed=123, temperature=1.0)
    assert client.completions.create(**kw).choices[0].text == client.completions.create(**kw).choices[0].text


def test_completion_streaming_matches_whole(client):
    kw = dict(model="demo", prompt="In the beginning", max_tokens=12, temperature=0, logprobs=2)
    whole = client.completions.create(**kw)
    text, lps, finish = "", [], None
    for chunk in client.completions.create(stream=True, **kw):
        ch = chunk.choices[0]
        text += ch.text
        if ch.logprobs:
            lps += ch.logprobs.token_logprobs
        finish = ch.finish_reason or finish
    assert text == whole.choices[0].text
    assert finish == whole.choices[0].finish_reason
    assert lps == pytest.approx(whole.choices[0].logprobs.token_logprobs, abs=1e-9)


def test_stop_sequence(client):
    kw = dict(model="demo", prompt="In the beginning", max_tokens=24, temperature=0)
    text = client.completions.create(**kw).choices[0].text
    stop = text[4:7]
    r = client.completions.create(stop=[stop], **kw).choices[0]
    assert r.text == text[: text.find(stop)]
    assert r.finish_reason == "stop"


def test_n_choices(client):
    r = client.completions.create(model="demo", prompt="One day", max_tokens=4, n=3, seed=1)
    assert [c.index for c in r.choices] == [0, 1, 2]


def test_tokenscope_extension(client):
    r = client.completions.create(model="demo", prompt="The", max_tokens=5, logprobs=2, seed=3,
                                  extra_body={"tokenscope": {"entropy": True, "rank": True, "processed": True,
                                                             "samplers": "top_k=20;temp=0.7"}})
    ext = r.choices[0].logprobs.model_extra["tokenscope"]
    n = len(r.choices[0].logprobs.tokens)
    assert len(ext["rank"]) == len(ext["entropy"]) == len(ext["processed"]) == n
    assert all(p["kept"] <= 20 for p in ext["processed"])


def chat_available(server):
    return health(server)["chat"]  # false only in a build without the chat-template interpreter


def test_chat_logprobs(client, server):
    if not chat_available(server):
        pytest.skip("this build has no chat-template interpreter yet")
    r = client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "Say something."}],
                                       max_tokens=6, logprobs=True, top_logprobs=3, seed=2)
    c = r.choices[0]
    assert r.object == "chat.completion"
    assert c.message.role == "assistant"
    content = c.logprobs.content
    assert len(content) > 0
    for e in content:
        assert e.logprob <= 0
        assert bytes(e.bytes) == e.token.encode() or "\ufffd" in e.token  # partial UTF-8 shows as U+FFFD
        assert len(e.top_logprobs) == 3
    assert "".join(e.token for e in content) == c.message.content


def test_chat_streaming(client, server):
    if not chat_available(server):
        pytest.skip("this build has no chat-template interpreter yet")
    kw = dict(model="demo", messages=[{"role": "user", "content": "Hello"}], max_tokens=8, temperature=0,
              logprobs=True, top_logprobs=2)
    whole = client.chat.completions.create(**kw)
    text, n_lp = "", 0
    for chunk in client.chat.completions.create(stream=True, **kw):
        if not chunk.choices:
            continue
        d = chunk.choices[0].delta
        text += d.content or ""
        if chunk.choices[0].logprobs and chunk.choices[0].logprobs.content:
            n_lp += len(chunk.choices[0].logprobs.content)
    assert text == whole.choices[0].message.content
    assert n_lp == len(whole.choices[0].logprobs.content)


def test_errors_are_openai_shaped(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model="demo", prompt="x", max_tokens=-1)
    assert e.value.body["param"] == "max_tokens"
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model="demo", prompt="word " * 400, max_tokens=1)
    assert "context of 256 tokens" in e.value.body["message"]
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="demo", prompt="x", logprobs=101)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "x"}], top_logprobs=3)
    with pytest.raises(openai.NotFoundError):
        client.get("/nothing-here", cast_to=object)


def test_api_key(keyed_server):
    bad = openai.OpenAI(base_url=keyed_server.base_url, api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.completions.create(model="demo", prompt="x", max_tokens=1)
    good = openai.OpenAI(base_url=keyed_server.base_url, api_key="test-key", max_retries=0)
    assert good.completions.create(model="demo", prompt="x", max_tokens=1).choices
