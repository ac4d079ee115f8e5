"""The searcher interface: topics in, a run out.

Every retrieval kind of the toolkit — BM25 (:mod:`.bm25`), PSQ (:mod:`.psq`), dense search
over a FAISS index or over vectors in memory (:mod:`.dense`), late reranking of a first
stage (:mod:`.rerank`) and fusion (:mod:`.fusion`) — is a :class:`Searcher`, with
``search`` and ``batch_search`` like Pyserini's searchers. The command line
(``python -m optical_ir.search``), the settings search and the validation during training
call the same searchers, so a condition has one value wherever it is shown.

A topic whose text is empty (or has no words left after normalisation) gets no results;
:class:`SearchResult` lists it, and :func:`write_result` reports it (it scores 0 in
evaluation, like ``trec_eval -c``).
"""

from __future__ import annotations

import os
import sys
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import NamedTuple

from ..trec import Run, write_run

Topics = Sequence[tuple[str, str]]


class SearchResult(NamedTuple):
    run: Run
    """query id → document id → score."""
    empty: list[str]
    """Query ids with no text (or no words left after normalisation): no results."""


class Searcher(ABC):
    """Retrieves English documents for topics in some language.

    Subclasses implement :meth:`batch_search`; :attr:`tag` is the default run tag.
    """

    tag: str = "run"

    @abstractmethod
    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        """The top ``k`` documents of every topic ``(qid, text)``."""

    def search(self, query: str, k: int = 1000) -> dict[str, float]:
        """The top ``k`` documents of one query, as document id → score."""
        return self.batch_search([("q", query)], k).run.get("q", {})


def report_empty(empty: Sequence[str]) -> None:
    if empty:
        shown = ", ".join(empty[:10]) + (" …" if len(empty) > 10 else "")
        print(f"warning: {len(empty)} empty queries (no words after normalisation) get no "
              f"results: {shown}", file=sys.stderr)


def write_result(result: SearchResult, topics: Topics, output: str | os.PathLike[str], tag: str) -> None:
    """Report the empty queries and write the run, queries in the order of ``topics``."""
    report_empty(result.empty)
    write_run(result.run, output, tag, [qid for qid, _ in topics])
