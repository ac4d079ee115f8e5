"""Topics (queries) from wherever they come, their language, and the provenance of derived topics.

A topic set is a list of ``(query id, text)``. :func:`load_topics` reads it from

1. a ``qid<TAB>text`` file (Pyserini's TSV format; :func:`optical_ir.trec.read_topics`);
2. an ir_datasets id (the toolkit's collections are registered; e.g. ``optical-ir/ntrex/sw-en/test``);
3. a Pyserini/Anserini topic-set name (``ciral-v1.0-ha-test-a``; Anserini may download it).

Topics that the toolkit derives from others (translated by :mod:`optical_ir.translation`,
perturbed …) are written with a provenance file beside them, ``<topics>.json``, saying how
they were made and in which language they now are (``target_lang``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .errors import ConfigError, MissingInputError

Topics = list[tuple[str, str]]
PROVENANCE_SUFFIX = ".json"


def load_topics(dataset: str | None = None, topics: str | os.PathLike[str] | None = None) -> Topics:
    """``(qid, text)`` pairs of ``topics`` (a file, an ir_datasets id, a Pyserini name), else the
    queries of ``dataset``.

    Raises
    ------
    MissingInputError
        For a ``topics`` that looks like a path but is no file.
    ConfigError
        Without either argument, or for a name nothing knows.
    """
    if topics:
        text = str(topics)
        if Path(text).is_file():
            from .trec import read_topics

            return read_topics(text)
        queries = dataset_queries(text, missing_ok=True)  # ids have slashes too: ask ir_datasets first
        if queries is not None:
            return queries
        if os.sep in text or text.endswith((".tsv", ".txt", ".gz")):
            raise MissingInputError(f"no topics file {text} (nor an ir_datasets id)")
        return pyserini_topics(text)
    if not dataset:
        raise ConfigError("give --dataset or --topics")
    return dataset_queries(dataset)  # type: ignore[return-value]


def dataset_queries(dataset_id: str, missing_ok: bool = False) -> Topics | None:
    """The queries of an ir_datasets id as ``(qid, default text)``; ``None`` for an unknown id
    when ``missing_ok``."""
    from .collections import load

    try:
        ds = load(dataset_id)
    except KeyError:
        if missing_ok:
            return None
        raise
    return [(q.query_id, q.default_text()) for q in ds.queries_iter()]


def pyserini_topics(name: str) -> Topics:
    """A Pyserini/Anserini topic set by name, as ``(qid, title)``; it may be downloaded."""
    from . import jvm

    jvm.start()
    from pyserini.search import get_topics

    try:
        topics = get_topics(name)
    except Exception as err:  # noqa: BLE001 - Anserini raises Java exceptions
        raise ConfigError(f"{name!r} is neither a topics file, an ir_datasets id, nor a Pyserini topic set it could "
                          f"load (Anserini downloads most topic sets: is the network reachable?): "
                          f"{str(err).splitlines()[0]}") from None
    return [(str(qid), str(t.get("title", ""))) for qid, t in topics.items()]


def write_provenance(topics_path: str | os.PathLike[str], provenance: dict[str, Any]) -> Path:
    """Write ``<topics_path>.json`` atomically."""
    from .files import atomic_write

    path = Path(str(topics_path) + PROVENANCE_SUFFIX)
    with atomic_write(path) as f:
        json.dump(provenance, f, indent=2, ensure_ascii=False)
        f.write("\n")
    return path


def write_derived(topics: Sequence[tuple[str, str]], provenance: dict[str, Any],
                  output: str | os.PathLike[str]) -> bool:
    """Write derived topics (``qid<TAB>text``, atomically) and their provenance; a file made
    before with the same provenance and texts is kept as it is. Returns whether it wrote."""
    from .trec import read_topics, write_topics

    if (Path(output).is_file() and read_provenance(output) == provenance
            and read_topics(output) == [(q, " ".join(t.split())) for q, t in topics]):
        return False
    write_topics(topics, output)
    write_provenance(output, provenance)
    return True


def read_provenance(topics_path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The provenance saved beside a derived topics file, if any."""
    path = Path(str(topics_path) + PROVENANCE_SUFFIX)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def query_language(dataset: str | None, language: str | None = None, topics: str | None = None) -> str:
    """The language of the queries: ``language``, else that of derived ``topics`` (their
    provenance's ``target_lang``), else that of the dataset's queries."""
    from .languages import canonical

    if language:
        return canonical(language)
    if topics:
        provenance = read_provenance(topics)
        if provenance and provenance.get("target_lang"):
            return canonical(provenance["target_lang"])
    if dataset:
        from .collections import load
        from .collections import query_language as dataset_language

        return dataset_language(load(dataset))
    raise ConfigError("give --language for a topics file without --dataset")


def split_empty(topics: Sequence[tuple[str, str]]) -> tuple[Topics, list[str]]:
    """The topics with text, and the ids of those without (which get no results)."""
    return [(q, t) for q, t in topics if t.strip()], [q for q, t in topics if not t.strip()]
