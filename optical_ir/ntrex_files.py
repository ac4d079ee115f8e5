"""The NTREX-128 files: the sentences of each language, their article ids, and the split of
the articles into train, test and dev.

These readers sit below the collections because two things are built from them: the CLIR
collection (:mod:`optical_ir.collections.ntrex`, which re-exports them) and the bitext of
the NTREX train articles (:mod:`optical_ir.parallel`). The bitext must not import the
collections package, whose derived query sets (code-switching) learn a lexicon from it.
"""

from __future__ import annotations

import hashlib
from functools import cache, lru_cache
from typing import Literal

from . import mirror
from .errors import ConfigError
from .languages import Language, get_language, languages_with

DEV_EVERY = 5
DOC_IDS = "ntrex-128/DOCUMENT_IDS.tsv"
SOURCE = "ntrex-128/NTREX-128/newstest2019-src.eng.txt"


def sentence_file(lang: Language) -> str:
    """Manifest path of the NTREX file of ``lang`` (English: the source file)."""
    if lang.code == "en":
        return SOURCE
    if not lang.ntrex:
        raise ConfigError(f"NTREX-128 has no {lang.name} ({lang.code})")
    return f"ntrex-128/NTREX-128/newstest2019-ref.{lang.ntrex}.txt"


@lru_cache(maxsize=1)
def ntrex_languages() -> tuple[Language, ...]:
    """Languages whose NTREX file is in the manifest (English included)."""
    return tuple(lang for lang in languages_with("ntrex") if mirror.exists(sentence_file(lang)))


@lru_cache(maxsize=1)
def article_of_line() -> tuple[str, ...]:
    """The article id of each sentence line (0-based)."""
    ids = tuple(line.strip() for line in mirror.read_lines(DOC_IDS))
    if any(not i for i in ids):
        raise ValueError(f"{DOC_IDS} has an empty line")
    return ids


@cache
def sentences(code: str) -> tuple[str, ...]:
    """The 1,997 sentences of language ``code`` (aligned with the English source)."""
    lang = get_language(code)
    lines = tuple(line.strip() for line in mirror.read_lines(sentence_file(lang)))
    if len(lines) != len(article_of_line()):
        raise ValueError(
            f"{sentence_file(lang)} has {len(lines)} lines, {DOC_IDS} has {len(article_of_line())}"
        )
    return lines


@lru_cache(maxsize=1)
def article_split() -> dict[str, Literal["train", "test"]]:
    """Article id → ``'train'`` or ``'test'`` (md5 rank: even → test, odd → train)."""
    articles = sorted(set(article_of_line()), key=lambda a: hashlib.md5(a.encode()).hexdigest())
    return {a: ("test" if rank % 2 == 0 else "train") for rank, a in enumerate(articles)}


@lru_cache(maxsize=1)
def dev_articles() -> frozenset[str]:
    """The held-out train articles of the ``dev`` split: every :data:`DEV_EVERY`-th train
    article in md5 rank order (the first, the sixth, …)."""
    ranked = sorted((a for a, s in article_split().items() if s == "train"),
                    key=lambda a: hashlib.md5(a.encode()).hexdigest())
    return frozenset(ranked[::DEV_EVERY])


@lru_cache(maxsize=1)
def dev_english() -> frozenset[str]:
    """The English sentences of the dev articles (case-folded), for holding them out of bitext."""
    dev = dev_articles()
    return frozenset(e.casefold() for e, a in zip(sentences("en"), article_of_line(), strict=True) if a in dev)
