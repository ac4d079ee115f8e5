#!/usr/bin/env bash
# The test suite: set up, lint with ruff, check the layers with import-linter, run pytest. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/reproduce/setup.sh"
cd "$root"
ruff check optical_ir tests benchmarks reproduce
lint-imports
python -m pytest -q "$@"
