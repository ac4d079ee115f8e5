"""Dense retrieval through Pyserini: FAISS indexes of passage vectors, search, reranking.

* :func:`build_faiss_index` encodes a collection's English documents with an encoder's
  passage side and writes a FAISS ``IndexFlatIP`` in Pyserini's layout (``index`` +
  ``docid``, through ``pyserini.encode.FaissRepresentationWriter``), with
  ``optical_ir-index.json`` (dataset, documents fingerprint, encoder and its configuration,
  dimension) beside it. Pyserini's ``FaissSearcher`` opens it as it is.
* :func:`dense_search` searches it with a query encoder (e.g. an OPTICAL student whose
  vectors live in the teacher's space) through ``FaissSearcher.batch_search``.
* :func:`rerank` rescores a first-stage run's top ``depth`` documents by the inner product
  of the query vector and the documents' indexed vectors.

Scores are inner products :math:`\\langle q, d \\rangle` (cosines for normalised encoders).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .encoders import DenseEncoder, EncoderConfig
from .index import IndexMismatchError, building, default_index_dir, docs_fingerprint, read_index_config, reusable
from .trec import Run


def encoder_key(encoder: DenseEncoder) -> str:
    """A directory name for an encoder's index: its name plus a hash of weights and config."""
    digest = hashlib.md5(json.dumps(encoder.config.to_dict(), sort_keys=True).encode())
    digest.update(str(encoder.path).encode())
    path = Path(encoder.path)
    if path.is_dir():
        for f in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
            st = f.stat()
            digest.update(f"{f.name}:{st.st_size}:{st.st_mtime_ns}".encode())
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(encoder.name.rstrip("/")).name or encoder.name)
    return f"{stem}-{digest.hexdigest()[:8]}"


def default_faiss_dir(dataset_id: str, encoder: DenseEncoder) -> Path:
    return default_index_dir(dataset_id, "faiss") / encoder_key(encoder)


def build_faiss_index(dataset_id: str, encoder: DenseEncoder, index_dir: str | os.PathLike[str] | None = None,
                      batch_size: int = 64, overwrite: bool = False, chunk: int = 4096) -> Path:
    """Encode the documents of ``dataset_id`` and write a Pyserini FAISS index; return its directory.

    A finished index with the same documents and encoder is reused (``overwrite`` rebuilds).
    """
    from tqdm.auto import tqdm

    from .collections import load
    from .encoders.plugins import OpticalDocumentEncoder

    dataset = load(dataset_id)
    target = Path(index_dir) if index_dir else default_faiss_dir(dataset_id, encoder)
    n_docs = dataset.docs_count()
    fingerprint = docs_fingerprint(dataset)
    if reusable(target, dataset_id, n_docs, fingerprint, overwrite, {"encoder_config": encoder.config.to_dict()}):
        return target
    from pyserini.encode.optional import FaissRepresentationWriter

    doc_encoder = OpticalDocumentEncoder(encoder, batch_size=batch_size)
    config = {"dataset": dataset_id, "docs_namespace": dataset.docs_namespace(), "docs_count": n_docs,
              "docs_fingerprint": fingerprint, "kind": "faiss", "faiss": "IndexFlatIP", "dim": encoder.dim,
              "encoder": encoder.name, "encoder_config": encoder.config.to_dict()}
    with building(target, config) as tmp:
        writer = FaissRepresentationWriter(str(tmp), dimension=encoder.dim)
        ids: list[str] = []
        texts: list[str] = []
        with writer, tqdm(total=n_docs, desc=f"encoding {dataset_id} documents", unit="doc") as bar:
            def flush() -> None:
                if ids:
                    writer.write({"id": list(ids), "vector": doc_encoder.encode(texts)})
                    bar.update(len(ids))
                    ids.clear()
                    texts.clear()

            for doc in dataset.docs_iter():
                ids.append(doc.doc_id)
                texts.append(doc.default_text())
                if len(ids) >= chunk:
                    flush()
            flush()
        encoder.config.save(tmp)  # the passage encoder that made the vectors, beside them
    return target


def check_index(index_dir: str | os.PathLike[str], encoder: DenseEncoder) -> dict[str, Any]:
    """The index's config; raise if it is not a FAISS index or its dimension differs."""
    path = Path(index_dir)
    if not (path / "index").is_file() or not (path / "docid").is_file():
        raise FileNotFoundError(f"{path} is not a Pyserini FAISS index (needs the files 'index' and 'docid'); "
                                f"build one with python -m optical_ir.index --encoder MODEL")
    config = read_index_config(path) or {}
    dim = config.get("dim")
    if dim is None:
        import faiss

        dim = faiss.read_index(str(path / "index")).d
    if int(dim) != encoder.dim:
        raise IndexMismatchError(
            f"the query encoder {encoder.name} makes {encoder.dim}-d vectors but {path} holds {dim}-d vectors"
            + (f" (made by {config['encoder']})" if config.get("encoder") else "")
            + "; use a query encoder in the index's vector space, or index with --encoder of this model")
    return config


