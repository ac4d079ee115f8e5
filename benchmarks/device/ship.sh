#!/usr/bin/env bash
# Here: build .dev/ship, what a lent GPU machine (Python 3.12, torch, transformers; no network,
# no ../shared) needs to train and test students: the packed model and data (pack.py), the
# BM25 first-stage runs, and the pure-Python packages it lacks (ir_datasets, ir_measures with
# pytrec_eval, and POT without its 174 MB BSP extension). Under 40 MiB, to travel with `carry`.
# There: `source benchmarks/device/setup.sh`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
source reproduce/setup.sh
work=.dev/work
rm -rf "$work" .dev/ship && mkdir -p "$work/bm25" .dev/ship
python benchmarks/device/pack.py pack --output "$work/pack" "$@"
for l in sw so ha yo de fr zh; do gzip -9 -n -c "runs/ntrex/bm25.$l.trec" > "$work/bm25/bm25.$l.trec.gz"; done
plat=(--python-version 3.12 --implementation cp --only-binary=:all: --no-deps)
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_24_x86_64 manylinux_2_17_x86_64; do
  plat+=(--platform "$p")
done
python -m pip install -q "${plat[@]}" --target "$work/pysite" ir_datasets==0.6.3 ir_measures==0.4.3 \
  pytrec-eval-terrier==0.5.11 POT==0.9.7.post1
rm -f "$work"/pysite/ot/bsp/bsp_wrap*.so
printf '%s\n' '# POT without its BSP extension (unused here)' \
  'def bsp_solve_c(*args, **kwargs):' '    raise ImportError("left out of this copy")' '' \
  'merge_bijections_c = bsp_solve_c' > "$work/pysite/ot/bsp/bsp_wrap.py"
mv "$work"/pack/*.npz .dev/ship/
tar -C "$work" -cJf .dev/ship/bundle.tar.xz pysite pack bm25
du -sh .dev/ship
