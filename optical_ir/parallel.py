"""X–English sentence pairs for training (distillation, translation tables).

Sources (select with ``sources=``; ``"all"`` means every source that covers the language):

* ``ntrex`` — the NTREX-128 sentences of the **train** articles (the default): never a
  sentence of the test articles that the ``optical-ir/ntrex/*/test`` collections use;
* ``tatoeba`` — Tatoeba (LASER v1 release), up to 1,000 pairs per language;
* ``mafand`` — MAFAND-MT (lafand-mt) ``train`` split, for the African languages it covers
  (its dev/test English sides are the distractors of ``test-large``, so they are not used);
* ``multi30k`` — Multi30k task 1 ``train`` captions (de, fr, cs).

Pairs are normalised for white space and deduplicated (case-insensitively) within and
across sources; a pair whose English side is an English sentence of any NTREX test
article is dropped, so no bitext sentence is a test query's source.

``python -m optical_ir.bitext`` counts the pairs per source and writes them as TSV.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from typing import NamedTuple

from . import mirror
from .errors import ConfigError, DataFormatError
from .languages import Language, get_language

SOURCES: tuple[str, ...] = ("ntrex", "tatoeba", "mafand", "multi30k")
DEFAULT_SOURCES: tuple[str, ...] = ("ntrex",)
MULTI30K_LANGS: tuple[str, ...] = ("de", "fr", "cs")


class BitextPair(NamedTuple):
    source: str
    """Sentence in language ``lang``."""
    english: str
    lang: str
    origin: str
    """The source it came from (``ntrex``, ``tatoeba``, ``mafand``, ``multi30k``)."""


def _ntrex(lang: Language) -> Iterator[tuple[str, str]]:
    from . import ntrex_files as ntrex

    if lang not in ntrex.ntrex_languages():
        return
    text, english = ntrex.sentences(lang.code), ntrex.sentences("en")
    split = ntrex.article_split()
    for i, article in enumerate(ntrex.article_of_line()):
        if split[article] == "train":
            yield text[i], english[i]


def _parallel(src_path: str, en_path: str) -> Iterator[tuple[str, str]]:
    src, en = mirror.read_lines(src_path), mirror.read_lines(en_path)
    if len(src) != len(en):
        raise DataFormatError(src_path, f"{len(src)} lines, but {en_path} has {len(en)}; the two sides of a bitext "
                                        f"must be line-aligned")
    yield from zip(src, en, strict=True)


def _tatoeba(lang: Language) -> Iterator[tuple[str, str]]:
    if lang.tatoeba:
        base = f"tatoeba/data/tatoeba/v1/tatoeba.{lang.tatoeba}-eng"
        if mirror.exists(f"{base}.{lang.tatoeba}"):
            yield from _parallel(f"{base}.{lang.tatoeba}", f"{base}.eng")


def _mafand(lang: Language) -> Iterator[tuple[str, str]]:
    if lang.mafand:
        for sep in ("-", "_"):
            base = f"lafand-mt/data/text_files/en{sep}{lang.mafand}/train"
            if mirror.exists(f"{base}.{lang.mafand}"):
                yield from _parallel(f"{base}.{lang.mafand}", f"{base}.en")


def _multi30k(lang: Language) -> Iterator[tuple[str, str]]:
    if lang.code in MULTI30K_LANGS:
        base = "multi30k/data/task1/raw/train"
        yield from _parallel(f"{base}.{lang.code}.gz", f"{base}.en.gz")


_READERS = {"ntrex": _ntrex, "tatoeba": _tatoeba, "mafand": _mafand, "multi30k": _multi30k}


def resolve_sources(sources: str | Iterable[str]) -> tuple[str, ...]:
    names = [sources] if isinstance(sources, str) else list(sources)
    if "all" in names:
        return SOURCES
    bad = [s for s in names if s not in SOURCES]
    if bad or not names:
        raise ConfigError(f"unknown bitext source(s) {bad or names}; choose from {', '.join(SOURCES)} or 'all'")
    return tuple(dict.fromkeys(names))


def _test_english() -> set[str]:
    from . import ntrex_files as ntrex

    split = ntrex.article_split()
    english = ntrex.sentences("en")
    return {" ".join(english[i].split()).casefold()
            for i, a in enumerate(ntrex.article_of_line()) if split[a] == "test"}


def load_bitext(lang: str, sources: str | Iterable[str] = DEFAULT_SOURCES, holdout: bool = False) -> list[BitextPair]:
    """Deduplicated X–English pairs of language ``lang`` from ``sources``.

    ``holdout`` also drops every pair whose English side is a sentence of the NTREX dev
    articles (``optical-ir/ntrex/<xx>-en/dev``), so that collection can validate training.
    """
    language = get_language(lang)
    if language.code == "en":
        raise ConfigError("bitext pairs a non-English language with English; got 'en'")
    blocked = _test_english()
    if holdout:
        from . import ntrex_files as ntrex

        blocked = blocked | {" ".join(e.split()) for e in ntrex.dev_english()}
    seen: set[tuple[str, str]] = set()
    out = []
    for name in resolve_sources(sources):
        for src, en in _READERS[name](language):
            src, en = " ".join(src.split()), " ".join(en.split())
            key = (src.casefold(), en.casefold())
            if not src or not en or key in seen or key[1] in blocked:
                continue
            seen.add(key)
            out.append(BitextPair(src, en, language.code, name))
    return out


def counts(pairs: Sequence[BitextPair]) -> Counter[str]:
    """Pairs per source."""
    return Counter(p.origin for p in pairs)


def write_tsv(pairs: Sequence[BitextPair], path: str) -> None:
    """Write pairs as ``X<TAB>English`` lines, atomically."""
    from .files import atomic_write

    with atomic_write(path) as f:
        f.writelines(f"{p.source}\t{p.english}\n" for p in pairs)
