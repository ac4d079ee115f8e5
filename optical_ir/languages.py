"""Languages: any ISO 639 / BCP-47 code, through langcodes; resource levels from a data file.

Every other module asks this one for a language. Codes are parsed and normalised by
`langcodes <https://github.com/rspeer/langcodes>`_ (CLDR and the IANA subtag registry,
with ``language-data`` for names), so every valid ISO 639-1, ISO 639-3 or BCP-47 code works,
in any case, with ``_`` or ``-``: ``swa``, ``swh`` and ``swh_Latn`` are ``sw``; ``cmn`` is
``zh``; ``srp-Cyrl`` is ``sr`` and ``srp-Latn`` is ``sr-Latn``; ``zho-TW`` is ``zh-TW``.

The canonical code (:func:`canonical`) is the shortest BCP-47 tag: CLDR's language aliases
applied (an individual language that is the main member of its macrolanguage takes the
macrolanguage's code: ``swh`` → ``sw``, ``arb`` → ``ar``, ``pes`` → ``fa``), the two-letter
code where ISO 639-1 has one, and the script dropped when it is the language's likely one.
A data set names its files with its own codes (NTREX ``zho-CN``, Tatoeba ``cmn``);
:func:`dataset_codes` turns them into canonical codes, and drops a region too where it is the
language's likely region and the data set holds no other file for the bare language (NTREX
``zho-CN`` is ``zh``, but ``eng-US`` stays ``en-US`` beside the English source ``eng``).
:func:`match` finds a code among a data set's codes (``zh-CN`` or ``zh-Hans`` find ``zh``).

What no library holds — the resource level and the family — is data:
``optical_ir/resources/languages.tsv`` (source and definition in its header), extended or
overridden by a TSV of the same columns named by ``OPTICAL_IR_LANGUAGES``, or by
:func:`declare`. A language without a level works everywhere except where the level is
needed (:func:`resource_level`, e.g. for low/high group averages), which raises
:class:`UndeclaredResourceError` saying how to declare it.

Resource level follows Joshi et al. (ACL 2020, "The State and Fate of Linguistic Diversity
and Inclusion in the NLP World"): ``high`` for their classes 3-5, ``low`` for classes 0-2.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal, NamedTuple

from .errors import ConfigError

Resource = Literal["low", "high"]
LANGUAGES_ENV = "OPTICAL_IR_LANGUAGES"
_COLUMNS = ("code", "resource", "family", "source")


class Language(NamedTuple):
    """One language (or regional/script variant), as langcodes and the data file know it."""

    code: str
    """Canonical BCP-47 code: ISO 639-1 where one exists, else ISO 639-3, plus subtags."""
    iso639_3: str
    name: str
    """English name (langcodes, from CLDR)."""
    script: str
    """ISO 15924 code of the language's likely script (``Latn``, ``Cyrl``, ``Hans`` …)."""
    family: str | None
    """Top-level family, where the data file (or a declaration) has one."""
    resource: Resource | None
    """``'low'`` or ``'high'`` where declared; ``None`` otherwise (see :func:`resource_level`)."""


class UnknownLanguageError(ConfigError):
    """A code that is not a valid language tag, or not one a data set covers."""

    def __init__(self, code: str, valid: Iterable[str] | None = None, what: str = "language") -> None:
        if valid is None:
            why = (f"unknown {what} code {code!r}: not a valid ISO 639 / BCP-47 language tag. Give an ISO 639-1 "
                   f"(sw), ISO 639-3 (swa, swh) or BCP-47 code (zh-TW, sr-Latn); FLORES-200 codes (swh_Latn) "
                   f"work too")
        else:
            why = f"unknown {what} code {code!r}. Valid codes: {', '.join(sorted(valid))}"
        super().__init__(why)
        self.code = code


class UndeclaredResourceError(ConfigError):
    """A language whose resource level is needed but declared nowhere."""


