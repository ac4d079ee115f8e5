#!/usr/bin/env bash
# The test suite: set up, lint with ruff, run pytest. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/reproduce/setup.sh"
cd "$root"
ruff check optical_ir tests benchmarks reproduce
python -m pytest -q "$@"
