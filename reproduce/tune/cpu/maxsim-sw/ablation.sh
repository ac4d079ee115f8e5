#!/usr/bin/env bash
# The late-interaction ablation on sw with CPU students (top 4 of 12 layers trained over the
# cached frozen trunk), the settings of reproduce/tune/h100/selected.json otherwise.
# usage: bash reproduce/tune/cpu/maxsim-sw/ablation.sh OUT_DIR     (from the checkout's root)
set -euo pipefail
out="${1:?give an output directory}"; mkdir -p "$out"
source reproduce/setup.sh
common="--language sw --batch-size 16 --max-length 64 --seed 13 --train-layers 4"
python -m optical_ir.distill $common --method mse --lr 1e-4 --epochs 8 --output "$out/mse-t4-e8.sw"
for m in optical token-uniform token-position; do
  python -m optical_ir.distill $common --method "$m" --cost cosine --eps 0.05 --sentence-weight 1 \
    --epochs 6 --lr 5e-5 --output "$out/$m-t4.sw"
done
for st in mse-t4-e8 optical-t4 token-uniform-t4 token-position-t4; do
  python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --encoder "$out/$st.sw" \
    --doc-encoder multilingual-e5-small --hits 100 --output "$out/$st.dense.sw.trec.gz"
  python -m optical_ir.search --dataset optical-ir/ntrex/sw-en/test --encoder "$out/$st.sw" \
    --doc-encoder multilingual-e5-small --hits 100 --late-interaction --output "$out/$st.maxsim.sw.trec.gz"
done
python -m optical_ir.evaluate --qrels optical-ir/ntrex/sw-en/test --run "$out"/*.trec.gz
