r"""Dense retrieval: query vectors against passage vectors, by inner product.

Scores are :math:`\langle q, d \rangle` (cosines for normalised encoders); the ranking is
exact with a flat index (FAISS ``IndexFlatIP``), approximate with an HNSW or IVF-PQ one
(:mod:`optical_ir.indexes.ann`). Two searchers, one ranking:

* :class:`FaissDenseSearcher` — Pyserini's ``FaissSearcher`` over a FAISS index on disk
  (:mod:`optical_ir.indexes.faiss`), with the toolkit's query encoder plug-in;
* :class:`ExactDenseSearcher` — the same search over vectors in memory (a FAISS flat index
  built on the fly), without Java or an index directory: for validation during training.

Both encode the queries the same way (:func:`encode_topics`: chunks of
``max(batch_size, 256)``, as Pyserini's ``batch_search`` receives them) and score with
the same FAISS code, so their runs are identical for the same vectors.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..encoders import DenseEncoder
from ..topics import split_empty
from ..trec import Run
from .base import Searcher, SearchResult, Topics

#: (encoder fingerprint, dataset, batch size) -> (docids, passage vectors); the newest few
_PASSAGES: OrderedDict[tuple[Any, ...], tuple[list[str], np.ndarray]] = OrderedDict()
_KEEP = 8


def query_chunk(batch_size: int) -> int:
    """Queries per ``batch_search`` call (each call encodes its queries batched by length)."""
    return max(batch_size, 256)


def encode_topics(encoder: DenseEncoder, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Query vectors of ``texts``, encoded chunk by chunk as :class:`FaissDenseSearcher` does."""
    chunk = query_chunk(batch_size)
    parts = [encoder.encode(list(texts[i : i + chunk]), "query", batch_size=batch_size)
             for i in range(0, len(texts), chunk)]
    return np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32)


class FaissDenseSearcher(Searcher):
    """Pyserini's ``FaissSearcher`` over a FAISS index, with ``encoder``'s query vectors.

    Parameters
    ----------
    index_dir
        A FAISS index of passage vectors (:func:`optical_ir.indexes.faiss_index`).
    encoder
        The query encoder; its vectors must live in the index's space.
    doc_encoder
        The model that made the index, when it is not ``encoder`` (a student queries its
        teacher's index); checked against the index's record.
    ef_search, nprobe
        Search-time parameters of an HNSW or IVF-PQ index (default: those saved in it).
    """

    tag = "dense"

    def __init__(self, index_dir: str | os.PathLike[str], encoder: DenseEncoder,
                 doc_encoder: DenseEncoder | None = None, batch_size: int = 64, threads: int = 2,
                 ef_search: int | None = None, nprobe: int | None = None) -> None:
        from ..encoders.plugins import OpticalQueryEncoder
        from ..indexes.ann import set_search_parameters
        from ..indexes.faiss import check_index

        check_index(index_dir, encoder, doc_encoder)
        from pyserini.search.faiss import FaissSearcher

        self.searcher = FaissSearcher(str(index_dir), OpticalQueryEncoder(encoder, batch_size=batch_size))
        set_search_parameters(self.searcher.index, ef_search, nprobe)
        self.batch_size, self.threads = batch_size, threads

    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        from tqdm.auto import tqdm

        todo, empty = split_empty(topics)
        run: Run = {}
        k = min(k, self.searcher.num_docs)
        chunk = query_chunk(self.batch_size)
        with tqdm(total=len(todo), desc="dense search", unit="query") as bar:
            for start in range(0, len(todo), chunk):
                part = todo[start : start + chunk]
                results = self.searcher.batch_search([t for _, t in part], [q for q, _ in part], k=k,
                                                     threads=self.threads)
                for qid, _ in part:
                    run[qid] = {h.docid: float(h.score) for h in results[qid]}
                bar.update(len(part))
        return SearchResult(run, empty)


class ExactDenseSearcher(Searcher):
    """Exact inner-product search over passage vectors in memory (a FAISS flat index, no Java).

    Parameters
    ----------
    encoder
        The query encoder.
    docids, vectors
        The passages: ``vectors[i]`` is the vector of ``docids[i]``.
    """

    tag = "dense"

    def __init__(self, encoder: DenseEncoder, docids: Sequence[str], vectors: np.ndarray,
                 batch_size: int = 64) -> None:
        import faiss

        if vectors.shape[0] != len(docids):
            raise ValueError("need one vector per document id")
        self.encoder, self.docids, self.vectors, self.batch_size = encoder, list(docids), vectors, batch_size
        self.index = faiss.IndexFlatIP(vectors.shape[1])
        self.index.add(np.ascontiguousarray(vectors, dtype=np.float32))

    @classmethod
    def from_dataset(cls, encoder: DenseEncoder, doc_encoder: DenseEncoder, dataset: str,
                     batch_size: int = 64) -> ExactDenseSearcher:
        """``doc_encoder``'s passage vectors of ``dataset``, encoded as an index would hold them
        (once per process for the same weights: :func:`passage_vectors`)."""
        docids, vectors = passage_vectors(doc_encoder, dataset, batch_size)
        return cls(encoder, docids, vectors, batch_size)

    def with_encoder(self, encoder: DenseEncoder) -> ExactDenseSearcher:
        """The same passages searched with another query encoder."""
        return ExactDenseSearcher(encoder, self.docids, self.vectors, self.batch_size)

    def search_vectors(self, qids: Sequence[str], queries: np.ndarray, k: int = 1000) -> Run:
        """The top ``k`` of each query vector (``queries[i]`` belongs to ``qids[i]``)."""
        if queries.shape[0] != len(qids):
            raise ValueError("need one vector per query id")
        if not len(qids):
            return {}
        scores, rows = self.index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, len(self.docids)))
        return {qid: {self.docids[j]: float(s) for s, j in zip(scores[i], rows[i], strict=True) if j != -1}
                for i, qid in enumerate(qids)}

    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        todo, empty = split_empty(topics)
        queries = encode_topics(self.encoder, [t for _, t in todo], self.batch_size)
        return SearchResult(self.search_vectors([q for q, _ in todo], queries, k), empty)


def passage_vectors(encoder: DenseEncoder, dataset: str, batch_size: int = 64) -> tuple[list[str], np.ndarray]:
    """Document ids and ``encoder``'s passage vectors of ``dataset``'s documents, in memory.

    Encoded once per process for the same weights (:meth:`DenseEncoder.fingerprint`), so the
    validation between epochs and the candidates of a settings search, which all search the
    teacher's passages, share them; the newest few datasets are kept. Treat the array as
    read-only.
    """
    key = (encoder.fingerprint(), dataset, batch_size)
    if key not in _PASSAGES:
        _PASSAGES[key] = encode_passages(encoder, dataset, batch_size)
        while len(_PASSAGES) > _KEEP:
            _PASSAGES.popitem(last=False)
    _PASSAGES.move_to_end(key)
    return _PASSAGES[key]


def encode_passages(encoder: DenseEncoder, dataset: str, batch_size: int = 64) -> tuple[list[str], np.ndarray]:
    """Document ids and ``encoder``'s passage vectors of ``dataset``'s documents, encoded now."""
    from ..collections import load
    from ..indexes.faiss import encode_documents

    ds = load(dataset)
    ids: list[str] = []
    parts: list[Any] = []
    for chunk_ids, vectors in encode_documents(encoder, ds.docs_iter(), ds.docs_count(), batch_size,
                                               desc=f"encoding {dataset} documents"):
        ids += chunk_ids
        parts.append(vectors)
    return ids, (np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32))
