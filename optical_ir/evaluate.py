"""Evaluate TREC runs with ir-measures (MAP, nDCG@10, R@100 by default).

Every judged query of the qrels counts (0 for a query the run has no result for, as
``trec_eval -c``); see :mod:`optical_ir.evaluation`. A run whose query ids barely occur in
the qrels is reported with the counts; ``--strict`` makes that an error.

Command line::

    python -m optical_ir.evaluate --run runs/ntrex/bm25.sw.trec \\
        --qrels optical-ir/ntrex/sw-en/test [--measures AP nDCG@10 R@100] [--per-query] [--strict]
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    from .evaluation import DEFAULT_MEASURES

    parser = cli.parser("evaluate", __doc__)
    parser.add_argument("--run", nargs="+", required=True, help="TREC run file(s)")
    parser.add_argument("--qrels", required=True, help="TREC qrels file, ir_datasets id or Pyserini qrels name")
    parser.add_argument("--measures", nargs="+", default=list(DEFAULT_MEASURES), help="ir-measures names")
    parser.add_argument("--per-query", action="store_true", help="also print 'measure qid value' lines")
    parser.add_argument("--strict", action="store_true",
                        help="fail when the run's query ids barely occur in the qrels (another collection's)")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from .evaluation import evaluate, load_qrels

    qrels = load_qrels(args.qrels)
    width = max(len(Path(r).name) for r in args.run)
    for i, path in enumerate(args.run):
        ev = evaluate(path, qrels, args.measures, strict=args.strict)
        if i == 0:
            print(f"{'run':<{width}}  " + "  ".join(f"{n:>9}" for n in ev.aggregates) + "  queries")
        print(f"{Path(path).name:<{width}}  " + "  ".join(f"{v:9.4f}" for v in ev.aggregates.values())
              + f"  {ev.n_queries:7d}")
        warning = ev.overlap_warning()
        if warning:
            print(f"  warning: {path}: {warning}", file=sys.stderr)
        if ev.missing:
            print(f"  note: {len(ev.missing)} judged queries have no result in the run and score 0",
                  file=sys.stderr)
        if args.per_query:
            for name, values in ev.per_query.items():
                for qid, v in values.items():
                    print(f"{name}\t{qid}\t{v:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "evaluate"))
