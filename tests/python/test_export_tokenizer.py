"""`tokenscope export-tokenizer` writes a tokenizer.json that HF `tokenizers` (PyPI) loads and that encodes text to
exactly the ids `tokenscope tokenize` gives, for every vocabulary GGUF in ../shared/fixtures/tokenizer/ and the
bundled demo model.

Texts: the fixture test vectors (.inp: texts separated by "\\n__ggml_vocab_test__\\n"), the demo model's own texts
(models/sample.txt, models/eval.txt) and a few texts holding special-token text.

Conventions compared (both sides add BOS/EOS only as the GGUF's add_bos_token/add_eos_token say):
- `tokenize` (default: add BOS/EOS, parse special-token text) == HF `encode(text)` (add_special_tokens=True, added
  tokens matched in the text).
- `tokenize --no-special` (no BOS/EOS, control-token text is plain text) == HF `encode(text,
  add_special_tokens=False)` with `encode_special_tokens = True` (special added tokens not matched).
The regexes of every other tokenizer.ggml.pre family are checked the same way on the gpt-2 vocabulary with its pre
value replaced. transformers' AutoTokenizer is not loaded here (too heavy for the default suite; tests/integration/
lm_eval loads it, through lm-eval); tokenizer_config.json is checked as JSON with the expected keys and values.
"""

from __future__ import annotations

import functools
import json
import random
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import REPO, _missing, fixtures_dir, run_cli, running_in_ci

SEPARATOR = "\n__ggml_vocab_test__\n"


@dataclass(frozen=True)
class Vocab:
    name: str
    gguf: str  # path relative to the fixtures dir, or absolute
    fixture: bool
    config: dict  # expected tokenizer_config.json values


VOCABS = [
    Vocab("gpt-2", "tokenizer/ggml-vocab-gpt-2.gguf", True,
          {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": None, "add_bos_token": False,
           "add_eos_token": False, "model_max_length": 1024}),
    Vocab("llama-spm", "tokenizer/ggml-vocab-llama-spm.gguf", True,
          {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "add_bos_token": True,
           "add_eos_token": False, "model_max_length": 4096}),
    Vocab("demo", str(REPO / "models" / "tokenscope-demo.gguf"), False,
          {"bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>", "unk_token": None, "add_bos_token": True,
           "add_eos_token": False, "model_max_length": 256}),
]

# Special-token text inside ordinary text, for every vocabulary (each has some of these as control tokens).
SPECIAL_TEXTS = ["<s>Hello</s> <unk> world", "a<|endoftext|>b <|endoftext|>", "<|endoftext|>", " </s>\n<s>"]
# Runs of 1..40 spaces between letters: in llama-spm all the "▁▁..." tokens share one score (-1e9), the one place
# where SentencePiece's leftmost-first tie rule and the exported merge ranks could disagree.
SPACE_RUNS = "".join(chr(ord("a") + n % 26) + " " * n for n in range(1, 41)) + "z"


@pytest.fixture(scope="module")
def tokenizers_module():
    try:
        import tokenizers
    except ImportError:
        if running_in_ci():
            pytest.fail("PyPI package `tokenizers` missing under CI=true (python/requirements.txt pins it)")
        pytest.skip("PyPI package `tokenizers` not installed (pip install -r python/requirements.txt)")
    return tokenizers


def gguf_path(v: Vocab) -> Path:
    p = fixtures_dir() / v.gguf if v.fixture else Path(v.gguf)
    if not p.is_file():
        _missing(f"fixture ../shared/fixtures/{v.gguf}" if v.fixture else str(p))
    return p


def fixture_texts(v: Vocab) -> list[str]:
    """The .inp texts of this vocabulary (the demo model borrows the gpt-2 ones: same kind of tokenizer)."""
    rel = v.gguf if v.fixture else "tokenizer/ggml-vocab-gpt-2.gguf"
    p = fixtures_dir() / (rel + ".inp")
    if not p.is_file():
        if v.fixture:
            _missing(f"fixture ../shared/fixtures/{rel}.inp")
        if running_in_ci():
            pytest.fail(f"fixture ../shared/fixtures/{rel}.inp missing under CI=true")
        return []  # the demo model is still checked on its own texts
    text = p.read_text(encoding="utf-8")
    assert text.endswith(SEPARATOR), p
    return text[: -len(SEPARATOR)].split(SEPARATOR)


def demo_texts() -> list[str]:
    docs = (REPO / "models" / "eval.txt").read_text(encoding="utf-8").split("\n\n")
    return [(REPO / "models" / "sample.txt").read_text(encoding="utf-8"), "\n\n".join(docs[:12]), docs[-1]]


def texts_for(v: Vocab) -> list[str]:
    return fixture_texts(v) + demo_texts() + SPECIAL_TEXTS + [SPACE_RUNS]