def dense_search(topics: Sequence[tuple[str, str]], index_dir: str | os.PathLike[str], encoder: DenseEncoder,
                 hits: int = 1000, batch_size: int = 64, threads: int = 2) -> Run:
    """Search a FAISS index with Pyserini's ``FaissSearcher`` and the encoder's query side."""
    from tqdm.auto import tqdm

    from .encoders.plugins import OpticalQueryEncoder

    check_index(index_dir, encoder)
    from pyserini.search.faiss import FaissSearcher

    searcher = FaissSearcher(str(index_dir), OpticalQueryEncoder(encoder, batch_size=batch_size))
    run: Run = {}
    hits = min(hits, searcher.num_docs)
    chunk = max(batch_size, 256)
    with tqdm(total=len(topics), desc="dense search", unit="query") as bar:
        for start in range(0, len(topics), chunk):
            part = topics[start : start + chunk]
            results = searcher.batch_search([t for _, t in part], [q for q, _ in part], k=hits, threads=threads)
            for qid, _ in part:
                run[qid] = {h.docid: float(h.score) for h in results[qid]}
            bar.update(len(part))
    return run


def exact_search(qids: Sequence[str], queries: np.ndarray, docids: Sequence[str], docs: np.ndarray,
                 hits: int = 1000) -> Run:
    """Exact inner-product top-``hits`` of each query vector over document vectors, in memory.

    The ranking of a FAISS ``IndexFlatIP`` (ties broken by document id), without an index
    on disk or Java: used for validation during training and on machines without Pyserini.
    """
    if queries.shape[0] != len(qids) or docs.shape[0] != len(docids):
        raise ValueError("need one vector per query id and one per document id")
    hits = min(hits, len(docids))
    scores = queries.astype(np.float32) @ docs.astype(np.float32).T
    run: Run = {}
    for i, qid in enumerate(qids):
        row = scores[i]
        top = np.argpartition(-row, hits - 1)[:hits] if hits < len(docids) else np.arange(len(docids))
        ranked = sorted(top.tolist(), key=lambda j: (-row[j], docids[j]))
        run[qid] = {docids[j]: float(row[j]) for j in ranked}
    return run


def index_vectors(index_dir: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """Document ids and their vectors, read back from a flat FAISS index."""
    import faiss

    index = faiss.read_index(str(Path(index_dir) / "index"))
    docids = Path(index_dir, "docid").read_text(encoding="utf-8").split("\n")[: index.ntotal]
    return docids, index.reconstruct_n(0, index.ntotal)


def rerank(first_stage: Run, topics: Sequence[tuple[str, str]], index_dir: str | os.PathLike[str],
           encoder: DenseEncoder, depth: int = 100, batch_size: int = 64) -> Run:
    """Rescore each query's top ``depth`` first-stage documents by :math:`\\langle q, d\\rangle`.

    Query vectors come from ``encoder`` (its query side); document vectors from the index
    (the teacher's passage side). Queries without first-stage results stay empty.
    """
    check_index(index_dir, encoder)
    docids, vectors = index_vectors(index_dir)
    todo = [(qid, text) for qid, text in topics if first_stage.get(qid)]
    queries = encoder.encode([t for _, t in todo], "query", batch_size=batch_size, progress=True) if todo else None
    return rerank_vectors(first_stage, [q for q, _ in todo], queries, docids, vectors, depth, where=str(index_dir))


def rerank_vectors(first_stage: Run, qids: Sequence[str], queries: np.ndarray | None, docids: Sequence[str],
                   docs: np.ndarray, depth: int = 100, where: str = "the document vectors") -> Run:
    """:func:`rerank` on vectors in memory: ``queries[i]`` belongs to ``qids[i]``."""
    row = {d: i for i, d in enumerate(docids)}
    run: Run = {}
    for n, qid in enumerate(qids):
        ranked = sorted(first_stage.get(qid, {}).items(), key=lambda kv: (-kv[1], kv[0]))[:depth]
        if not ranked:
            continue
        missing = [d for d, _ in ranked if d not in row]
        if missing:
            raise IndexMismatchError(f"query {qid}: documents {missing[:3]} of the first-stage run are not in "
                                     f"{where}; the run and the index are of different collections")
        cand = [d for d, _ in ranked]
        scores = docs[[row[d] for d in cand]] @ queries[n]  # type: ignore[index]
        run[qid] = {d: float(s) for d, s in zip(cand, scores, strict=True)}
    return run


def encoder_from_args(model: str, *, pooling: str | None = None, query_prefix: str | None = None,
                      passage_prefix: str | None = None, normalize: bool | None = None,
                      max_length: int | None = None, device: str = "cpu") -> DenseEncoder:
    """Load a model; configuration flags, when given, override or supply its config."""
    from .encoders.embedded import saved_config

    flags = {k: v for k, v in dict(pooling=pooling, query_prefix=query_prefix, passage_prefix=passage_prefix,
                                   normalize=normalize, max_length=max_length).items() if v is not None}
    if not flags:
        return DenseEncoder(model, device=device)
    base = saved_config(model)
    if base is None and "pooling" not in flags:
        from .encoders import EncoderConfigError

        raise EncoderConfigError(f"{model} has no optical_ir-encoder.json: give at least --pooling mean|cls")
    config = base.with_(**flags) if base else EncoderConfig(base_model=str(model), **flags)
    return DenseEncoder(model, config, device)
