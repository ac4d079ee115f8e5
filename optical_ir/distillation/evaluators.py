"""Evaluators run during training: they score a student between epochs.

:class:`RetrievalMAP` is the validation of ``--validate``: the mean MAP over the languages
of the student's queries on ``optical-ir/ntrex/<xx>-en/<split>`` against the teacher's
passage vectors, with the same exact dense searcher (:class:`~optical_ir.retrieval.
ExactDenseSearcher`) that the reproduction's dense runs rank like, in memory and without
Java. The teacher's passage vectors are encoded once per process: every evaluator of a
teacher with the same weights (e.g. the candidates of a settings search, trained one
after another) reuses them (:func:`optical_ir.retrieval.dense.passage_vectors`).

``split="train"``: with the default ``ntrex`` bitext these queries are the training
sentences themselves, so it measures fit in the teacher's space, not test effectiveness.
``split="dev"`` with a ``holdout`` student: unseen sentences.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class RetrievalMAP:
    """Mean MAP (ir-measures ``AP``) of a student over ``languages`` on a NTREX split."""

    def __init__(self, teacher: Any, languages: Sequence[str], split: str = "train", hits: int = 100) -> None:
        self.teacher, self.languages, self.split, self.hits = teacher, list(languages), split, hits
        # the teacher stays fixed: its passages are looked up once a dataset, not per call
        # (the process cache's key checksums the weights, 0.5 s for me5-small)
        self._passages: dict[str, tuple[list[str], Any]] = {}

    def dataset(self, lang: str) -> str:
        return f"optical-ir/ntrex/{lang}-en/{self.split}"

    def __call__(self, student: Any) -> float:
        from ..evaluation import evaluate
        from ..retrieval import ExactDenseSearcher
        from ..retrieval.dense import passage_vectors
        from ..topics import dataset_queries

        scores = []
        for lang in self.languages:
            dataset = self.dataset(lang)
            if dataset not in self._passages:
                self._passages[dataset] = passage_vectors(self.teacher, dataset)
            searcher = ExactDenseSearcher(student, *self._passages[dataset])
            run = searcher.batch_search(dataset_queries(dataset) or [], self.hits).run
            scores.append(evaluate(run, dataset, ["AP"]).aggregates["AP"])
        return round(sum(scores) / len(scores), 4)