@pytest.fixture(scope="module", params=VOCABS, ids=[v.name for v in VOCABS])
def exported(request, cli, tmp_path_factory):
    v: Vocab = request.param
    path = gguf_path(v)
    out = tmp_path_factory.mktemp(f"tok-{v.name}")
    r = run_cli(cli, "export-tokenizer", "-m", str(path), "-o", str(out))
    assert r.stderr.decode().count("\n") == 1, r.stderr  # one line saying what was written
    return v, path, out


@functools.lru_cache(maxsize=None)
def _our_ids(cli: str, path: str, text: str, no_special: bool) -> tuple[int, ...]:
    r = run_cli(cli, "tokenize", "-m", path, "-f", "-", *(["--no-special"] if no_special else []), stdin=text)
    return tuple(int(x) for x in r.stdout.decode().split())


def our_ids(cli: str, path: Path, text: str, no_special: bool) -> list[int]:
    """`tokenscope tokenize` ids (one process per text; cached, the tests share texts)."""
    return list(_our_ids(cli, str(path), text, no_special))


def mismatches(hf, cli, path, texts, no_special):
    bad = []
    for t in texts:
        ours = our_ids(cli, path, t, no_special)
        theirs = hf.encode(t, add_special_tokens=not no_special).ids
        if ours != theirs:
            i = next((k for k, (a, b) in enumerate(zip(ours, theirs)) if a != b), min(len(ours), len(theirs)))
            bad.append(f"{t[:50]!r}: first difference at token {i}:\n  tokenscope {ours[max(0, i - 3):i + 8]}\n"
                       f"  tokenizers {theirs[max(0, i - 3):i + 8]}")
    return bad


def test_tokenizers_encodes_like_tokenize(tokenizers_module, cli, exported):
    v, path, out = exported
    hf = tokenizers_module.Tokenizer.from_file(str(out / "tokenizer.json"))
    texts = texts_for(v)
    bad = mismatches(hf, cli, path, texts, no_special=False)
    assert not bad, f"{v.name}: {len(bad)} of {len(texts)} texts differ:\n" + "\n".join(bad)


def test_tokenizers_without_special_encodes_like_tokenize_no_special(tokenizers_module, cli, exported):
    v, path, out = exported
    hf = tokenizers_module.Tokenizer.from_file(str(out / "tokenizer.json"))
    hf.encode_special_tokens = True
    texts = texts_for(v)
    bad = mismatches(hf, cli, path, texts, no_special=True)
    assert not bad, f"{v.name}: {len(bad)} of {len(texts)} texts differ:\n" + "\n".join(bad)


def test_tokenizers_decodes_to_the_text(tokenizers_module, cli, exported):
    v, path, out = exported
    hf = tokenizers_module.Tokenizer.from_file(str(out / "tokenizer.json"))
    hf.encode_special_tokens = True
    for t in fixture_texts(v) + demo_texts():
        ids = our_ids(cli, path, t, no_special=True)
        assert hf.decode(ids, skip_special_tokens=False) == t, f"{v.name}: {t[:50]!r}"


