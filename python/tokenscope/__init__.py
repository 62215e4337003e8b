"""tokenscope: the next-token distribution of GGUF language models, from Python.

    import tokenscope as ts
    m = ts.Model("model.gguf", threads=2)         # or "demo", "smollm2-135m"; memory-mapped
    r = m.score(["first text", "second text"], top=5)
    r[0].logprob, r[0].rank, r[0].entropy, r[0].top_ids, r[0].summary["ppl"]
    g = m.generate("Once upon a time", max_tokens=64, samplers="min_p=0.05;temp=0.8", seed=1)
    m.tokenizer.encode("text")

Every number is the one `tokenscope score` / `generate` / `detect` print (unrounded); arrays are numpy, filled by
the C++ engine, which runs with the GIL released. Bad input raises ValueError with the CLI's one-line message.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Union

from ._core import GenerateResult, ScoreResult, Tokenizer
from ._core import Model as _CoreModel

__version__ = "0.1.0"
__all__ = ["Model", "Tokenizer", "ScoreResult", "GenerateResult", "resolve_model", "models_dir", "KNOWN_MODELS"]

# The models the CLI knows by name (apps/common.cpp known_models): name -> file in models_dir().
KNOWN_MODELS = {"smollm2-135m": "SmolLM2-135M-Instruct.Q4_1.gguf"}

_DEMO = "tokenscope-demo.gguf"


def models_dir() -> str:
    """Where scripts/fetch-models.sh puts models: $TOKENSCOPE_MODELS, else $XDG_CACHE_HOME/tokenscope, else
    ~/.cache/tokenscope (as the CLI)."""
    for var, suffix in (("TOKENSCOPE_MODELS", ""), ("XDG_CACHE_HOME", "/tokenscope")):
        v = os.environ.get(var)
        if v:
            return v + suffix
    home = os.environ.get("HOME")
    return home + "/.cache/tokenscope" if home else ".cache/tokenscope"


def _bundled_model() -> Optional[str]:
    here = Path(__file__).resolve().parent
    # installed wheel: tokenscope/models/; a source checkout: <repo>/python/tokenscope -> <repo>/models/
    for candidate in (here / "models" / _DEMO, here.parent.parent / "models" / _DEMO):
        if candidate.is_file():
            return str(candidate)
    return None


def resolve_model(model: Union[str, os.PathLike, None] = None) -> str:
    """The GGUF path for a model argument, as the CLI's -m: a path; 'demo' (the bundled 5 M-parameter model); a known
    name (KNOWN_MODELS, looked up in models_dir()); None: $TOKENSCOPE_DEMO_MODEL, else smollm2-135m when
    installed, else the bundled demo model. Raises ValueError naming what is missing."""
    given = os.fspath(model) if model is not None else ""
    if given == "demo":
        b = _bundled_model()
        if b is None:
            raise ValueError("demo: the bundled demo model models/tokenscope-demo.gguf was not found")
        return b
    if given in KNOWN_MODELS:
        path = models_dir() + "/" + KNOWN_MODELS[given]
        if not os.path.isfile(path):
            raise ValueError(f"{given}: not installed (no {path}); run scripts/fetch-models.sh")
        return path
    if given:
        return given
    env = os.environ.get("TOKENSCOPE_DEMO_MODEL")
    if env:
        if not os.path.isfile(env):
            raise ValueError(f"TOKENSCOPE_DEMO_MODEL: no such file: {env}")
        return env
    name, file = next(iter(KNOWN_MODELS.items()))
    real = models_dir() + "/" + file
    if os.path.isfile(real):
        return real
    b = _bundled_model()
    if b is None:
        raise ValueError("no model: give a GGUF path (the bundled demo model models/tokenscope-demo.gguf was not "
                         "found)")
    return b


class Model(_CoreModel):
    """A GGUF language model, loaded once and shared by every call (several Python threads may call it at
    once; each call runs its own engine threads).

    Model(model=None, threads=0): model is a GGUF path, 'demo', a known name (KNOWN_MODELS) or None for the CLI's
    default (see resolve_model); threads is the engine's thread count per call (0: all cores). precision of the
    matrix products: 'int16' (the default: 16-bit activations per block of 32 against the weights' integer codes,
    ~5e-5 of exact; F16/BF16/F32 weights compute exactly), 'exact' (fp32 activations, exact to fp32 rounding) or
    'fast' (int8 activations as llama.cpp for prompts, F16/BF16/F32 weights and activations rounded to 13 bits per
    block of 32; generation runs int16's GEMV or, for float weights, exactly). load: where the weights
    live, 'copy' (read into memory on 2 MiB huge pages at start: generation streams them faster), 'mmap' (map the
    file: starts at once, pages shared) or 'auto' (the default: copy when huge pages are on and the file is 32 MiB
    to half the available memory). Errors in the file raise ValueError with the CLI's message (file, field, value).
    """

    def __init__(self, model: Union[str, os.PathLike, None] = None, threads: int = 0,
                 precision: str = "int16", load: str = "auto") -> None:
        super().__init__(resolve_model(model), threads, precision, load)
