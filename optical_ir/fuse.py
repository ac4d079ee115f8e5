"""Fuse TREC runs (e.g. BM25 and dense) with ``pyserini.fusion``.

Methods (Pyserini's):

* ``rrf`` — reciprocal rank fusion, :math:`s(d) = \\sum_r 1 / (k + \\mathrm{rank}_r(d))`
  (Cormack et al., 2009; ``--rrf-k`` 60);
* ``interpolation`` — two runs, :math:`s(d) = \\alpha\\, s_1(d) + (1 - \\alpha)\\, s_2(d)`;
  with ``--normalize`` (the default) each run's scores are first min-max scaled per
  query, since BM25 and cosine scores live on different scales;
* ``average`` — mean score; ``normalize`` — sum of min-max scaled scores.

Command line::

    python -m optical_ir.fuse --runs runs/bm25.sw.trec runs/dense.sw.trec \\
        --output runs/fused.sw.trec [--method rrf] [--rrf-k 60] [--alpha 0.5] [--depth 1000] [--hits 1000]
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from . import cli
from .trec import Run, read_run, write_run

METHODS = ("rrf", "interpolation", "average", "normalize")


def fuse(runs: Sequence[Run], method: str = "rrf", *, rrf_k: int = 60, alpha: float = 0.5,
         normalize: bool = True, depth: int | None = None, hits: int | None = None) -> Run:
    """Fuse runs with ``pyserini.fusion``; see the module text for the methods."""
    import pandas as pd
    from pyserini import fusion
    from pyserini.trectools import RescoreMethod, TrecRun

    if method not in METHODS:
        raise ValueError(f"unknown fusion method {method!r}; choose one of {', '.join(METHODS)}")
    if len(runs) < 2:
        raise ValueError("fusion needs at least two runs")
    if method == "interpolation" and len(runs) != 2:
        raise ValueError("interpolation fuses exactly two runs")
    trec_runs = []
    for run in runs:
        rows = [(qid, "Q0", doc, rank, score, "run")
                for qid, docs in run.items()
                for rank, (doc, score) in enumerate(sorted(docs.items(), key=lambda kv: (-kv[1], kv[0])), 1)]
        trec = TrecRun()
        trec.run_data = pd.DataFrame(rows, columns=TrecRun.columns)
        trec_runs.append(trec)
    if method == "rrf":
        fused = fusion.reciprocal_rank_fusion(trec_runs, rrf_k=rrf_k, depth=depth, k=hits)
    elif method == "interpolation":
        if normalize:
            trec_runs = [r.clone().rescore(method=RescoreMethod.NORMALIZE) for r in trec_runs]
        fused = fusion.interpolation(trec_runs, alpha=alpha, depth=depth, k=hits)
    elif method == "average":
        fused = fusion.average(trec_runs, depth=depth, k=hits)
    else:
        fused = fusion.normalize(trec_runs, depth=depth, k=hits)
    out: Run = {}
    for row in fused.run_data.itertuples(index=False):
        out.setdefault(str(row.topic), {})[str(row.docid)] = float(row.score)
    return out


def fuse_files(paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], method: str = "rrf",
               run_tag: str | None = None, **kwargs: object) -> Run:
    runs = [read_run(p) for p in paths]
    fused = fuse(runs, method, **kwargs)  # type: ignore[arg-type]
    order = list(dict.fromkeys(q for r in runs for q in r))
    write_run(fused, output, run_tag or method, order)
    return fused


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("fuse", __doc__)
    parser.add_argument("--runs", nargs="+", required=True, help="TREC runs to fuse")
    parser.add_argument("--output", required=True, help="TREC run file to write")
    parser.add_argument("--method", choices=METHODS, default="rrf", help="fusion method")
    parser.add_argument("--rrf-k", type=int, default=60, help="RRF constant k")
    parser.add_argument("--alpha", type=float, default=0.5, help="interpolation weight of the first run")
    parser.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=True,
                        help="min-max scale each run before interpolation")
    parser.add_argument("--depth", type=int, default=None, help="results of each run considered (default: all)")
    parser.add_argument("--hits", type=int, default=1000, help="results per query in the output")
    parser.add_argument("--run-tag", help="tag in the run's last column (default: the method)")
    args = parser.parse_args(argv)
    if not 0.0 <= args.alpha <= 1.0:
        parser.error("--alpha must be in [0, 1]")
    fuse_files(args.runs, args.output, args.method, args.run_tag, rrf_k=args.rrf_k, alpha=args.alpha,
               normalize=args.normalize, depth=args.depth, hits=args.hits)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "fuse"))
