"""Build the index of a collection's English documents: Lucene (BM25) or FAISS (dense).

Command line::

    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test [--index DIR] [--threads 2]
    python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test --encoder multilingual-e5-small \
        [--batch-size 64] [--device cpu]

Without ``--encoder`` this is a Lucene index for BM25; with it, a FAISS index of the
encoder's passage vectors in Pyserini's layout (see :mod:`optical_ir.dense`). Without
``--index`` the index goes to ``$OPTICAL_IR_CACHE/indexes/{lucene,faiss}/<document set>``
(FAISS: one sub-directory per encoder); datasets that share their documents (every
language of ``optical-ir/ntrex/*/test``) share it. Either kind is built in a temporary
directory and renamed into place when complete, with ``optical_ir-index.json`` (the
configuration that made it) inside; a rerun finds it and skips the work unless
``--overwrite`` is given.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import cli
from .mirror import cache_dir

INDEX_CONFIG = "optical_ir-index.json"
LUCENE_ARGS: tuple[str, ...] = ("-storeRaw", "-storePositions", "-storeDocvectors", "-language", "en")
"""Anserini indexing options: the English analyzer (Porter stemmer, stop words), raw text kept."""


def docs_key(dataset: Any, dataset_id: str) -> str:
    """A file-name-safe key of a dataset's document set."""
    ns = dataset.docs_namespace() if dataset.has_docs() else None
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ns or dataset_id).strip("_")


def default_index_dir(dataset_id: str, kind: str = "lucene") -> Path:
    from .collections import load

    return cache_dir() / "indexes" / kind / docs_key(load(dataset_id), dataset_id)


def docs_fingerprint(dataset: Any) -> str:
    """md5 over every document's id and text: an index of other documents is not reused."""
    digest = hashlib.md5()
    for doc in dataset.docs_iter():
        digest.update(f"{doc.doc_id}\t{doc.default_text()}\n".encode())
    return digest.hexdigest()


def read_index_config(index_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    path = Path(index_dir) / INDEX_CONFIG
    return json.loads(path.read_text()) if path.is_file() else None


class IndexMismatchError(ValueError):
    """An index that does not fit the documents, or the settings, it is asked for."""


def reusable(target: Path, dataset_id: str, n_docs: int, fingerprint: str, overwrite: bool,
             settings: dict[str, Any] | None = None) -> bool:
    """True if ``target`` is a finished index of these documents made with ``settings``.

    Raises
    ------
    IndexMismatchError
        If it indexes other documents, or was made with other settings (unless ``overwrite``).
    FileExistsError
        If ``target`` holds something that is not an optical_ir index (unless ``overwrite``).
    """
    config = read_index_config(target)
    if config and not overwrite:
        if config.get("docs_fingerprint") != fingerprint:
            raise IndexMismatchError(
                f"{target} indexes other documents ({config.get('docs_count')} of "
                f"{config.get('dataset')}) than {dataset_id} has ({n_docs}); pass --overwrite "
                f"or another --index"
            )
        for key, value in (settings or {}).items():
            if config.get(key) != value:
                made_by = f" (made by {config['encoder']})" if config.get("encoder") else ""
                raise IndexMismatchError(f"{target} was made with another {key}{made_by}; pass --overwrite "
                                         f"or another --index")
        return True
    if target.exists() and not config and any(target.iterdir()) and not overwrite:
        raise FileExistsError(f"{target} exists and is not an optical_ir index; pass --overwrite")
    return False


@contextmanager
def building(target: Path, config: dict[str, Any]) -> Iterator[Path]:
    """A temporary directory to build an index in; when the block succeeds, ``config`` (with
    the seconds it took) is written into it and it replaces ``target``. A failure leaves
    ``target`` as it was and no temporary directory."""
    from . import __version__

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    start = time.time()
    try:
        yield tmp
        (tmp / INDEX_CONFIG).write_text(json.dumps(
            {**config, "seconds": round(time.time() - start, 2), "optical_ir": __version__},
            indent=2, ensure_ascii=False) + "\n")
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def build_lucene_index(dataset_id: str, index_dir: str | os.PathLike[str] | None = None,
                       threads: int = 2, overwrite: bool = False, batch_size: int = 1000) -> Path:
    """Index the documents of ``dataset_id`` with Anserini and return the index directory."""
    from tqdm.auto import tqdm

    from .collections import load

    dataset = load(dataset_id)
    target = Path(index_dir) if index_dir else default_index_dir(dataset_id)
    n_docs = dataset.docs_count()
    fingerprint = docs_fingerprint(dataset)
    if reusable(target, dataset_id, n_docs, fingerprint, overwrite):
        return target
    from . import jvm

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


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("index", __doc__)
    parser.add_argument("--dataset", required=True, help="ir_datasets id whose documents to index")
    parser.add_argument("--index", help="index directory (default: in the cache, keyed by document set)")
    parser.add_argument("--threads", type=int, default=2, help="indexing threads")
    parser.add_argument("--overwrite", action="store_true", help="rebuild even if the index exists")
    parser.add_argument("--encoder", help="dense index of this model's passage vectors (embedded name, "
                        "directory or Hugging Face id); without it, a Lucene index")
    parser.add_argument("--batch-size", type=int, default=64, help="passages per forward pass (dense)")
    cli.add_encoder_flags(parser)
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    if args.encoder:
        from .dense import build_faiss_index, encoder_from_args

        encoder = encoder_from_args(args.encoder, device=args.device, **cli.encoder_config_flags(args))  # type: ignore[arg-type]
        path = build_faiss_index(args.dataset, encoder, args.index, args.batch_size, args.overwrite)
    else:
        path = build_lucene_index(args.dataset, args.index, args.threads, args.overwrite)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "index"))
