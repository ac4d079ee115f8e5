"""FAISS indexes of passage vectors, in Pyserini's layout, and the check that an encoder fits one.

:func:`build_faiss_index` encodes a collection's English documents with an encoder's
passage side (:func:`encode_documents`) and writes a FAISS index (``index`` + ``docid``, the
layout of ``pyserini.encode.FaissRepresentationWriter``), with ``optical_ir-index.json``
(dataset, documents fingerprint, encoder and its configuration, dimension, index type and
parameters) and the encoder's ``optical_ir-encoder.json`` beside it. Pyserini's
``FaissSearcher`` opens it as it is; :mod:`optical_ir.retrieval.dense` searches it. The
index is exact (``IndexFlatIP``) or approximate (HNSW, IVF-PQ: :mod:`.ann`); an approximate
index of a collection whose flat index of the same encoder is cached takes its vectors
from it instead of encoding again.

Sharded encoding, as Pyserini's encoder does it: ``shard=(I, N)`` encodes the ``I``-th of
``N`` contiguous ranges of the documents into a flat shard index (a job each, on any
machine); :func:`merge_shards` checks that the shards are the ``N`` parts of one
collection by one encoder and writes them as one index of any type, equal to the index an
unsharded build makes.

:func:`check_index` refuses a query encoder whose vectors do not live in the index's space:
another dimension, or another model than the one that made the passage vectors — unless
the user names that model as the document encoder (a student distilled into a teacher's
space queries the teacher's index).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import os
import re
import shutil
import sys
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..encoders import DenseEncoder
from ..errors import ConfigError, MissingInputError
from .ann import SEARCH_TIME, IndexSpec, build_index, set_search_parameters
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


def default_faiss_dir(dataset_id: str, encoder: DenseEncoder, spec: IndexSpec | None = None,
                      shard: tuple[int, int] | None = None) -> Path:
    """``$OPTICAL_IR_CACHE/indexes/faiss/<document set>/<encoder>[-<type>][.shard-I-of-N]``."""
    name = encoder_key(encoder) + (spec.suffix() if spec else "")
    return default_index_dir(dataset_id, "faiss") / (name + (f".shard-{shard[0]}-of-{shard[1]}" if shard else ""))


def shard_range(n_docs: int, shard_id: int, shard_num: int) -> tuple[int, int]:
    """The documents ``[start, end)`` of shard ``shard_id`` of ``shard_num`` (Pyserini's split:
    equal contiguous ranges, the last one takes the rest)."""
    if shard_num < 1 or not 0 <= shard_id < shard_num:
        raise ConfigError(f"--shard-id {shard_id} --shard-num {shard_num}: need 0 <= shard id < shard num")
    size = n_docs // shard_num
    return shard_id * size, (n_docs if shard_id == shard_num - 1 else (shard_id + 1) * size)


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
                      kind: str, settings: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]] | None:
    """The dataset and the record (``optical_ir-index.json``) of a new index of ``encoder``'s
    vectors of its documents at ``target``; ``None`` when a finished one there, made with the
    same ``settings`` (more entries of the record), is reusable."""
    from ..collections import load

    dataset = load(dataset_id)
    n_docs = dataset.docs_count()
    fingerprint = docs_fingerprint(dataset)
    extra = settings or {}
    if reusable(target, dataset_id, n_docs, fingerprint, overwrite, {"encoder_config": encoder.config.to_dict(),
                                                                     **extra}):
        return None
    return dataset, {"dataset": dataset_id, "docs_namespace": dataset.docs_namespace(), "docs_count": n_docs,
                     "docs_fingerprint": fingerprint, "kind": kind, "dim": encoder.dim, "encoder": encoder.name,
                     "encoder_path": _identity(encoder.path), "encoder_config": encoder.config.to_dict(), **extra}


def build_faiss_index(dataset_id: str, encoder: DenseEncoder, index_dir: str | os.PathLike[str] | None = None,
                      batch_size: int = 64, overwrite: bool = False, chunk: int = CHUNK,
                      spec: IndexSpec | None = None, shard: tuple[int, int] | None = None) -> Path:
    """Encode the documents of ``dataset_id`` and write a Pyserini FAISS index; return its directory.

    ``spec`` says which index (default flat); ``shard=(I, N)`` encodes only the ``I``-th of
    ``N`` parts of the documents into a flat shard (:func:`merge_shards` joins them). A
    finished index with the same documents, encoder and settings is reused (``overwrite``
    rebuilds).
    """
    spec = spec or IndexSpec()
    if shard is not None and spec.index_type != "flat":
        raise ConfigError("a shard is a flat index; give --index-type when merging the shards (--merge)")
    target = Path(index_dir) if index_dir else default_faiss_dir(dataset_id, encoder, spec, shard)
    new = new_encoder_index(dataset_id, encoder, target, overwrite, "faiss", _settings(spec, shard))
    if new is None:
        _update_search_time(target, spec)
        return target
    dataset, config = new
    config["index_type"] = spec.index_type
    docs: Iterable[Any] = dataset.docs_iter()
    count = config["docs_count"]
    if shard is not None:
        start, end = shard_range(count, *shard)
        config["shard_range"] = [start, end]
        docs, count = itertools.islice(docs, start, end), end - start
    flat = _cached_flat(dataset_id, encoder, config) if spec.index_type != "flat" else None
    if flat is not None:
        print(f"vectors from the flat index {flat}", file=sys.stderr)
        docids, vectors = index_vectors(flat)
    else:  # a flat index is filled chunk by chunk; an approximate one is built from all the vectors
        import faiss

        docids, parts = [], []
        streamed = faiss.IndexFlatIP(encoder.dim) if spec.index_type == "flat" else None
        for ids, vecs in encode_documents(encoder, docs, count, batch_size, chunk, f"encoding {dataset_id} documents"
                                          + (f" (shard {shard[0]} of {shard[1]})" if shard else "")):
            docids += ids
            if streamed is not None:
                streamed.add(np.ascontiguousarray(vecs, dtype=np.float32))
            else:
                parts.append(vecs)
        vectors = streamed if streamed is not None else (
            np.concatenate(parts) if parts else np.zeros((0, encoder.dim), dtype=np.float32))
    with building(target, config) as tmp:
        write_vectors(tmp, docids, vectors, spec, config)
        encoder.config.save(tmp)  # the passage encoder that made the vectors, beside them
    return target


def _update_search_time(target: Path, spec: IndexSpec) -> None:
    """Store the search-time parameters ``spec`` gives (``ef_search``, ``nprobe``; ``None``:
    keep) in a reused index, its file and its record each replaced atomically."""
    import faiss

    from ..files import atomic_write
    from .lifecycle import INDEX_CONFIG

    record = read_index_config(target) or {}
    stored = record.get("index_params", {})
    wanted = {"efSearch": spec.ef_search if spec.index_type == "hnsw" else None,
              "nprobe": min(spec.nprobe, stored.get("nlist", spec.nprobe)) if spec.index_type == "ivfpq" and
              spec.nprobe else None}
    changes = {k: v for k, v in wanted.items() if v is not None and stored.get(k) != v}
    if not changes:
        return
    index = faiss.read_index(str(target / "index"))
    set_search_parameters(index, changes.get("efSearch"), changes.get("nprobe"))
    tmp = target / f".index.tmp-{os.getpid()}"
    faiss.write_index(index, str(tmp))
    os.replace(tmp, target / "index")
    record["index_params"] = {**stored, **changes}
    with atomic_write(target / INDEX_CONFIG, "w") as f:
        f.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n")
    print(f"{target}: search parameters now {record['index_params']}", file=sys.stderr)


def _settings(spec: IndexSpec, shard: tuple[int, int] | None) -> dict[str, Any]:
    """What an index on disk must have been made with to be reused (``None``: flat, whole)."""
    built = {k: v for k, v in dataclasses.asdict(spec).items() if k not in SEARCH_TIME}
    return {"index_spec": None if spec.index_type == "flat" else built,
            "shard": None if shard is None else {"id": shard[0], "num": shard[1]}}


def write_vectors(directory: Path, docids: list[str], vectors: Any, spec: IndexSpec,
                  config: dict[str, Any]) -> None:
    """Write ``index`` and ``docid`` (Pyserini's layout) into ``directory``, and record in
    ``config`` the FAISS factory string, the parameters and the size a passage takes.
    ``vectors``: an array (row ``i`` is ``docids[i]``'s), or a flat FAISS index of them."""
    import faiss

    directory.mkdir(parents=True, exist_ok=True)
    n, dim = len(docids), int(config["dim"])
    if isinstance(vectors, np.ndarray):
        index = build_index(spec, vectors) if n else faiss.IndexFlatIP(dim)
    else:
        index = vectors
    faiss.write_index(index, str(directory / "index"))
    (directory / "docid").write_text("".join(f"{d}\n" for d in docids), encoding="utf-8")
    config["faiss"] = "IndexFlatIP" if spec.index_type == "flat" else spec.factory(n, dim)
    config["index_params"] = spec.params(n, dim) if n else {}
    config["bytes_per_passage"] = round((directory / "index").stat().st_size / max(1, n), 1)


def _cached_flat(dataset_id: str, encoder: DenseEncoder, config: dict[str, Any]) -> Path | None:
    """The cached flat index of ``encoder``'s vectors of the documents ``config`` (the record of
    the index being built) describes, if one is finished."""
    path = default_faiss_dir(dataset_id, encoder)
    if not read_index_config(path):
        return None
    try:
        return path if reusable(path, dataset_id, config["docs_count"], config["docs_fingerprint"], False,
                                {"encoder_config": encoder.config.to_dict(), **_settings(IndexSpec(), None)}) else None
    except IndexMismatchError:
        return None


def merge_shards(shards: Sequence[str | os.PathLike[str]], target: str | os.PathLike[str],
                 spec: IndexSpec | None = None, overwrite: bool = False) -> Path:
    """Join the flat shard indexes ``shards`` (from ``build_faiss_index(shard=…)``) into one
    index of ``spec`` at ``target``; return it.

    Raises
    ------
    IndexMismatchError
        If the shards are not the ``N`` distinct parts of one collection by one encoder (the
        message names what differs or is missing).
    """
    spec = spec or IndexSpec()
    records = []
    for path in map(Path, shards):
        record = read_index_config(path)
        if not record or not record.get("shard"):
            raise IndexMismatchError(f"{path} is not a shard index: build shards with python -m optical_ir.index "
                                     f"--encoder MODEL --shard-id I --shard-num N")
        records.append((record["shard"]["id"], path, record))
    records.sort(key=lambda r: r[0])
    first = records[0][2]
    num = first["shard"]["num"]
    for _, path, record in records:
        for key in ("dataset", "docs_fingerprint", "encoder_path", "encoder_config"):
            if record.get(key) != first.get(key):
                raise IndexMismatchError(f"{path} and {records[0][1]} differ in {key}: shards of one index come "
                                         f"from one collection and one encoder")
        if record["shard"]["num"] != num:
            raise IndexMismatchError(f"{path} is a shard of {record['shard']['num']}, {records[0][1]} of {num}")
    ids = [r[0] for r in records]
    if ids != list(range(num)):
        missing = sorted(set(range(num)) - set(ids))
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise IndexMismatchError(f"the shards given are {ids} of {num}" + (f"; missing {missing}" if missing else "")
                                 + (f"; {twice} given twice" if twice else "") + ": give each of the N shards once")
    out = Path(target)
    settings = {"encoder_config": first["encoder_config"], **_settings(spec, None)}
    if reusable(out, first["dataset"], first["docs_count"], first["docs_fingerprint"], overwrite, settings):
        return out
    docids: list[str] = []
    parts = []
    for _, path, _record in records:
        d, v = index_vectors(path)
        docids += d
        parts.append(v)
    if len(docids) != first["docs_count"]:
        raise IndexMismatchError(f"the shards hold {len(docids)} passages, the collection {first['docs_count']}")
    config = {k: v for k, v in first.items() if k not in ("shard_range", "seconds", "optical_ir", "faiss",
                                                          "index_params", "bytes_per_passage")}
    config.update(settings, index_type=spec.index_type, merged_from=num)
    with building(out, config) as tmp:
        write_vectors(tmp, docids, np.concatenate(parts), spec, config)
        encoder_file = records[0][1] / "optical_ir-encoder.json"
        if encoder_file.is_file():
            shutil.copyfile(encoder_file, tmp / encoder_file.name)
    return out


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
    """Document ids and their vectors, read back from a FAISS index (exact for flat and HNSW;
    the quantised vectors of an IVF-PQ index)."""
    import faiss

    index = faiss.read_index(str(Path(index_dir) / "index"))
    if hasattr(faiss.downcast_index(index), "nprobe"):
        faiss.extract_index_ivf(index).make_direct_map()
    docids = Path(index_dir, "docid").read_text(encoding="utf-8").split("\n")[: index.ntotal]
    return docids, index.reconstruct_n(0, index.ntotal)
