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

import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import NamedTuple

from . import mirror
from .errors import ConfigError, DataFormatError
from .languages import Language, dataset_codes, get_language, match

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

    code = match(lang.code, ntrex.ntrex_codes())
    if code is None:
        return
    text, english = ntrex.sentences(code), ntrex.sentences("en")
    split = ntrex.article_split()
    for i, article in enumerate(ntrex.article_of_line()):
        if split[article] == "train":
            yield text[i], english[i]


def parallel_lines(src_path: str, en_path: str) -> Iterator[tuple[str, str]]:
    """The line pairs of two line-aligned manifest files (X side first).

    Raises
    ------
    DataFormatError
        If the two files differ in length.
    """
    src, en = mirror.read_lines(src_path), mirror.read_lines(en_path)
    if len(src) != len(en):
        raise DataFormatError(src_path, f"{len(src)} lines, but {en_path} has {len(en)}; the two sides of a bitext "
                                        f"must be line-aligned")
    yield from zip(src, en, strict=True)


TATOEBA_DIR = "tatoeba/data/tatoeba/v1"
_TATOEBA = re.compile(rf"^{TATOEBA_DIR}/tatoeba\.([a-z]+)-eng\.\1$")
_MAFAND = re.compile(r"^lafand-mt/data/text_files/en[-_]([a-z]+)/train\.\1$")


@lru_cache(maxsize=1)
def tatoeba_codes() -> dict[str, str]:
    """Canonical code → Tatoeba (LASER v1) file code, for every language of the manifest."""
    return dataset_codes(m.group(1) for p in mirror.manifest() if (m := _TATOEBA.match(p)))


def tatoeba_files(code: str) -> tuple[str, str] | None:
    """Manifest paths of the X and the English side of the Tatoeba pairs of ``code``, if any."""
    found = match(code, tatoeba_codes())
    if found is None:
        return None
    file_code = tatoeba_codes()[found]
    base = f"{TATOEBA_DIR}/tatoeba.{file_code}-eng"
    return f"{base}.{file_code}", f"{base}.eng"


@lru_cache(maxsize=1)
def mafand_train_files() -> dict[str, str]:
    """Canonical code → the MAFAND-MT train file of the X side."""
    paths = {m.group(1): p for p in mirror.manifest() if (m := _MAFAND.match(p))}
    return {code: paths[file_code] for code, file_code in dataset_codes(paths).items()}


def _tatoeba(lang: Language) -> Iterator[tuple[str, str]]:
    files = tatoeba_files(lang.code)
    if files:
        yield from parallel_lines(*files)


def _mafand(lang: Language) -> Iterator[tuple[str, str]]:
    found = match(lang.code, mafand_train_files())
    if found:
        path = mafand_train_files()[found]
        yield from parallel_lines(path, path.rsplit(".", 1)[0] + ".en")


def _multi30k(lang: Language) -> Iterator[tuple[str, str]]:
    if lang.code in MULTI30K_LANGS:
        base = "multi30k/data/task1/raw/train"
        yield from parallel_lines(f"{base}.{lang.code}.gz", f"{base}.en.gz")


def bitext_origin(sources: Sequence[str], files: Sequence[str] = ()) -> str:
    """Where pairs come from, for messages: ``--bitext <files>`` or ``sources <names>``."""
    return f"--bitext {' '.join(files)}" if files else f"sources {', '.join(sources)}"


def read_bitext(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> list[tuple[str, str]]:
    """The pairs of a user's bitext: one TSV of ``x<TAB>english`` lines, or two line-aligned
    plain files (X side first).

    Raises
    ------
    MissingInputError
        If a file does not exist.
    DataFormatError
        If a TSV line has no tab, or the two files differ in length; the message names the
        file and line.
    """
    from pathlib import Path

    from .errors import MissingInputError

    files = [Path(p) for p in ([paths] if isinstance(paths, str | os.PathLike) else paths)]
    if len(files) not in (1, 2):
        raise ConfigError(f"--bitext takes one TSV (x<TAB>english) or two line-aligned files, not {len(files)}")
    for f in files:
        if not f.is_file():
            raise MissingInputError(f"bitext file {f} does not exist")
    if len(files) == 2:
        src = files[0].read_text("utf-8").splitlines()
        en = files[1].read_text("utf-8").splitlines()
        if len(src) != len(en):
            raise DataFormatError(str(files[0]), f"{len(src)} lines, but {files[1]} has {len(en)}; the two files "
                                                 f"of --bitext must be line-aligned (X side first, then English)")
        return list(zip(src, en, strict=True))
    out = []
    for n, line in enumerate(files[0].read_text("utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        if "\t" not in line:
            raise DataFormatError(str(files[0]), f"line {n} has no tab; a bitext TSV has x<TAB>english lines "
                                                 f"(or give two line-aligned files)")
        src, en = line.split("\t", 1)
        out.append((src, en.split("\t")[0]))
    return out


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


def load_bitext(lang: str, sources: str | Iterable[str] = DEFAULT_SOURCES, holdout: bool = False,
                files: str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | None = None) -> list[BitextPair]:
    """Deduplicated X–English pairs of language ``lang`` from ``sources``, or from ``files``.

    ``files`` (what ``--bitext`` gives) replaces the sources with the user's own pairs
    (:func:`read_bitext`); ``lang`` may then be any valid language code.

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
    streams = [("file", read_bitext(files))] if files is not None else \
        [(name, _READERS[name](language)) for name in resolve_sources(sources)]
    for name, pairs in streams:
        for src, en in pairs:
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
