"""Indexes of a collection's English documents: Lucene (BM25) and FAISS (dense), built once, reused.

* :mod:`.lifecycle` — where an index lives, reuse checks, atomic replacement;
* :mod:`.lucene` — Anserini indexes for BM25 and PSQ;
* :mod:`.faiss` — FAISS indexes of an encoder's passage vectors, in Pyserini's layout, whole
  or in shards;
* :mod:`.ann` — which FAISS index: exact (flat) or approximate (HNSW, IVF-PQ);
* :mod:`.tokens` — multi-vector indexes of every passage's content-token vectors (FAISS
  ``SQfp16``), for late interaction.

:func:`lucene_index`, :func:`faiss_index` and :func:`token_index` are the one place that resolves an index: the
directory given, else the dataset's default one, built on first use.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ConfigError
from .lifecycle import INDEX_CONFIG, IndexMismatchError, default_index_dir, read_index_config

if TYPE_CHECKING:
    from ..encoders import DenseEncoder
    from .ann import IndexSpec

__all__ = ["INDEX_CONFIG", "IndexMismatchError", "default_index_dir", "faiss_index", "lucene_index",
           "read_index_config", "token_index"]


def lucene_index(dataset: str | None, index: str | os.PathLike[str] | None = None, threads: int = 2) -> Path:
    """``index`` if given, else the Lucene index of ``dataset``'s documents (built if missing)."""
    if index is not None:
        return Path(index)
    if not dataset:
        raise ConfigError("give --index, or --dataset to build or reuse its index")
    from .lucene import build_lucene_index

    return build_lucene_index(dataset, threads=threads)


def faiss_index(dataset: str | None, encoder: DenseEncoder, index: str | os.PathLike[str] | None = None,
                batch_size: int = 64, spec: IndexSpec | None = None) -> Path:
    """``index`` if given, else the FAISS index (``spec``, default flat) of ``encoder``'s passage
    vectors of ``dataset`` (built if missing)."""
    if index is not None:
        return Path(index)
    if not dataset:
        raise ConfigError("give --index, or --dataset to build or reuse its dense index")
    from .faiss import build_faiss_index

    return build_faiss_index(dataset, encoder, batch_size=batch_size, spec=spec)


def token_index(dataset: str | None, encoder: DenseEncoder, index: str | os.PathLike[str] | None = None,
                batch_size: int = 64) -> Path:
    """``index`` if given, else the token index of ``encoder``'s passage tokens of ``dataset``
    (built if missing)."""
    if index is not None:
        return Path(index)
    if not dataset:
        raise ConfigError("give --index, or --dataset to build or reuse its token index")
    from .tokens import build_token_index

    return build_token_index(dataset, encoder, batch_size=batch_size)
