r"""Probabilistic structured queries (PSQ; Darwish and Oard, 2003) over an English Lucene index.

Each source token :math:`f` of the query is replaced by its English translations,
weighted by the lexical table (:mod:`optical_ir.translate.table`). Each translation is
passed through the index's own analyzer (Anserini's English analyzer: stop words, Porter
stemming). The weight of an analysed English term :math:`t` is

.. math::  w(t) = \sum_{f \in q} \sum_{e : t \in \mathrm{analyse}(e)} p(e \mid f).

A source token the table does not know is analysed as it is, with weight 1 (names and
numbers match as in untranslated BM25). The query is a Lucene ``BooleanQuery`` of
``BoostQuery(TermQuery(t), w(t))`` SHOULD clauses, built with Pyserini's ``querybuilder``
and scored with BM25; the terms are already analysed, so they are not analysed again.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from .table import TranslationTable, tokenize

Analyse = Callable[[str], list[str]]


def psq_weights(text: str, table: TranslationTable, analyse: Analyse) -> dict[str, float]:
    """Analysed English term → PSQ weight for one query in the table's language."""
    weights: dict[str, float] = defaultdict(float)
    for word in tokenize(text, table.config.lang):
        options = table.translations(word) or {word: 1.0}
        for english, p in options.items():
            for term in analyse(english):
                weights[term] += p
    return dict(weights)


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


def psq_search(topics: Sequence[tuple[str, str]], index_dir: str | os.PathLike[str], table: TranslationTable,
               hits: int = 1000, k1: float = 0.9, b: float = 0.4) -> tuple[dict[str, dict[str, float]], list[str]]:
    """PSQ BM25 search: the run and the query ids left with no terms."""
    from tqdm.auto import tqdm

    from ..search import lucene_searcher

    searcher = lucene_searcher(index_dir, k1, b)
    analyse = english_analyzer()
    run: dict[str, dict[str, float]] = {}
    empty = []
    for qid, text in tqdm(topics, desc=f"PSQ {table.config.lang}→en", unit="query"):
        weights = psq_weights(text, table, analyse)
        if not weights:
            empty.append(qid)
            continue
        run[qid] = {h.docid: float(h.score) for h in searcher.search(lucene_query(weights), k=hits)}
    return run, empty
