r"""Probabilistic structured queries (PSQ; Darwish and Oard, 2003) as Lucene queries, scored by BM25.

The weights :math:`w(t)` of the analysed English terms come from the lexical table
(:func:`optical_ir.translation.psq.psq_weights`). The query is a Lucene ``BooleanQuery`` of
``BoostQuery(TermQuery(t), w(t))`` SHOULD clauses, built with Pyserini's ``querybuilder``;
the terms are already analysed by the index's analyzer, so they are not analysed again.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from ..translation.psq import psq_weights
from ..translation.table import TranslationTable
from .base import Searcher, SearchResult, Topics
from .bm25 import lucene_searcher

Analyse = Callable[[str], list[str]]


def english_analyzer() -> Analyse:
    """The index's analyzer (Anserini's default English analyzer), memoised per word."""
    from .. import jvm

    jvm.start()
    from pyserini.analysis import Analyzer, get_lucene_analyzer

    analyzer = Analyzer(get_lucene_analyzer())
    memo: dict[str, list[str]] = {}

    def analyse(word: str) -> list[str]:
        if word not in memo:
            memo[word] = list(analyzer.analyze(word))
        return memo[word]

    return analyse


def lucene_query(weights: dict[str, float], field: str = "contents") -> Any:
    """A BooleanQuery of boosted TermQuery SHOULD clauses (terms already analysed)."""
    from pyserini.search.lucene import querybuilder as qb

    builder = qb.get_boolean_query_builder()
    for term, w in sorted(weights.items()):
        clause = qb.get_boost_query(qb.JTermQuery(qb.JTerm(field, term)), float(w))
        builder.add(clause, qb.JBooleanClauseOccur.should.value)
    return builder.build()


class PsqSearcher(Searcher):
    """PSQ with ``table`` over a Lucene index, BM25(``k1``, ``b``)."""

    tag = "bm25-psq"

    def __init__(self, index_dir: str | os.PathLike[str], table: TranslationTable, k1: float = 0.9,
                 b: float = 0.4) -> None:
        self.searcher = lucene_searcher(index_dir, k1, b)
        self.table = table
        self.analyse = english_analyzer()

    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        from tqdm.auto import tqdm

        run: dict[str, dict[str, float]] = {}
        empty = []
        for qid, text in tqdm(topics, desc=f"PSQ {self.table.config.lang}→en", unit="query"):
            weights = psq_weights(text, self.table, self.analyse)
            if not weights:
                empty.append(qid)
                continue
            run[qid] = {h.docid: float(h.score) for h in self.searcher.search(lucene_query(weights), k=k)}
        return SearchResult(run, empty)
