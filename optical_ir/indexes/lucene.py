"""Lucene (BM25) indexes of a collection's English documents, built with Anserini.

The documents are indexed with Anserini's English analyzer (Porter stemmer, stop words),
positions, document vectors and raw text kept (:data:`LUCENE_ARGS`). Where the index goes,
when it is reused and how it replaces another: :mod:`optical_ir.indexes.lifecycle`.
"""

from __future__ import annotations

import os
from pathlib import Path

from .lifecycle import building, default_index_dir, docs_fingerprint, reusable

LUCENE_ARGS: tuple[str, ...] = ("-storeRaw", "-storePositions", "-storeDocvectors", "-language", "en")
"""Anserini indexing options: the English analyzer (Porter stemmer, stop words), raw text kept."""


def build_lucene_index(dataset_id: str, index_dir: str | os.PathLike[str] | None = None,
                       threads: int = 2, overwrite: bool = False, batch_size: int = 1000) -> Path:
    """Index the documents of ``dataset_id`` with Anserini and return the index directory."""
    from tqdm.auto import tqdm

    from ..collections import load

    dataset = load(dataset_id)
    target = Path(index_dir) if index_dir else default_index_dir(dataset_id)
    n_docs = dataset.docs_count()
    fingerprint = docs_fingerprint(dataset)
    if reusable(target, dataset_id, n_docs, fingerprint, overwrite):
        return target
    from .. import jvm

    jvm.start()
    from pyserini.index.lucene import LuceneIndexer

    config = {"dataset": dataset_id, "docs_namespace": dataset.docs_namespace(), "docs_count": n_docs,
              "docs_fingerprint": fingerprint, "kind": "lucene", "anserini_args": list(LUCENE_ARGS)}
    with building(target, config) as tmp:
        indexer = LuceneIndexer(args=["-index", str(tmp), *LUCENE_ARGS], threads=threads)
        batch: list[dict[str, str]] = []
        for doc in tqdm(dataset.docs_iter(), total=n_docs, desc=f"indexing {dataset_id}", unit="doc"):
            batch.append({"id": doc.doc_id, "contents": doc.default_text()})
            if len(batch) >= batch_size:
                indexer.add_batch_dict(batch)
                batch = []
        if batch:
            indexer.add_batch_dict(batch)
        indexer.close()
    return target
