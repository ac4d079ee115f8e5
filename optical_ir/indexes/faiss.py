"""FAISS indexes of passage vectors, in Pyserini's layout, and the check that an encoder fits one.

:func:`build_faiss_index` encodes a collection's English documents with an encoder's
passage side (:func:`encode_documents`) and writes a FAISS ``IndexFlatIP`` through
``pyserini.encode.FaissRepresentationWriter`` (``index`` + ``docid``), with
``optical_ir-index.json`` (dataset, documents fingerprint, encoder and its configuration,
dimension) and the encoder's ``optical_ir-encoder.json`` beside it. Pyserini's
``FaissSearcher`` opens it as it is; :mod:`optical_ir.retrieval.dense` searches it.

:func:`check_index` refuses a query encoder whose vectors do not live in the index's space:
another dimension, or another model than the one that made the passage vectors — unless
the user names that model as the document encoder (a student distilled into a teacher's
space queries the teacher's index).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..encoders import DenseEncoder
from ..errors import MissingInputError
from .lifecycle import IndexMismatchError, building, default_index_dir, docs_fingerprint, read_index_config, reusable

CHUNK = 4096
"""Passages encoded per call (each call batches by length, ``batch_size`` per forward pass)."""


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


def document_chunks(docs: Iterable[Any], n_docs: int, chunk: int = CHUNK,
                    desc: str = "encoding documents") -> Iterator[tuple[list[str], list[str]]]:
    """``(doc ids, texts)`` in chunks of ``chunk`` documents, with a progress bar."""
    from tqdm.auto import tqdm

    ids: list[str] = []
    texts: list[str] = []
    with tqdm(total=n_docs, desc=desc, unit="doc") as bar:
        for doc in docs:
            ids.append(doc.doc_id)
            texts.append(doc.default_text())
            if len(ids) >= chunk:
                yield ids, texts
                bar.update(len(ids))
                ids, texts = [], []
        if ids:
            yield ids, texts
            bar.update(len(ids))


def encode_documents(encoder: DenseEncoder, docs: Iterable[Any], n_docs: int, batch_size: int = 64,
                     chunk: int = CHUNK, desc: str = "encoding documents") -> Iterator[tuple[list[str], np.ndarray]]:
    """``(doc ids, passage vectors)`` in chunks of ``chunk`` documents, with a progress bar.

    The one way passages are encoded, for a FAISS index on disk and for vectors in memory,
    so that both hold the same vectors.
    """
    for ids, texts in document_chunks(docs, n_docs, chunk, desc):
        yield ids, encoder.encode(texts, "passage", batch_size=batch_size)


def new_encoder_index(dataset_id: str, encoder: DenseEncoder, target: Path, overwrite: bool,
                      kind: str) -> tuple[Any, dict[str, Any]] | None:
    """The dataset and the record (``optical_ir-index.json``) of a new index of ``encoder``'s
    vectors of its documents at ``target``; ``None`` when a finished one there is reusable."""
    from ..collections import load

    dataset = load(dataset_id)
    n_docs = dataset.docs_count()
    fingerprint = docs_fingerprint(dataset)
    if reusable(target, dataset_id, n_docs, fingerprint, overwrite, {"encoder_config": encoder.config.to_dict()}):
        return None
    return dataset, {"dataset": dataset_id, "docs_namespace": dataset.docs_namespace(), "docs_count": n_docs,
                     "docs_fingerprint": fingerprint, "kind": kind, "dim": encoder.dim, "encoder": encoder.name,
                     "encoder_path": _identity(encoder.path), "encoder_config": encoder.config.to_dict()}


def build_faiss_index(dataset_id: str, encoder: DenseEncoder, index_dir: str | os.PathLike[str] | None = None,
                      batch_size: int = 64, overwrite: bool = False, chunk: int = CHUNK) -> Path:
    """Encode the documents of ``dataset_id`` and write a Pyserini FAISS index; return its directory.

    A finished index with the same documents and encoder is reused (``overwrite`` rebuilds).
    """
    target = Path(index_dir) if index_dir else default_faiss_dir(dataset_id, encoder)
    new = new_encoder_index(dataset_id, encoder, target, overwrite, "faiss")
    if new is None:
        return target
    dataset, config = new
    from .. import jvm

    jvm.start()
    from pyserini.encode.optional import FaissRepresentationWriter

    config["faiss"] = "IndexFlatIP"
    with building(target, config) as tmp:
        writer = FaissRepresentationWriter(str(tmp), dimension=encoder.dim)
        with writer:
            for ids, vectors in encode_documents(encoder, dataset.docs_iter(), config["docs_count"], batch_size, chunk,
                                                 f"encoding {dataset_id} documents"):
                writer.write({"id": ids, "vector": vectors})
        encoder.config.save(tmp)  # the passage encoder that made the vectors, beside them
    return target


def _identity(model: str | os.PathLike[str]) -> str:
    """What names a model whichever way it was given: an embedded name's or a directory's
    absolute path, else the name (a Hugging Face id)."""
    from ..encoders.embedded import EMBEDDED, models_dir

    text = str(model)
    if text in EMBEDDED:
        return str((models_dir() / text).resolve())
    path = Path(text).expanduser()
    return str(path.resolve()) if path.exists() else text


def made_by(config: dict[str, Any], encoder: DenseEncoder) -> bool:
    """Whether the index (its ``optical_ir-index.json``) holds ``encoder``'s passage vectors."""
    recorded = config.get("encoder_path") or (_identity(config["encoder"]) if config.get("encoder") else None)
    if recorded is None:
        return True  # an index without the record: nothing to check against
    same_model = recorded == _identity(encoder.path) or config.get("encoder") == encoder.name
    return same_model and config.get("encoder_config", encoder.config.to_dict()) == encoder.config.to_dict()


