"""Where an index lives, whether one on disk can be reused, and how a new one replaces it.

Without an explicit directory an index goes to ``$OPTICAL_IR_CACHE/indexes/{lucene,faiss}/
<document set>``; datasets that share their documents (every language of
``optical-ir/ntrex/*/test``) share it. An index is built in a temporary directory, gets
``optical_ir-index.json`` (the configuration that made it) and is renamed into place
(:func:`optical_ir.files.replace_dir`: a reader never finds the path missing). A finished
index of the same documents and settings is reused; one of other documents or settings is
an error, unless ``overwrite``; a directory that is not an index is never replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import MismatchError
from ..files import check_replaceable, replace_dir
from ..mirror import cache_dir

INDEX_CONFIG = "optical_ir-index.json"


class IndexMismatchError(MismatchError):
    """An index that does not fit the documents, the settings or the encoder it is asked for."""


def docs_key(dataset: Any, dataset_id: str) -> str:
    """A file-name-safe key of a dataset's document set."""
    ns = dataset.docs_namespace() if dataset.has_docs() else None
    return re.sub(r"[^A-Za-z0-9._-]+", "_", ns or dataset_id).strip("_")


def default_index_dir(dataset_id: str, kind: str = "lucene") -> Path:
    from ..collections import load

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


def reusable(target: Path, dataset_id: str, n_docs: int, fingerprint: str, overwrite: bool,
             settings: dict[str, Any] | None = None) -> bool:
    """True if ``target`` is a finished index of these documents made with ``settings``.

    Raises
    ------
    IndexMismatchError
        If it indexes other documents, or was made with other settings (unless ``overwrite``).
    OutputError
        If ``target`` holds something that is not an optical_ir index (even with ``overwrite``:
        only an index, or an empty directory, is ever replaced).
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
    check_replaceable(target, [INDEX_CONFIG], "an optical_ir index")
    return False


@contextmanager
def building(target: Path, config: dict[str, Any]) -> Iterator[Path]:
    """A temporary directory to build an index in; when the block succeeds, ``config`` (with
    the seconds it took) is written into it and it replaces ``target`` atomically. A failure
    leaves ``target`` as it was and no temporary directory."""
    from .. import __version__
    from ..files import check_writable

    check_writable(target.parent, directory=True)
    tmp = target.parent / f".{target.name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    start = time.time()
    try:
        yield tmp
        (tmp / INDEX_CONFIG).write_text(json.dumps(
            {**config, "seconds": round(time.time() - start, 2), "optical_ir": __version__},
            indent=2, ensure_ascii=False) + "\n")
        replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
