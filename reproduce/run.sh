#!/usr/bin/env bash
# The main job: set up, export the qrels, regenerate the TREC runs and MAP tables of
# reproduce/conditions.yaml into runs/ (finished runs are skipped), and check them
# against the expected scores; then the same for the robustness runs of
# reproduce/robustness.yaml (clean and perturbed queries) into runs/robustness/, and the
# adversarial, augmented and hybrid-batch students of reproduce/training.yaml into
# runs/training/, the Tatoeba sentence retrieval of reproduce/tatoeba.yaml (110 languages)
# into runs/tatoeba/, and the model-size scaling students of reproduce/scaling.yaml into
# runs/scaling/ (all committed: a clone evaluates and checks them; from scratch the
# students train on the CPU, docs/training.md and docs/scaling.md have the times).
# Extra arguments go to both `python -m optical_ir.reproduce` calls.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/reproduce/setup.sh"
cd "$root"
python -m optical_ir.export_qrels --output-dir qrels
python -m optical_ir.reproduce --config reproduce/conditions.yaml --runs-dir runs --check "$@"
python -m optical_ir.reproduce --config reproduce/robustness.yaml --runs-dir runs/robustness --check "$@"
python -m optical_ir.reproduce --config reproduce/training.yaml --runs-dir runs/training --check "$@"
python -m optical_ir.reproduce --config reproduce/tatoeba.yaml --runs-dir runs/tatoeba --check "$@"
python -m optical_ir.reproduce --config reproduce/scaling.yaml --runs-dir runs/scaling --check "$@"