def check_index(index_dir: str | os.PathLike[str], encoder: DenseEncoder,
                doc_encoder: DenseEncoder | None = None, kind: str = "faiss") -> dict[str, Any]:
    """The index's config, after checking that ``encoder``'s query vectors belong in it.

    ``kind`` is the index kind asked for: ``faiss`` (one vector a passage) or ``tokens``
    (a token index, :mod:`.tokens`); an index of the other kind is refused.

    Raises
    ------
    MissingInputError
        If ``index_dir`` is not a FAISS index.
    IndexMismatchError
        If the dimension differs; if ``doc_encoder`` is given and did not make the index;
        if it is not given and the index was made by another model than ``encoder`` (the
        message names both and says how to declare a student of the index's model).
    """
    path = Path(index_dir)
    if not (path / "index").is_file() or not (path / "docid").is_file():
        raise MissingInputError(f"{path} is not a Pyserini FAISS index (needs the files 'index' and 'docid'); "
                                f"build one with python -m optical_ir.index --encoder MODEL")
    config = read_index_config(path) or {}
    found = config.get("kind", "faiss")
    if found != kind:
        what = {"faiss": "a dense index (one vector a passage)", "tokens": "a token index (one vector a token)"}
        raise IndexMismatchError(f"{path} is {what.get(found, found)}, but {what.get(kind, kind)} is needed; "
                                 + ("search a token index with --late-interaction" if found == "tokens" else
                                    "build a token index with python -m optical_ir.index --encoder MODEL --tokens"))
    dim = config.get("dim")
    if dim is None:
        import faiss

        dim = faiss.read_index(str(path / "index")).d
    if int(dim) != encoder.dim:
        raise IndexMismatchError(
            f"the query encoder {encoder.name} makes {encoder.dim}-d vectors but {path} holds {dim}-d vectors"
            + (f" (made by {config['encoder']})" if config.get("encoder") else "")
            + "; use a query encoder in the index's vector space, or index with --encoder of this model")
    recorded = config.get("encoder", "an unrecorded model")
    if doc_encoder is not None:
        if not made_by(config, doc_encoder):
            raise IndexMismatchError(f"--doc-encoder {doc_encoder.name} did not make {path}: its passage vectors "
                                     f"are {recorded}'s; give --doc-encoder {recorded}, or another --index")
    elif not made_by(config, encoder):
        raise IndexMismatchError(
            f"{path} holds the passage vectors of {recorded}, not of the query encoder {encoder.name}; if "
            f"{encoder.name} was trained into {recorded}'s space (a student of it), say so with --doc-encoder "
            f"{recorded}; otherwise index with --encoder {encoder.name}")
    return config


def index_vectors(index_dir: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """Document ids and their vectors, read back from a flat FAISS index."""
    import faiss

    index = faiss.read_index(str(Path(index_dir) / "index"))
    docids = Path(index_dir, "docid").read_text(encoding="utf-8").split("\n")[: index.ntotal]
    return docids, index.reconstruct_n(0, index.ntotal)
