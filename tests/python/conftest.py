"""Shared fixtures of the Python tests: the fixture model under ../shared/fixtures and the tokenscope CLI binary.

Golden tests need ../shared/fixtures (or $TOKENSCOPE_FIXTURES) and the CLI ($TOKENSCOPE_CLI, else build/tokenscope).
Where one is missing they skip with a visible reason; under CI=true (or 1) they fail, as the C++ golden tests do.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def running_in_ci() -> bool:
    return os.environ.get("CI") in ("true", "1")


def _missing(what: str) -> None:
    if running_in_ci():
        pytest.fail(f"{what} missing under CI=true")
    pytest.skip(f"{what} not found (skipping golden test)")


def fixtures_dir() -> Path:
    env = os.environ.get("TOKENSCOPE_FIXTURES")
    return Path(env) if env else (REPO / ".." / "shared" / "fixtures").resolve()


@pytest.fixture(scope="session")
def fixture_model() -> str:
    p = fixtures_dir() / "models" / "tiny-llama-spm-Q8_0.gguf"
    if not p.is_file():
        _missing(f"fixture ../shared/fixtures/models/{p.name}")
    return str(p)


@pytest.fixture(scope="session")
def fixture_model_f16() -> str:
    p = fixtures_dir() / "models" / "tiny-llama-spm-F16.gguf"
    if not p.is_file():
        _missing(f"fixture ../shared/fixtures/models/{p.name}")
    return str(p)


@pytest.fixture(scope="session")
def reference_docs() -> list:
    p = fixtures_dir() / "reference" / "tiny-llama-spm.json"
    if not p.is_file():
        _missing("fixture ../shared/fixtures/reference/tiny-llama-spm.json")
    return json.loads(p.read_text())["docs"]


@pytest.fixture(scope="session")
def cli() -> str:
    env = os.environ.get("TOKENSCOPE_CLI")
    p = Path(env) if env else REPO / "build" / "tokenscope"
    if not p.is_file():
        _missing(f"the tokenscope CLI {p} (build it, or set TOKENSCOPE_CLI)")
    return str(p)


def run_cli(cli: str, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
    r = subprocess.run([cli, *args], input=stdin.encode() if stdin is not None else None, capture_output=True,
                       timeout=600)
    if check and r.returncode != 0:
        raise AssertionError(f"{cli} {' '.join(args)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
    return r


def jsonl(out: bytes) -> list:
    return [json.loads(line) for line in out.decode().splitlines() if line.strip()]


def round6(x: float) -> float:
    """The CLI's round6 (apps/common.cpp): std::round(x * 1e6) / 1e6, half away from zero."""
    if x != x or x in (float("inf"), float("-inf")):
        return x
    y = abs(x * 1e6)
    r = math.floor(y)
    if y - r >= 0.5:  # exact: y and floor(y) are close doubles
        r += 1
    return math.copysign(r, x) / 1e6


def round_sig(x: float) -> float:
    """The CLI's round_sig (apps/documents.cpp): %.10g."""
    if x != x or x in (float("inf"), float("-inf")) or x == 0:
        return x
    return float(f"{x:.10g}")
