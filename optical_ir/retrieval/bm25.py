"""BM25 over an English Lucene index (Anserini, through Pyserini's ``LuceneSearcher``).

Queries in any language are normalised by :mod:`optical_ir.analysis` (NFKC, case folding,
Unicode word tokens, optionally without combining marks) and then analysed like the index
(Anserini's English analyzer). Anserini's per-language analyzers are never used for
queries: it has none for most low-resource languages.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..analysis import prepare_query
from ..errors import MissingInputError
from ..trec import Run
from .base import Searcher, SearchResult, Topics


def lucene_searcher(index_dir: str | os.PathLike[str], k1: float = 0.9, b: float = 0.4) -> Any:
    """Pyserini's ``LuceneSearcher`` over ``index_dir`` with BM25(k1, b), Java 21 started first."""
    from .. import jvm

    jvm.start()
    from pyserini.search.lucene import LuceneSearcher

    if not any(Path(index_dir).glob("segments_*")):
        raise MissingInputError(f"{index_dir} is not a Lucene index; build one with python -m optical_ir.index")
    searcher = LuceneSearcher(str(index_dir))
    searcher.set_bm25(k1, b)
    return searcher


class Bm25Searcher(Searcher):
    """BM25(``k1``, ``b``) over a Lucene index for topics in language ``lang``.

    Parameters
    ----------
    index_dir
        A Lucene index (:func:`optical_ir.indexes.lucene_index`).
    lang
        Language of the topics (normalisation rules).
    threads, batch_size
        Pyserini ``batch_search`` threads and queries per call.
    strip_accents
        Drop combining marks (tone marks) from the queries.
    """

    tag = "bm25"

    def __init__(self, index_dir: str | os.PathLike[str], lang: str, k1: float = 0.9, b: float = 0.4,
                 threads: int = 2, batch_size: int = 256, strip_accents: bool = False) -> None:
        self.searcher = lucene_searcher(index_dir, k1, b)
        self.lang, self.threads, self.batch_size, self.strip_accents = lang, threads, batch_size, strip_accents

    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        from tqdm.auto import tqdm

        prepared = [(qid, prepare_query(text, self.lang, self.strip_accents)) for qid, text in topics]
        empty = [qid for qid, q in prepared if not q]
        todo = [(qid, q) for qid, q in prepared if q]
        run: Run = {}
        with tqdm(total=len(todo), desc="BM25", unit="query") as bar:
            for start in range(0, len(todo), self.batch_size):
                batch = todo[start : start + self.batch_size]
                results = self.searcher.batch_search([q for _, q in batch], [qid for qid, _ in batch],
                                                     k=k, threads=self.threads)
                for qid, _ in batch:
                    run[qid] = {h.docid: float(h.score) for h in results.get(qid, [])}
                bar.update(len(batch))
        return SearchResult(run, empty)
