"""In-memory ir_datasets components for the toolkit's small embedded collections.

A collection is built once per process from the mirrored files by a *builder* (a function
returning :class:`Built`), then served through the usual ir_datasets interfaces:
``docs_iter``/``docs_store``/``docs_count``, ``queries_iter``, ``qrels_iter``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import cached_property
from typing import Any, NamedTuple

import ir_datasets
from ir_datasets.formats import BaseDocs, BaseQrels, BaseQueries, TrecQrel
from ir_datasets.indices import Docstore

NAMESPACE = "optical-ir"


class Built(NamedTuple):
    """The three parts of a built collection."""

    docs: Sequence[Any]
    queries: Sequence[Any]
    qrels: Sequence[TrecQrel]


class TranslatedQuery(NamedTuple):
    """A query in language ``lang`` with its English source (for translation baselines and the
    English ceiling): the query record of XQuAD-R and of the parallel-sentence collections."""

    query_id: str
    text: str
    lang: str
    english: str

    def default_text(self) -> str:
        return self.text


class MemoryDocstore(Docstore):
    """A docstore over a dict of documents (the embedded collections are small)."""

    def __init__(self, docs: Iterable[Any], doc_cls: type) -> None:
        super().__init__(doc_cls, "doc_id")
        self._docs = {d.doc_id: d for d in docs}

    def get_many_iter(self, doc_ids: Iterable[str]) -> Iterator[Any]:
        for doc_id in doc_ids:
            if doc_id in self._docs:
                yield self._docs[doc_id]


class LazyCollection:
    """Builds a collection on first use and keeps it for the process."""

    def __init__(self, builder: Callable[[], Built]) -> None:
        self._builder = builder

    @cached_property
    def built(self) -> Built:
        return self._builder()


class MemoryDocs(BaseDocs):
    def __init__(self, lazy: LazyCollection, doc_cls: type, namespace: str, lang: str) -> None:
        self._lazy, self._cls, self._namespace, self._lang = lazy, doc_cls, namespace, lang

    def docs_iter(self) -> Iterator[Any]:
        return iter(self._lazy.built.docs)

    def docs_count(self) -> int:
        return len(self._lazy.built.docs)

    def docs_cls(self) -> type:
        return self._cls

    def docs_namespace(self) -> str:
        """Identifies the document set: datasets that share it share their indexes."""
        return self._namespace

    def docs_lang(self) -> str:
        return self._lang

    def docs_store(self, field: str = "doc_id") -> MemoryDocstore:
        return MemoryDocstore(self._lazy.built.docs, self._cls)


class MemoryQueries(BaseQueries):
    def __init__(self, lazy: LazyCollection, query_cls: type, namespace: str, lang: str) -> None:
        self._lazy, self._cls, self._namespace, self._lang = lazy, query_cls, namespace, lang

    def queries_iter(self) -> Iterator[Any]:
        return iter(self._lazy.built.queries)

    def queries_cls(self) -> type:
        return self._cls

    def queries_namespace(self) -> str:
        return self._namespace

    def queries_lang(self) -> str:
        return self._lang


class MemoryQrels(BaseQrels):
    def __init__(self, lazy: LazyCollection, defs: dict[int, str]) -> None:
        self._lazy, self._defs = lazy, defs

    def qrels_iter(self) -> Iterator[TrecQrel]:
        return iter(self._lazy.built.qrels)

    def qrels_cls(self) -> type:
        return TrecQrel

    def qrels_defs(self) -> dict[int, str]:
        return self._defs


def make_dataset(
    builder: Callable[[], Built],
    *,
    doc_cls: type,
    query_cls: type,
    docs_namespace: str,
    queries_namespace: str,
    query_lang: str,
    qrels_defs: dict[int, str],
) -> ir_datasets.datasets.base.Dataset:
    """An ir_datasets ``Dataset`` whose parts are built lazily by ``builder``."""
    lazy = LazyCollection(builder)
    return ir_datasets.datasets.base.Dataset(
        MemoryDocs(lazy, doc_cls, docs_namespace, "en"),
        MemoryQueries(lazy, query_cls, queries_namespace, query_lang),
        MemoryQrels(lazy, qrels_defs),
    )


def language_dataset(
    family: str,
    title: str,
    code: str,
    covered: Sequence[str],
    builder: Callable[[str], Built],
    *,
    doc_cls: type,
    query_cls: type,
    docs_namespace: str,
    qrels_defs: dict[int, str],
) -> ir_datasets.datasets.base.Dataset:
    """The dataset of collection ``family`` (display name ``title``) for query language ``code``.

    Raises
    ------
    UnknownLanguageError
        If ``code`` is not a language tag, or names none of the ``covered`` languages (canonical
        codes, listed in the message); ``zh-CN`` finds ``zh`` (:func:`optical_ir.languages.match`).
    """
    from ..languages import UnknownLanguageError, match

    found = match(code, covered)
    if found is None:
        raise UnknownLanguageError(code, list(covered), f"{title} language")
    return make_dataset(
        lambda: builder(found),
        doc_cls=doc_cls,
        query_cls=query_cls,
        docs_namespace=docs_namespace,
        queries_namespace=f"{NAMESPACE}/{family}/{found}",
        query_lang=found,
        qrels_defs=qrels_defs,
    )


def register(dataset_id: str, dataset: Any) -> None:
    """Register ``dataset_id`` unless it already is (re-import safe)."""
    if dataset_id not in ir_datasets.registry._registered:
        ir_datasets.registry.register(dataset_id, dataset)


def register_pattern(pattern: str, initializer: Callable[[str, tuple[str, ...]], Any]) -> None:
    """Register a lazy id pattern (used for language aliases and error messages)."""
    if all(p.pattern != pattern for p, _ in ir_datasets.registry._patterns):
        ir_datasets.registry.register_pattern(pattern, initializer)