def _parse(code: str):  # -> langcodes.Language
    import langcodes

    if not isinstance(code, str) or not code.strip():
        raise UnknownLanguageError(repr(code))
    tag = code.strip().replace("_", "-")
    try:
        valid = langcodes.tag_is_valid(tag)
        lang = langcodes.Language.get(langcodes.standardize_tag(tag, macro=True)) if valid else None
    except (ValueError, LookupError):
        lang = None
    if lang is None or not lang.language or lang.language == "und" or "Unknown" in lang.display_name():
        raise UnknownLanguageError(code)  # private-use subtags (en-XX) name nothing
    return lang


@cache
def _maximal(tag: str) -> str:
    import langcodes

    return langcodes.Language.get(tag).maximize().to_tag()


@cache
def canonical(code: str) -> str:
    """Canonical code of ``code`` (``swa`` → ``sw``, ``srp-Cyrl`` → ``sr``, ``zho-TW`` → ``zh-TW``).

    Raises
    ------
    UnknownLanguageError
        If ``code`` is not a valid language tag.
    """
    lang = _parse(code)
    if lang.script:
        plain = lang.update_dict({"script": None})
        if _maximal(plain.to_tag()) == _maximal(lang.to_tag()):
            lang = plain
    return lang.to_tag()


def _same_language(a: str, b: str) -> bool:
    """Whether two canonical codes name the same language once likely subtags are filled in."""
    return a == b or _maximal(a) == _maximal(b)


def match(code: str, available: Iterable[str]) -> str | None:
    """The code among ``available`` (canonical codes) that names the language ``code``, or ``None``.

    ``code`` itself, then its canonical form, wins; otherwise the one code whose likely script and region are
    those of ``code`` (``zh-CN`` and ``zh-Hans`` find ``zh``).
    """
    pool = list(available)
    if isinstance(code, str) and code.strip() in pool:
        return code.strip()
    wanted = canonical(code)
    if wanted in pool:
        return wanted
    found = [a for a in pool if _same_language(wanted, a)]
    return found[0] if len(found) == 1 else None


def dataset_codes(file_codes: Iterable[str]) -> dict[str, str]:
    """Canonical code → a data set's own code, for the codes of its files.

    A code with a region takes the bare language code where the region is the language's
    likely one and no other file of the data set has the bare language (NTREX ``zho-CN`` →
    ``zh``; ``por-BR`` stays ``pt-BR`` beside ``por``). Where two files name one language once
    normalised, the one whose code is already canonical keeps it and the other keeps its own
    code (Tatoeba ``dtp`` and ``kzj``, a retired code of the same language).

    Raises
    ------
    AssertionError
        If two of the data set's codes name the same language (a bug in the caller's list).
    """
    tags = {f: canonical(f) for f in file_codes}
    counts = Counter(tags.values())
    out: dict[str, str] = {}
    for f, tag in tags.items():
        bare = tag.split("-")[0]
        if counts[tag] > 1 and f != tag:
            tag = f  # two files, one language once normalised (Tatoeba kzj, a retired code, and dtp)
        elif tag != bare and bare not in counts and _maximal(tag) == _maximal(bare):
            tag = bare
        if tag in out:
            raise AssertionError(f"data set codes {out[tag]!r} and {f!r} are both {tag!r}")
        out[tag] = f
    return out


# -- the data file: resource level and family -------------------------------------------------
_declared: dict[str, tuple[Resource, str | None, str]] = {}


def _read_levels(text: str, where: str) -> dict[str, tuple[Resource, str | None, str]]:
    rows = csv.DictReader((line for line in text.splitlines() if line and not line.startswith("#")), delimiter="\t")
    missing = [c for c in _COLUMNS if c not in (rows.fieldnames or [])]
    if missing:
        raise ConfigError(f"{where}: missing column(s) {', '.join(missing)}; a language file has the tab-separated "
                          f"columns {', '.join(_COLUMNS)} (and optionally name)")
    out: dict[str, tuple[Resource, str | None, str]] = {}
    for n, row in enumerate(rows, start=2):
        level = (row["resource"] or "").strip()
        if level not in ("low", "high"):
            raise ConfigError(f"{where}: line {n}: resource {level!r} for {row['code']!r} is not 'low' or 'high'")
        try:
            code = canonical(row["code"])
        except UnknownLanguageError as err:
            raise ConfigError(f"{where}: line {n}: {err}") from None
        out[code] = (level, (row["family"] or "").strip() or None, (row["source"] or "").strip())  # type: ignore[assignment]
    return out


