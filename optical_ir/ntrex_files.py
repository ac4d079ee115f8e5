"""The NTREX-128 files: the sentences of each language, their article ids, and the split of
the articles into train, test and dev.

These readers sit below the collections because two things are built from them: the CLIR
collection (:mod:`optical_ir.collections.ntrex`, which re-exports them) and the bitext of
the NTREX train articles (:mod:`optical_ir.parallel`). The bitext must not import the
collections package, whose derived query sets (code-switching) learn a lexicon from it.
"""

from __future__ import annotations

import hashlib
import re
from functools import cache, lru_cache
from typing import Literal

from . import mirror
from .languages import Language, UnknownLanguageError, dataset_codes, get_language, match

DEV_EVERY = 5
DEV_RANKS = (0, 2)
"""Of every :data:`DEV_EVERY` train articles in md5 rank, those at these positions are ``dev``
(two in five: 25 articles); ``dev-small`` keeps the first alone (13 articles)."""
DOC_IDS = "ntrex-128/DOCUMENT_IDS.tsv"
SOURCE = "ntrex-128/NTREX-128/newstest2019-src.eng.txt"
_REFERENCE = re.compile(r"^ntrex-128/NTREX-128/newstest2019-ref\.(.+)\.txt$")


@lru_cache(maxsize=1)
def ntrex_codes() -> dict[str, str]:
    """Canonical code → NTREX file code, for every reference file of the manifest (and the
    English source, ``en`` → ``eng``). The manifest pins all 128 references; a file the mirror
    lacks is downloaded on first use, or gives :class:`~optical_ir.mirror.MissingDataError`."""
    found = ["eng"] + [m.group(1) for p in mirror.manifest() if (m := _REFERENCE.match(p))]
    return dataset_codes(found)


def ntrex_code(code: str) -> str:
    """The NTREX-128 code (canonical, as in the dataset ids) of the language ``code``.

    Raises
    ------
    UnknownLanguageError
        If ``code`` is not a language tag, or NTREX-128 has no such language (the message
        lists the ones it has).
    """
    found = match(code, ntrex_codes())
    if found is None:
        raise UnknownLanguageError(code, ntrex_codes(), "NTREX-128 language")
    return found


def sentence_file(lang: Language | str) -> str:
    """Manifest path of the NTREX file of ``lang`` (English: the source file)."""
    code = ntrex_code(lang.code if isinstance(lang, Language) else lang)
    if code == "en":
        return SOURCE
    return f"ntrex-128/NTREX-128/newstest2019-ref.{ntrex_codes()[code]}.txt"


@lru_cache(maxsize=1)
def ntrex_languages() -> tuple[Language, ...]:
    """Languages whose NTREX file is in the manifest (English included)."""
    return tuple(get_language(c) for c in ntrex_codes())


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
    path = sentence_file(code)
    lines = tuple(line.strip() for line in mirror.read_lines(path))
    if len(lines) != len(article_of_line()):
        raise ValueError(
            f"{path} has {len(lines)} lines, {DOC_IDS} has {len(article_of_line())}"
        )
    return lines


@lru_cache(maxsize=1)
def article_split() -> dict[str, Literal["train", "test"]]:
    """Article id → ``'train'`` or ``'test'`` (md5 rank: even → test, odd → train)."""
    articles = sorted(set(article_of_line()), key=lambda a: hashlib.md5(a.encode()).hexdigest())
    return {a: ("test" if rank % 2 == 0 else "train") for rank, a in enumerate(articles)}


@lru_cache(maxsize=2)
def dev_articles(small: bool = False) -> frozenset[str]:
    """The held-out train articles of the ``dev`` split: of every :data:`DEV_EVERY` train
    articles in md5 rank order, those at :data:`DEV_RANKS` (the first, third, sixth, eighth,
    …). ``small``: those of ``dev-small``, the first of every five alone (a subset)."""
    ranked = sorted((a for a, s in article_split().items() if s == "train"),
                    key=lambda a: hashlib.md5(a.encode()).hexdigest())
    keep = DEV_RANKS[:1] if small else DEV_RANKS
    return frozenset(a for rank, a in enumerate(ranked) if rank % DEV_EVERY in keep)


@lru_cache(maxsize=1)
def dev_english() -> frozenset[str]:
    """The English sentences of the dev articles (case-folded), for holding them out of bitext."""
    dev = dev_articles()
    return frozenset(e.casefold() for e, a in zip(sentences("en"), article_of_line(), strict=True) if a in dev)
