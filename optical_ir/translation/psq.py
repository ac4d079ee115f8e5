r"""Probabilistic structured queries (PSQ; Darwish and Oard, 2003) over an English Lucene index.

Each source token :math:`f` of the query is replaced by its English translations,
weighted by the lexical table (:mod:`optical_ir.translation.table`). Each translation is
passed through the index's own analyzer (Anserini's English analyzer: stop words, Porter
stemming). The weight of an analysed English term :math:`t` is

.. math::  w(t) = \sum_{f \in q} \sum_{e : t \in \mathrm{analyse}(e)} p(e \mid f).

A source token the table does not know is analysed as it is, with weight 1 (names and
numbers match as in untranslated BM25). :class:`optical_ir.retrieval.psq.PsqSearcher` turns
the weights into a Lucene query scored by BM25.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable

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
