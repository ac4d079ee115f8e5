"""Evaluators run during training: they score a student between epochs.

:class:`RetrievalMAP` is the validation of ``--validate``: the mean MAP over the languages
of the student's queries on ``optical-ir/ntrex/<xx>-en/<split>`` against the teacher's
passage vectors, with the same exact dense searcher (:class:`~optical_ir.retrieval.
ExactDenseSearcher`) that the reproduction's dense runs rank like, in memory and without
Java. The teacher's passage vectors are encoded once per process: every evaluator of a
teacher with the same weights (e.g. the candidates of a settings search, trained one
after another) reuses them (:func:`teacher_passages`).

``split="train"``: with the default ``ntrex`` bitext these queries are the training
sentences themselves, so it measures fit in the teacher's space, not test effectiveness.
``split="dev"`` with a ``holdout`` student: unseen sentences.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

#: (teacher fingerprint, dataset) -> (docids, passage vectors); the newest few are kept
_PASSAGES: OrderedDict[tuple[Any, ...], tuple[list[str], np.ndarray]] = OrderedDict()
_KEEP = 8


def fingerprint(encoder: Any) -> tuple[Any, ...]:
    """What an encoder's passage vectors depend on: its model, configuration, device, and a
    checksum of its weights (so an encoder changed in memory, e.g. a student, never matches)."""
    import torch

    params = list(encoder.model.parameters())
    if encoder.projection is not None:
        params += list(encoder.projection.parameters())
    with torch.no_grad():
        checksum = tuple(round(float(p.sum(dtype=torch.float64)), 6) for p in params)
    return encoder.path, encoder.config, str(encoder.device), params[0].dtype, checksum


def teacher_passages(teacher: Any, dataset: str) -> tuple[list[str], np.ndarray]:
    """``teacher``'s passage vectors of ``dataset`` (document ids, vectors), encoded once per
    process for the same weights."""
    from ..retrieval.dense import passage_vectors

    key = (fingerprint(teacher), dataset)
    if key not in _PASSAGES:
        _PASSAGES[key] = passage_vectors(teacher, dataset)
        while len(_PASSAGES) > _KEEP:
            _PASSAGES.popitem(last=False)
    _PASSAGES.move_to_end(key)
    return _PASSAGES[key]


class RetrievalMAP:
    """Mean MAP (ir-measures ``AP``) of a student over ``languages`` on a NTREX split."""

    def __init__(self, teacher: Any, languages: Sequence[str], split: str = "train", hits: int = 100) -> None:
        self.teacher, self.languages, self.split, self.hits = teacher, list(languages), split, hits
        self._searchers: dict[str, Any] = {}

    def dataset(self, lang: str) -> str:
        return f"optical-ir/ntrex/{lang}-en/{self.split}"

    def __call__(self, student: Any) -> float:
        from ..evaluation import evaluate
        from ..retrieval import ExactDenseSearcher
        from ..topics import dataset_queries

        scores = []
        for lang in self.languages:
            dataset = self.dataset(lang)
            if dataset not in self._searchers:
                self._searchers[dataset] = ExactDenseSearcher(self.teacher, *teacher_passages(self.teacher, dataset))
            searcher = self._searchers[dataset].with_encoder(student)
            run = searcher.batch_search(dataset_queries(dataset) or [], self.hits).run
            scores.append(evaluate(run, dataset, ["AP"]).aggregates["AP"])
        return round(sum(scores) / len(scores), 4)
