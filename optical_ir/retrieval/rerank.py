r"""Late reranking: a first stage's top documents rescored by a bi-encoder's inner product.

Each query's top ``depth`` first-stage documents are rescored by :math:`\langle q, d\rangle`,
the query vector from ``encoder`` (its query side) and the document vectors from a FAISS
index (the teacher's passage side) or given in memory. A query without first-stage results
stays without results: reranking cannot recover what the first stage missed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np

from ..encoders import DenseEncoder
from ..errors import MismatchError
from ..topics import split_empty
from ..trec import Run, sorted_hits
from .base import Searcher, SearchResult, Topics


def first_stage_run(first_stage: Run | Searcher, topics: Topics, depth: int) -> Run:
    """The first stage as a run: the run given, or the searcher's top ``depth`` of ``topics``."""
    return first_stage.batch_search(topics, depth).run if isinstance(first_stage, Searcher) else first_stage


def first_stage_docs(first_stage: Run, qid: str, depth: int, known: Mapping[str, int], where: str) -> list[str]:
    """The top ``depth`` documents of query ``qid`` in ``first_stage``, best first.

    Raises
    ------
    MismatchError
        If one of them is not in ``known`` (the documents of the index at ``where``): the
        run and the index are of different collections.
    """
    ranked = [d for d, _ in sorted_hits(first_stage.get(qid, {}))[:depth]]
    missing = [d for d in ranked if d not in known]
    if missing:
        raise MismatchError(f"query {qid}: documents {missing[:3]} of the first-stage run are not in "
                            f"{where}; the run and the index are of different collections")
    return ranked


class RerankSearcher(Searcher):
    """Rerank ``first_stage`` (a run, or a searcher run on the same topics) with ``encoder``.

    Parameters
    ----------
    first_stage
        A run (``{qid: {docid: score}}``) or a :class:`Searcher` asked for ``depth`` hits.
    encoder
        The query encoder.
    docids, vectors
        The document vectors (``vectors[i]`` of ``docids[i]``).
    depth
        First-stage documents reranked per query.
    """

    tag = "rerank"

    def __init__(self, first_stage: Run | Searcher, encoder: DenseEncoder, docids: Sequence[str],
                 vectors: np.ndarray, depth: int = 100, batch_size: int = 64,
                 where: str = "the document vectors") -> None:
        self.first_stage, self.encoder, self.depth, self.batch_size = first_stage, encoder, depth, batch_size
        self.row = {d: i for i, d in enumerate(docids)}
        self.vectors, self.where = vectors, where

    @classmethod
    def from_index(cls, first_stage: Run | Searcher, index_dir: str | os.PathLike[str], encoder: DenseEncoder,
                   doc_encoder: DenseEncoder | None = None, depth: int = 100, batch_size: int = 64) -> RerankSearcher:
        """Document vectors read back from a flat FAISS index (checked against ``encoder``)."""
        from ..indexes.faiss import check_index, index_vectors

        check_index(index_dir, encoder, doc_encoder)
        docids, vectors = index_vectors(index_dir)
        return cls(first_stage, encoder, docids, vectors, depth, batch_size, where=str(index_dir))

    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        todo, empty = split_empty(topics)
        stage1 = first_stage_run(self.first_stage, topics, self.depth)
        todo = [(qid, text) for qid, text in todo if stage1.get(qid)]
        queries = (self.encoder.encode([t for _, t in todo], "query", batch_size=self.batch_size, progress=True)
                   if todo else None)
        return SearchResult(self.rerank_vectors(stage1, [q for q, _ in todo], queries, k), empty)

    def rerank_vectors(self, first_stage: Run, qids: Sequence[str], queries: np.ndarray | None,
                       k: int | None = None) -> Run:
        """Rerank with query vectors given: ``queries[i]`` belongs to ``qids[i]``."""
        run: Run = {}
        for n, qid in enumerate(qids):
            cand = first_stage_docs(first_stage, qid, self.depth, self.row, self.where)
            if not cand:
                continue
            scores = self.vectors[[self.row[d] for d in cand]] @ queries[n]  # type: ignore[index]
            hits = {d: float(s) for d, s in zip(cand, scores, strict=True)}
            run[qid] = dict(sorted_hits(hits)[:k]) if k is not None and k < len(hits) else hits
        return run