def test_tokenizer_config_names_the_special_tokens_and_context(exported):
    v, path, out = exported
    cfg = json.loads((out / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert cfg["tokenizer_class"] == "PreTrainedTokenizerFast"
    for key, want in v.config.items():
        assert cfg.get(key, "<absent>") == want, f"{v.name}: {key}"
    assert "pad_token" in cfg and "chat_template" not in cfg  # none of these GGUFs has a template
    tj = json.loads((out / "tokenizer.json").read_text(encoding="utf-8"))
    assert tj["model"]["type"] == "BPE"
    specials = {a["content"]: a["id"] for a in tj["added_tokens"] if a["special"]}
    for key in ("bos_token", "eos_token", "unk_token"):
        if v.config[key] is not None:
            assert v.config[key] in specials, f"{v.name}: {key} not among the added special tokens"


def test_mongolian_vowel_separator_splits_alike(tokenizers_module, cli, tmp_path):
    """U+180E is not White_Space (Unicode >= 6.3): PCRE2's \\s took it, HF's Oniguruma and llama.cpp do not; the
    pre-tokenizer now spells \\s out as the White_Space list."""
    path = REPO / "models" / "tokenscope-demo.gguf"
    run_cli(cli, "export-tokenizer", "-m", str(path), "-o", str(tmp_path))
    hf = tokenizers_module.Tokenizer.from_file(str(tmp_path / "tokenizer.json"))
    text = "x\u180e'll go"
    assert hf.encode(text).ids == our_ids(cli, path, text, no_special=False)


# Every tokenizer.ggml.pre family src/tokenizer/pretokenizer.cpp knows (one name each).
PRE_FAMILIES = ["default", "gpt-2", "llama3", "dbrx", "qwen2", "qwen35", "deepseek-llm", "deepseek-coder",
                "deepseek-v3", "falcon", "starcoder", "tekken", "gpt-4o", "seed-coder", "bailingmoe", "bloom", "viking"]


def with_pre(gguf: bytes, pre: str) -> bytes:
    """The vocabulary-only GGUF with its tokenizer.ggml.pre string replaced (no tensors: nothing else moves)."""
    key = b"tokenizer.ggml.pre"
    i = gguf.index(key) + len(key)
    assert int.from_bytes(gguf[i:i + 4], "little") == 8  # a string
    n = int.from_bytes(gguf[i + 4:i + 12], "little")
    return gguf[:i + 4] + len(pre.encode()).to_bytes(8, "little") + pre.encode() + gguf[i + 12 + n:]


def mixed_text() -> str:
    """Seeded pieces that the pre-tokenizer regexes treat differently: case, digits, contractions, CJK, marks."""
    rng = random.Random(5)
    pieces = list("abcXYZ019 '\t\n\r.,!?<>|$/-") + [
        "\u00a0", "\u3000", "é", "ß", "Ä", "ǅ", "ⅻ", "٣", "²", "日", "本", "🦙", "\u0301", "'s", "'S", "'ll", "'LL", "  ",
        "ÀB", "Hello", "WORLD", "camelCase", "ab12345678", "\u3042", "\u30a2", "\uac00", "Ωmega", "\u2019"]
    return "".join(rng.choice(pieces) for _ in range(3000))


@pytest.mark.parametrize("pre", PRE_FAMILIES)
def test_every_pre_tokenizer_family_splits_alike(tokenizers_module, cli, tmp_path, pre):
    """The gpt-2 vocabulary under each family's regexes (Split pre-tokenizers in tokenizer.json)."""
    src = gguf_path(VOCABS[0])
    g = tmp_path / f"{pre}.gguf"
    g.write_bytes(with_pre(src.read_bytes(), pre))
    run_cli(cli, "export-tokenizer", "-m", str(g), "-o", str(tmp_path / "out"))
    hf = tokenizers_module.Tokenizer.from_file(str(tmp_path / "out" / "tokenizer.json"))
    bad = mismatches(hf, cli, g, ["\n".join(fixture_texts(VOCABS[0])), mixed_text()], no_special=False)
    assert not bad, f"pre-tokenizer {pre}:\n" + "\n".join(bad)


def gguf_string(x: str) -> bytes:
    b = x.encode()
    return len(b).to_bytes(8, "little") + b


def gguf_string_kv(key: str, value: str) -> bytes:
    return gguf_string(key) + (8).to_bytes(4, "little") + gguf_string(value)  # 8: GGUF's string type


def with_string_key(gguf: bytes, key: str, value: str) -> bytes:
    """The GGUF with one more string key, inserted first (after the 24-byte header; the key count updated)."""
    n_kv = int.from_bytes(gguf[16:24], "little") + 1
    return gguf[:16] + n_kv.to_bytes(8, "little") + gguf_string_kv(key, value) + gguf[24:]


def test_chat_template_goes_to_tokenizer_config(cli, tmp_path):
    template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}\n{% endfor %}"
    g = tmp_path / "chat.gguf"
    g.write_bytes(with_string_key(gguf_path(VOCABS[0]).read_bytes(), "tokenizer.chat_template", template))
    run_cli(cli, "export-tokenizer", "-m", str(g), "-o", str(tmp_path / "out"))
    cfg = json.loads((tmp_path / "out" / "tokenizer_config.json").read_text(encoding="utf-8"))
    assert cfg["chat_template"] == template


def write_gguf_with_tokenizer_model(path: Path, model: str) -> None:
    """A GGUF v3 file with no tensors and the one key tokenizer.ggml.model (a string)."""
    kv = gguf_string_kv("tokenizer.ggml.model", model)
    path.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + (0).to_bytes(8, "little") + (1).to_bytes(8, "little") + kv)


def test_unknown_tokenizer_model_is_a_one_line_input_error(cli, tmp_path):
    g = tmp_path / "bert.gguf"
    write_gguf_with_tokenizer_model(g, "bert")
    r = run_cli(cli, "export-tokenizer", "-m", str(g), "-o", str(tmp_path / "out"), check=False)
    err = r.stderr.decode()
    assert r.returncode == 2 and err.count("\n") == 1 and "bert" in err and "tokenizer.ggml.model" in err, err
    assert not (tmp_path / "out").exists()


def test_unwritable_directory_is_a_one_line_input_error(cli, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    path = REPO / "models" / "tokenscope-demo.gguf"
    r = run_cli(cli, "export-tokenizer", "-m", str(path), "-o", str(blocker / "sub"), check=False)
    err = r.stderr.decode()
    assert r.returncode == 2 and err.count("\n") == 1 and str(blocker / "sub") in err, err
