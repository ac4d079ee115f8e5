r"""Late interaction: a query's token vectors against every passage's token vectors (MaxSim).

With the content-token vectors :math:`\hat q_1, \dots, \hat q_m` of a query (from the query
encoder, each of unit length) and :math:`\hat d_1, \dots, \hat d_n` of a passage (from a
token index, :mod:`optical_ir.indexes.tokens`), the score is ColBERT's MaxSim (Khattab and
Zaharia, SIGIR 2020), averaged over the query's tokens, plus optionally the pooled score:

.. math:: s(q, d) = \frac{1}{m} \sum_{i=1}^{m} \max_{1 \le j \le n} \langle \hat q_i, \hat d_j \rangle
          \; + \; \lambda \, \langle \bar q, \bar d \rangle

(the mean instead of ColBERT's sum ranks the same for :math:`\lambda = 0` and keeps both
terms on the cosine scale). This is the mode OPTICAL's token alignment is built for: a
student trained to put its token vectors where the teacher puts the English tokens is
scored by those token vectors, as ColBERT-X scores a multilingual query.

:class:`LateInteractionSearcher` is a first stage over the whole token index (candidates:
the passages of the ``token_candidates`` nearest passage tokens of each query token, by
exact FAISS search, then exact MaxSim over them, as ColBERT's end-to-end retrieval) or a
reranker of any first-stage run (``first_stage``). ColBERT's own code and PLAID are not
used: no ColBERT weights exist offline, this index is a few thousand passages, and the
students are ordinary bi-encoders whose token vectors need no compression model.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..encoders import DenseEncoder
from ..topics import split_empty
from ..trec import Run, sorted_hits
from .base import Searcher, SearchResult, Topics
from .rerank import first_stage_docs, first_stage_run

if TYPE_CHECKING:
    from ..indexes.tokens import TokenIndex


def maxsim(query: np.ndarray, tokens: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    r"""Mean MaxSim of one query against passages whose token vectors are stacked.

    .. math:: s(q, d) = \frac{1}{m} \sum_{i=1}^{m} \max_{j} \langle \hat q_i, \hat d_j \rangle

    Parameters
    ----------
    query
        ``(m, dim)`` the query's token vectors.
    tokens
        ``(sum(lengths), dim)`` the passages' token vectors, passage after passage.
    lengths
        ``(n_passages,)`` tokens of each passage, every one positive.

    Returns
    -------
    np.ndarray
        ``(n_passages,)`` float32 scores.

    Examples
    --------
    >>> q = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> d = np.array([[1.0, 0.0], [0.6, 0.8], [0.0, 1.0]])
    >>> maxsim(q, d, np.array([2, 1])).round(2).tolist()
    [0.9, 0.5]
    """
    if not len(lengths):
        return np.zeros(0, dtype=np.float32)
    if (lengths <= 0).any():
        raise ValueError("every passage needs at least one token vector")
    sims = np.asarray(tokens, dtype=np.float32) @ np.asarray(query, dtype=np.float32).T  # (N, m)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    return np.maximum.reduceat(sims, starts, axis=0).mean(axis=1)


class LateInteractionSearcher(Searcher):
    """MaxSim of ``encoder``'s query tokens against a token index, as a first stage or a reranker.

    Parameters
    ----------
    encoder
        The query encoder (a student, or the model that made the index).
    index
        The passages' token vectors (:class:`~optical_ir.indexes.tokens.TokenIndex`).
    first_stage
        A run or a :class:`Searcher` whose top ``depth`` passages are rescored; ``None``:
        search the whole token index.
    depth
        First-stage passages rescored per query.
    token_candidates
        Without a first stage: nearest passage tokens taken per query token; their
        passages (and, with ``pooled_weight``, the same number of passages by the pooled
        score) are scored exactly.
    pooled_weight
        :math:`\\lambda`, the weight of the pooled inner product added to MaxSim.
    """

    def __init__(self, encoder: DenseEncoder, index: TokenIndex, first_stage: Run | Searcher | None = None,
                 depth: int = 100, token_candidates: int = 64, pooled_weight: float = 0.0,
                 batch_size: int = 64) -> None:
        if depth < 1 or token_candidates < 1:
            raise ValueError("depth and token_candidates must be positive")
        self.encoder, self.index, self.first_stage = encoder, index, first_stage
        self.depth, self.token_candidates, self.pooled_weight = depth, token_candidates, pooled_weight
        self.batch_size = batch_size
        self.tag = "maxsim" if first_stage is None else "maxsim-rerank"

    @classmethod
    def from_index(cls, index_dir: str | os.PathLike[str], encoder: DenseEncoder,
                   doc_encoder: DenseEncoder | None = None, **options: object) -> LateInteractionSearcher:
        """A token index on disk, checked against ``encoder`` (and ``doc_encoder``, the model
        that made it, when the query encoder is a student of it)."""
        from ..indexes.faiss import check_index
        from ..indexes.tokens import TokenIndex

        check_index(index_dir, encoder, doc_encoder, kind="tokens")
        return cls(encoder, TokenIndex(index_dir), **options)  # type: ignore[arg-type]

    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        todo, empty = split_empty(topics)
        stage1 = None if self.first_stage is None else first_stage_run(self.first_stage, topics, self.depth)
        if stage1 is not None:
            todo = [(qid, text) for qid, text in todo if stage1.get(qid)]
        tokens, pooled = self.encoder.encode_tokens([t for _, t in todo], "query", self.batch_size, progress=True)
        return SearchResult(self.search_tokens([q for q, _ in todo], tokens, pooled, k, stage1), empty)

    def search_tokens(self, qids: Sequence[str], tokens: Sequence[np.ndarray], pooled: np.ndarray, k: int = 1000,
                      stage1: Run | None = None) -> Run:
        """The top ``k`` of queries already encoded (``tokens[i]``, ``pooled[i]``: those of
        ``qids[i]``, as :meth:`DenseEncoder.encode_tokens` returns them).

        For a caller that also needs the pooled vectors (a dense run of the same queries:
        :meth:`~optical_ir.retrieval.dense.ExactDenseSearcher.search_vectors`), so that the
        queries are encoded once. ``stage1``: the first-stage run to rescore (a reranker);
        ``None`` searches the whole token index.
        """
        if len(tokens) != len(qids) or len(pooled) != len(qids):
            raise ValueError("need the token vectors and the pooled vector of every query id")
        if stage1 is not None:
            row, where = self.index.row, str(self.index.path)
            candidates = [np.asarray([row[d] for d in first_stage_docs(stage1, qid, self.depth, row, where)],
                                     dtype=np.int64) for qid in qids]
        else:
            candidates = self.index.nearest_docs(tokens, self.token_candidates)
            if self.pooled_weight:
                by_pooled = self._pooled_top(pooled, self.token_candidates)
                candidates = [np.union1d(c, p) for c, p in zip(candidates, by_pooled, strict=True)]
        run: Run = {}
        for qid, q_tokens, q_pooled, docs in zip(qids, tokens, pooled, candidates, strict=True):
            if not len(docs):
                continue
            scores = self.score(q_tokens, q_pooled, docs)
            hits = {self.index.docids[d]: float(s) for d, s in zip(docs, scores, strict=True)}
            run[qid] = dict(sorted_hits(hits)[:k])
        return run

    def score(self, query_tokens: np.ndarray, query_pooled: np.ndarray, docs: np.ndarray) -> np.ndarray:
        """:math:`s(q, d)` of one query for the passages at positions ``docs`` of the index (a
        passage without tokens scores 0 on the MaxSim term)."""
        offsets = self.index.offsets
        lengths = offsets[docs + 1] - offsets[docs]
        scores = np.zeros(len(docs), dtype=np.float32)
        has = lengths > 0
        if len(query_tokens) and has.any():
            lens = lengths[has]
            first = offsets[docs[has]]
            local = np.concatenate([[0], np.cumsum(lens)[:-1]])
            rows = np.repeat(first - local, lens) + np.arange(int(lens.sum()))
            scores[has] = maxsim(query_tokens, self.index.token_vectors(rows), lens)
        if self.pooled_weight:
            scores += self.pooled_weight * (self.index.pooled[docs].astype(np.float32) @ query_pooled)
        return scores

    def _pooled_top(self, pooled: np.ndarray, k: int) -> list[np.ndarray]:
        if not len(pooled):
            return []
        scores = np.asarray(pooled, dtype=np.float32) @ self.index.pooled.astype(np.float32).T
        k = min(k, scores.shape[1])
        return [np.sort(row) for row in np.argpartition(-scores, k - 1, axis=1)[:, :k]]

