"""Fuse TREC runs (e.g. BM25 and dense) with ``pyserini.fusion``.

Methods (Pyserini's; :mod:`optical_ir.retrieval.fusion`):

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
from collections.abc import Sequence

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    from .retrieval.fusion import METHODS

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
    from .files import check_writable
    from .retrieval.fusion import fuse_files

    check_writable(args.output)
    fuse_files(args.runs, args.output, args.method, args.run_tag, rrf_k=args.rrf_k, alpha=args.alpha,
               normalize=args.normalize, depth=args.depth, hits=args.hits)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "fuse"))
