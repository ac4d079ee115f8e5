"""The translator interface, the on-disk translation cache, and precomputed translations.

Every translator turns topics ``(qid, text in X)`` into English topics ``(qid, text)`` and
says where its translations came from (:meth:`Translator.provenance`), which
``python -m optical_ir.translate`` saves beside the topics file (:func:`translate`). A translator that works
text by text (:class:`TextTranslator`: NMT, the lexical table) goes through
:class:`TranslationCache`: a SQLite file keyed by the translator's ``key`` (method + model
or table digest + settings) and the source text, so a rerun translates nothing twice.
"""

from __future__ import annotations

import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import MismatchError, MissingInputError

Topics = list[tuple[str, str]]


class Translator(ABC):
    """Translates topics in ``source_lang`` into English."""

    source_lang: str

    @abstractmethod
    def provenance(self) -> dict[str, Any]:
        """Method, model or table, and settings: saved with the translated topics."""

    @abstractmethod
    def translate_topics(self, topics: Sequence[tuple[str, str]]) -> Topics:
        """English ``(qid, text)`` for every topic, in the same order."""


class TextTranslator(Translator):
    """A translator of single texts, cached on disk by :attr:`key` and text."""

    @property
    @abstractmethod
    def key(self) -> str:
        """Names everything that determines a translation (method, model/table, settings)."""

    @abstractmethod
    def translate_batch(self, texts: Sequence[str]) -> list[str]:
        """English translations of ``texts`` (no caching here)."""

    def translate_topics(self, topics: Sequence[tuple[str, str]], cache: TranslationCache | None = None,
                         batch_size: int = 32) -> Topics:
        from tqdm.auto import tqdm

        cache = cache if cache is not None else TranslationCache.default()
        texts = [text for _, text in topics]
        done = cache.get_many(self.key, texts)
        todo = sorted({t for t in texts if t not in done and t.strip()}, key=len)
        for start in tqdm(range(0, len(todo), batch_size), desc=f"translate {self.source_lang}→en",
                          unit="batch", disable=not todo):
            part = todo[start : start + batch_size]
            out = self.translate_batch(part)
            if len(out) != len(part):
                raise RuntimeError(f"{type(self).__name__} returned {len(out)} translations for {len(part)} texts")
            cache.put_many(self.key, dict(zip(part, out, strict=True)))
            done.update(zip(part, out, strict=True))
        return [(qid, done.get(text, "")) for qid, text in topics]


class TranslationCache:
    """Translations on disk: ``(translator key, source text) → English`` in SQLite."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute("CREATE TABLE IF NOT EXISTS translation (key TEXT, source TEXT, english TEXT, "
                       "PRIMARY KEY (key, source))")
        self.hits = 0

    @classmethod
    def default(cls) -> TranslationCache:
        """The cache under ``$OPTICAL_IR_CACHE/translation/``."""
        from ..mirror import cache_dir

        return cls(cache_dir() / "translation" / "cache.sqlite")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=60)

    def get_many(self, key: str, texts: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        distinct = list(dict.fromkeys(texts))
        with self._connect() as db:
            for start in range(0, len(distinct), 500):
                part = distinct[start : start + 500]
                marks = ",".join("?" * len(part))
                rows = db.execute(f"SELECT source, english FROM translation WHERE key = ? AND source IN ({marks})",
                                  [key, *part])
                found.update(rows.fetchall())
        self.hits += len(found)
        return found

    def put_many(self, key: str, translations: dict[str, str]) -> None:
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO translation VALUES (?, ?, ?)",
                           [(key, s, e) for s, e in translations.items()])


class PrecomputedTranslator(Translator):
    """English topics given in a ``qid<TAB>english`` file (as HC4 and Pyserini ship MT topics).

    Every query id to translate must be in the file; a malformed line is an error with its
    line number (:func:`optical_ir.trec.read_topics`).
    """

    def __init__(self, path: str | os.PathLike[str], source_lang: str) -> None:
        from ..languages import canonical
        from ..trec import read_topics

        self.path = Path(path)
        if not self.path.is_file():
            raise MissingInputError(f"no precomputed translations at {self.path} (a 'qid<TAB>english' file)")
        self.source_lang = canonical(source_lang)
        self.translations = dict(read_topics(self.path))

    def provenance(self) -> dict[str, Any]:
        from ..mirror import md5sum

        return {"method": "precomputed", "file": str(self.path), "md5": md5sum(self.path),
                "source_lang": self.source_lang}

    def translate_topics(self, topics: Sequence[tuple[str, str]]) -> Topics:
        missing = [qid for qid, _ in topics if qid not in self.translations]
        if missing:
            shown = ", ".join(missing[:10]) + (" …" if len(missing) > 10 else "")
            raise MismatchError(f"{self.path} has no translation for {len(missing)} of {len(topics)} queries: {shown}")
        return [(qid, self.translations[qid]) for qid, _ in topics]


def translate(translator: Translator, topics: Sequence[tuple[str, str]], output: str | os.PathLike[str],
              dataset: str | None = None, batch_size: int = 32) -> Topics:
    """Translate ``topics`` and write them, with their provenance beside them (``<output>.json``)."""
    from ..topics import write_provenance
    from ..trec import write_topics

    if isinstance(translator, TextTranslator):
        english = translator.translate_topics(topics, batch_size=batch_size)
    else:
        english = translator.translate_topics(topics)
    write_topics(english, output)
    write_provenance(output, {**translator.provenance(), "target_lang": "en", "dataset": dataset,
                              "queries": len(english)})
    return english
