"""Retrieval behind one interface: a :class:`Searcher` takes topics and returns a run.

================================  ==============================================================
searcher                          what
================================  ==============================================================
:class:`Bm25Searcher`             BM25 over a Lucene index (Anserini), queries normalised first
:class:`PsqSearcher`              probabilistic structured queries from a lexical table, BM25
:class:`FaissDenseSearcher`       Pyserini's ``FaissSearcher`` with the toolkit's query encoder
:class:`ExactDenseSearcher`       the same exact inner-product search over vectors in memory
:class:`RerankSearcher`           a first stage's top documents rescored by a bi-encoder
:class:`LateInteractionSearcher`  MaxSim of query tokens against a token index (first stage or rerank)
:class:`FusionSearcher`           RRF / interpolation / average of other searchers (``pyserini.fusion``)
================================  ==============================================================

Indexes come from :mod:`optical_ir.indexes` (the one place that resolves or builds them),
topics from :mod:`optical_ir.topics`.
"""

from .base import Searcher, SearchResult, report_empty, write_result
from .bm25 import Bm25Searcher
from .dense import ExactDenseSearcher, FaissDenseSearcher
from .fusion import FusionSearcher, fuse, fuse_files
from .late import LateInteractionSearcher, maxsim
from .psq import PsqSearcher
from .rerank import RerankSearcher

__all__ = ["Bm25Searcher", "ExactDenseSearcher", "FaissDenseSearcher", "FusionSearcher", "LateInteractionSearcher",
           "PsqSearcher", "RerankSearcher", "SearchResult", "Searcher", "fuse", "fuse_files", "maxsim", "report_empty",
           "write_result"]