@cache
def _packaged() -> dict[str, tuple[Resource, str | None, str]]:
    text = resources.files("optical_ir.resources").joinpath("languages.tsv").read_text("utf-8")
    return _read_levels(text, "optical_ir/resources/languages.tsv")


@cache
def _from_env(path: str) -> dict[str, tuple[Resource, str | None, str]]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{LANGUAGES_ENV}={path}: no such file; it names a TSV with the columns "
                          f"{', '.join(_COLUMNS)}")
    return _read_levels(p.read_text("utf-8"), str(p))


def _levels() -> dict[str, tuple[Resource, str | None, str]]:
    levels = dict(_packaged())
    if os.environ.get(LANGUAGES_ENV):
        levels.update(_from_env(os.environ[LANGUAGES_ENV]))
    levels.update(_declared)
    return levels


def declare(code: str, resource: Resource, family: str | None = None, source: str = "declared") -> None:
    """Declare (or override) the resource level and family of a language for this process."""
    if resource not in ("low", "high"):
        raise ConfigError(f"resource level {resource!r} for {code!r} is not 'low' or 'high'")
    _declared[canonical(code)] = (resource, family, source)


def _level_of(code: str) -> tuple[Resource, str | None, str] | None:
    levels = _levels()
    key = match(code, levels)
    return levels[key] if key else None


def get_language(code: str) -> Language:
    """The language named by ``code`` (any valid ISO 639 / BCP-47 code, any case).

    Raises
    ------
    UnknownLanguageError
        If ``code`` is not a valid language tag; nothing falls back to English.
    """
    import langcodes

    tag = canonical(code)
    lang = langcodes.Language.get(tag)
    try:
        iso3 = lang.to_alpha3()
    except LookupError:
        iso3 = lang.language
    if lang.territory or lang.script:
        iso3 = "-".join([iso3, *[s for s in (lang.script, lang.territory) if s]])
    level = _level_of(tag)
    return Language(tag, iso3, lang.display_name(), lang.maximize().script or "Zyyy",
                    level[1] if level else None, level[0] if level else None)


def resource_level(code: str) -> Resource:
    """``'low'`` or ``'high'``.

    Raises
    ------
    UndeclaredResourceError
        If no data file or declaration gives the language a level; the message says how.
    """
    level = _level_of(code)
    if level is None:
        lang = get_language(code)
        raise UndeclaredResourceError(
            f"no resource level for {lang.code!r} ({lang.name}): it is needed here to put the language in the low- "
            f"or high-resource group. Declare it in a TSV with the columns {', '.join(_COLUMNS)} named by "
            f"{LANGUAGES_ENV} (e.g. '{lang.code}\tlow\t<family>\tyour-source'), call "
            f"optical_ir.languages.declare({lang.code!r}, 'low'), or list the groups yourself "
            f"(languages: {{low: [...], high: [...]}} in a reproduction config)")
    return level[0]


def declared_languages() -> tuple[Language, ...]:
    """The languages with a declared resource level, in code order."""
    return tuple(get_language(c) for c in sorted(_levels()))


def group_by_resource(codes: Iterable[str]) -> dict[str, list[str]]:
    """``{'low': [...], 'high': [...]}`` of ``codes`` (each needs a declared level)."""
    groups: dict[str, list[str]] = {"low": [], "high": []}
    for code in codes:
        groups[resource_level(code)].append(code)
    return {k: v for k, v in groups.items() if v}


LOW_RESOURCE_DEFAULT: tuple[str, ...] = ("sw", "so", "ha", "yo")
HIGH_RESOURCE_DEFAULT: tuple[str, ...] = ("de", "fr", "zh")
DEFAULT_PAIRS: tuple[str, ...] = LOW_RESOURCE_DEFAULT + HIGH_RESOURCE_DEFAULT
"""The seven default query languages (X in X→English): four low-, three high-resource."""
