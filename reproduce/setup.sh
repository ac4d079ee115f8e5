#!/usr/bin/env bash
# Create (once) the virtual environment .venv and install optical_ir into it.
# Sourced by reproduce/run.sh and tests/run.sh; a rerun with an unchanged pyproject.toml
# installs nothing. torch is installed first so that pip takes the CPU wheel 2.13.0;
# set OPTICAL_IR_TORCH (e.g. "torch --index-url https://download.pytorch.org/whl/cu124")
# to install another build instead.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${OPTICAL_IR_VENV:-$root/.venv}"
stamp="$venv/.optical_ir-installed"
want="$(cat "$root/pyproject.toml" | md5sum | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ]; then
  python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  # shellcheck disable=SC2086
  "$venv/bin/python" -m pip install --quiet ${OPTICAL_IR_TORCH:-torch==2.13.0}
  "$venv/bin/python" -m pip install --quiet -e "$root[test]"
  echo "$want" > "$stamp"
fi
# the public-data mirror: ../shared/data beside the checkout, unless OPTICAL_IR_MIRROR is set
if [ -z "${OPTICAL_IR_MIRROR:-}" ] && [ -d "$root/../shared/data" ]; then
  export OPTICAL_IR_MIRROR="$(cd "$root/../shared/data" && pwd)"
fi
export PATH="$venv/bin:$PATH"
