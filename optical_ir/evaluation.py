"""Evaluate TREC runs with ir-measures: MAP (``AP``, the headline), ``nDCG@10``, ``R@100``.

Every judged query of the qrels counts: a query the run has no result for (an empty
query, say) scores 0, as ``trec_eval -c`` would have it, and is reported. Per-query
values come from ``ir_measures.iter_calc`` and feed the significance tests. A run whose
query ids barely occur in the qrels (those of another collection, most likely) is
reported with the counts, or refused with ``strict``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import NamedTuple

from .errors import ConfigError, MismatchError, UnknownNameError

DEFAULT_MEASURES: tuple[str, ...] = ("AP", "nDCG@10", "R@100")


class Evaluation(NamedTuple):
    """Aggregates and per-query values of one run; measure names as ir-measures prints them."""

    aggregates: dict[str, float]
    per_query: dict[str, dict[str, float]]
    """measure name → query id → value (every judged query, 0 where the run has none)."""
    n_queries: int
    missing: list[str]
    """Judged query ids that the run has no result for (scored 0)."""
    run_queries: int = 0
    """Query ids in the run."""
    shared: int = 0
    """Query ids in both the run and the judged queries of the qrels."""

    def overlap_warning(self) -> str | None:
        """Why the run and the qrels may not belong together, with the counts; ``None`` if they do."""
        if self.run_queries and self.shared == 0:
            return (f"none of the run's {self.run_queries} query ids occur among the {self.n_queries} judged queries "
                    f"of the qrels: are they the qrels of another collection?")
        if self.run_queries and self.shared < 0.5 * min(self.run_queries, self.n_queries):
            return (f"only {self.shared} of the run's {self.run_queries} query ids occur among the {self.n_queries} "
                    f"judged queries of the qrels")
        return None


def load_qrels(qrels: str | os.PathLike[str] | Iterable) -> list:
    """Qrels from a TREC file, an ir_datasets id, a Pyserini qrels name, or ``Qrel`` tuples."""
    from ir_measures import Qrel

    from .trec import read_qrels

    if isinstance(qrels, (str, os.PathLike)):
        if Path(qrels).is_file():
            return read_qrels(qrels)
        from .collections import load

        try:
            dataset = load(str(qrels))
        except UnknownNameError:
            return read_qrels(_pyserini_qrels(str(qrels)))
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
        raise ConfigError(f"{name!r} is not a qrels file, an ir_datasets id, or a Pyserini qrels name it could "
                         f"load: {str(err).splitlines()[0]}") from None


def parse_measures(measures: Sequence[str]) -> list:
    """ir-measures measure objects of ``measures``; :class:`ConfigError` for a name it does not know."""
    import ir_measures

    parsed = []
    for m in measures:
        try:
            parsed.append(ir_measures.parse_measure(m))
        except (NameError, ValueError, SyntaxError, TypeError) as err:
            raise ConfigError(f"{m!r} is not an ir-measures measure (e.g. AP, nDCG@10, R@100): {err}") from None
    return parsed


def evaluate(
    run: str | os.PathLike[str] | dict[str, dict[str, float]],
    qrels: str | os.PathLike[str] | Iterable,
    measures: Sequence[str] = DEFAULT_MEASURES,
    strict: bool = False,
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
    strict
        Raise :class:`~optical_ir.errors.MismatchError` instead of returning when the run's
        query ids barely occur in the qrels (:meth:`Evaluation.overlap_warning`).
    """
    import ir_measures

    from .trec import read_run

    parsed = parse_measures(measures)
    names = [str(m) for m in parsed]
    qrel_list = load_qrels(qrels)
    judged = sorted({q.query_id for q in qrel_list if q.relevance > 0})
    if not judged:
        raise MismatchError("the qrels hold no relevant judgement; nothing to evaluate")
    run_dict = read_run(run) if isinstance(run, (str, os.PathLike)) else run
    per_query: dict[str, dict[str, float]] = {n: dict.fromkeys(judged, 0.0) for n in names}
    judged_set = set(judged)
    # ir-measures takes the run as {qid: {docid: score}} as it is (no record per document)
    scored = {qid: {doc: float(score) for doc, score in hits.items()}
              for qid, hits in run_dict.items() if qid in judged_set and hits}
    for m in ir_measures.iter_calc(parsed, qrel_list, scored):
        if m.query_id in judged_set:
            per_query[str(m.measure)][m.query_id] = float(m.value)
    aggregates = {n: sum(v.values()) / len(v) for n, v in per_query.items()}
    missing = [q for q in judged if not run_dict.get(q)]
    ev = Evaluation(aggregates, per_query, len(judged), missing, len(run_dict), len(judged_set & set(run_dict)))
    warning = ev.overlap_warning()
    if strict and warning:
        raise MismatchError(f"{run if isinstance(run, (str, os.PathLike)) else 'the run'}: {warning}")
    return ev
