"""Evaluate TREC runs with ir-measures: MAP (``AP``, the headline), ``nDCG@10``, ``R@100``.

Every judged query of the qrels counts: a query the run has no result for (an empty
query, say) scores 0, as ``trec_eval -c`` would have it, and is reported. Per-query
values come from ``ir_measures.iter_calc`` and feed the significance tests.

Command line::

    python -m optical_ir.evaluate --run runs/ntrex/bm25.sw.trec \\
        --qrels optical-ir/ntrex/sw-en/test [--measures AP nDCG@10 R@100] [--per-query]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from . import cli

DEFAULT_MEASURES: tuple[str, ...] = ("AP", "nDCG@10", "R@100")


class Evaluation(NamedTuple):
    """Aggregates and per-query values of one run; measure names as ir-measures prints them."""

    aggregates: dict[str, float]
    per_query: dict[str, dict[str, float]]
    """measure name → query id → value (every judged query, 0 where the run has none)."""
    n_queries: int
    missing: list[str]
    """Judged query ids that the run has no result for (scored 0)."""


def load_qrels(qrels: str | os.PathLike[str] | Iterable) -> list:
    """Qrels from a TREC file, an ir_datasets id, a Pyserini qrels name, or ``Qrel`` tuples."""
    from ir_measures import Qrel

    from .trec import iter_qrels

    if isinstance(qrels, (str, os.PathLike)):
        if Path(qrels).is_file():
            return list(iter_qrels(qrels))
        from .collections import load

        try:
            dataset = load(str(qrels))
        except KeyError:
            return list(iter_qrels(_pyserini_qrels(str(qrels))))
        return [Qrel(q.query_id, q.doc_id, int(q.relevance)) for q in dataset.qrels_iter()]
    return [Qrel(q[0], q[1], int(q[2])) for q in qrels]


def _pyserini_qrels(name: str) -> str:
    """The qrels file of a Pyserini topic set (e.g. ``ciral-v1.0-ha-test-a``; may be downloaded)."""
    from . import jvm

    jvm.start()
    from pyserini.search import get_qrels_file

    try:
        return str(get_qrels_file(name))
    except Exception as err:  # noqa: BLE001 - Anserini raises Java exceptions
        raise ValueError(f"{name!r} is not a qrels file, an ir_datasets id, or a Pyserini qrels name it could "
                         f"load: {str(err).splitlines()[0]}") from None


def evaluate(
    run: str | os.PathLike[str] | dict[str, dict[str, float]],
    qrels: str | os.PathLike[str] | Iterable,
    measures: Sequence[str] = DEFAULT_MEASURES,
) -> Evaluation:
    """Evaluate ``run`` (a TREC file or ``{qid: {docid: score}}``) against ``qrels``.

    Parameters
    ----------
    run
        The run.
    qrels
        A TREC qrels file, an ir_datasets id, or ``(qid, docid, rel)`` tuples.
    measures
        ir-measures names, e.g. ``AP``, ``nDCG@10``, ``R@100``, ``AP(rel=2)``.
    """
    import ir_measures

    from .trec import read_run

    parsed = [ir_measures.parse_measure(m) for m in measures]
    names = [str(m) for m in parsed]
    qrel_list = load_qrels(qrels)
    judged = sorted({q.query_id for q in qrel_list if q.relevance > 0})
    if not judged:
        raise ValueError("the qrels hold no relevant judgement; nothing to evaluate")
    run_dict = read_run(run) if isinstance(run, (str, os.PathLike)) else run
    per_query: dict[str, dict[str, float]] = {n: dict.fromkeys(judged, 0.0) for n in names}
    judged_set = set(judged)
    scored = [
        ir_measures.ScoredDoc(qid, doc, float(score))
        for qid, hits in run_dict.items() if qid in judged_set
        for doc, score in hits.items()
    ]
    for m in ir_measures.iter_calc(parsed, qrel_list, scored):
        if m.query_id in judged_set:
            per_query[str(m.measure)][m.query_id] = float(m.value)
    aggregates = {n: sum(v.values()) / len(v) for n, v in per_query.items()}
    missing = [q for q in judged if not run_dict.get(q)]
    return Evaluation(aggregates, per_query, len(judged), missing)


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("evaluate", __doc__)
    parser.add_argument("--run", nargs="+", required=True, help="TREC run file(s)")
    parser.add_argument("--qrels", required=True, help="TREC qrels file or ir_datasets id")
    parser.add_argument("--measures", nargs="+", default=list(DEFAULT_MEASURES), help="ir-measures names")
    parser.add_argument("--per-query", action="store_true", help="also print 'measure qid value' lines")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    qrels = load_qrels(args.qrels)
    width = max(len(Path(r).name) for r in args.run)
    for i, path in enumerate(args.run):
        ev = evaluate(path, qrels, args.measures)
        if i == 0:
            print(f"{'run':<{width}}  " + "  ".join(f"{n:>9}" for n in ev.aggregates) + "  queries")
        print(f"{Path(path).name:<{width}}  " + "  ".join(f"{v:9.4f}" for v in ev.aggregates.values())
              + f"  {ev.n_queries:7d}")
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
