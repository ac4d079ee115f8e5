"""Parallel-sentence retrieval: a sentence in language X finds its English translation.

The task of the XTREME / LASER Tatoeba benchmark (Artetxe and Schwenk, 2019), as a CLIR
collection with one registration pattern for every source of aligned sentences:

* **documents** — the English sides of the pairs, doc id ``en-<n>`` (1-based pair number);
* **queries** — the X sides, query id ``<n>``;
* **qrels** — relevance 1 for the English sentence of the same pair, and for every other
  English sentence with the same text (case and white space folded): identical candidates
  cannot be told apart, so either counts as found.

Report accuracy@1 (ir-measures ``P@1``, the benchmark's measure) and ``RR`` beside MAP.

Sources:

* ``optical-ir/tatoeba/<xx>-en`` — Tatoeba (LASER v1 release), up to 1,000 pairs for each of
  the 110 languages of the mirror (:func:`optical_ir.parallel.tatoeba_codes`);
* ``optical-ir/xnli/<xx>-en/{test,validation}`` — the XNLI premises (Conneau et al., 2018;
  ``facebook/xnli``; each premise once: XNLI pairs it with three hypotheses);
* ``optical-ir/mtop/<xx>-en/{test,validation}`` — MTOP utterances (Li et al., 2021;
  ``mteb/mtop_domain``, aligned by their ``id``);
* ``optical-ir/flores/<xx>-en/{dev,devtest}`` — FLORES-200 sentences (NLLB Team, 2022;
  ``openlanguagedata/flores_plus``, configs ``<iso639-3>_<script>``, aligned by ``id``).

The Hugging Face sources are read with ``datasets``: from a directory named by
``OPTICAL_IR_HF_DATASETS`` that holds ``<dataset path>/<config>`` as written by
``DatasetDict.save_to_disk`` (offline machines, tests), else from the Hub (online; the
Hub's own cache applies). A language is found among the dataset's configs by
:func:`optical_ir.languages.match` (``sw`` finds ``swh_Latn``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ir_datasets.formats import TrecQrel

from ..errors import ConfigError
from ..languages import UnknownLanguageError, canonical, match
from ..parallel import parallel_lines, tatoeba_codes, tatoeba_files
from ._base import NAMESPACE, Built, TranslatedQuery, language_dataset, make_dataset, register, register_pattern

HF_ENV = "OPTICAL_IR_HF_DATASETS"
QRELS_DEFS = {1: "the English translation of the query sentence (or a sentence with the same text)"}


class SentenceDoc(NamedTuple):
    doc_id: str
    text: str

    def default_text(self) -> str:
        return self.text


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def build_from_pairs(pairs: Sequence[tuple[str, str]], lang: str) -> Built:
    """The collection of aligned ``(x, english)`` pairs (see the module text).

    A pair with an empty side is left out (its numbers are kept, so ids stay line numbers).
    """
    docs, queries, qrels = [], [], []
    same: dict[str, list[str]] = {}
    for n, (x, en) in enumerate(pairs, start=1):
        if x.strip() and en.strip():
            docs.append(SentenceDoc(f"en-{n}", " ".join(en.split())))
            same.setdefault(_fold(en), []).append(f"en-{n}")
    for n, (x, en) in enumerate(pairs, start=1):
        if x.strip() and en.strip():
            queries.append(TranslatedQuery(str(n), " ".join(x.split()), lang, " ".join(en.split())))
            qrels += [TrecQrel(str(n), d, 1, "0") for d in same[_fold(en)]]
    return Built(tuple(docs), tuple(queries), tuple(qrels))


# -- Tatoeba (mirror files) ------------------------------------------------------------------
def tatoeba_pairs(code: str) -> list[tuple[str, str]]:
    files = tatoeba_files(code)
    if files is None:
        raise UnknownLanguageError(code, tatoeba_codes(), "Tatoeba language")
    return list(parallel_lines(*files))


def _tatoeba_dataset(code: str) -> object:
    code = match(code, tatoeba_codes()) or code  # an unknown one: language_dataset says which exist
    return language_dataset("tatoeba", "Tatoeba", code, list(tatoeba_codes()),
                            lambda c: build_from_pairs(tatoeba_pairs(c), c), doc_cls=SentenceDoc,
                            query_cls=TranslatedQuery, docs_namespace=f"{NAMESPACE}/tatoeba/{code}/en",
                            qrels_defs=QRELS_DEFS)


# -- Hugging Face datasets -------------------------------------------------------------------
class HFSource(NamedTuple):
    """A parallel sentence set on the Hugging Face Hub: one config per language."""

    name: str
    path: str
    splits: tuple[str, ...]
    text: str
    """The field holding the sentence."""
    key: str | None
    """The field that aligns rows across languages (``None``: the row order)."""


HF_SOURCES: dict[str, HFSource] = {s.name: s for s in (
    HFSource("xnli", "facebook/xnli", ("test", "validation"), "premise", None),
    HFSource("mtop", "mteb/mtop_domain", ("test", "validation"), "text", "id"),
    HFSource("flores", "openlanguagedata/flores_plus", ("dev", "devtest"), "text", "id"),
)}


def _local_root(source: HFSource) -> Path | None:
    root = os.environ.get(HF_ENV)
    return Path(root) / source.path if root and (Path(root) / source.path).is_dir() else None


def _unavailable(source: HFSource, err: Exception) -> Exception:
    from ..mirror import MissingDataError

    return MissingDataError(
        f"{source.name} ({source.path}) could not be read: {type(err).__name__}: {err}. Online, datasets "
        f"downloads it from the Hugging Face Hub; offline, save each config with DatasetDict.save_to_disk under "
        f"${HF_ENV}/{source.path}/<config> (e.g. on a machine with network: datasets.load_dataset("
        f"{source.path!r}, <config>).save_to_disk(...))")


def hf_configs(source: HFSource) -> list[str]:
    """The dataset's configs (local directories, else the Hub's list)."""
    local = _local_root(source)
    if local is not None:
        return sorted(p.name for p in local.iterdir() if p.is_dir())
    try:
        import datasets

        return list(datasets.get_dataset_config_names(source.path))
    except Exception as err:  # noqa: BLE001 - the Hub raises many kinds; all mean "not reachable"
        raise _unavailable(source, err) from err


def _language_configs(source: HFSource) -> dict[str, str]:
    """Canonical language code → the dataset's config for it (configs that name no language,
    such as XNLI's ``all_languages``, left out)."""
    found: dict[str, str] = {}
    for config in hf_configs(source):
        try:
            found.setdefault(canonical(config), config)
        except UnknownLanguageError:
            continue
    return found


def _config_of(configs: dict[str, str], source: HFSource, code: str) -> str:
    hit = match(code, configs)
    if hit is None:
        raise UnknownLanguageError(code, configs, f"{source.name} language")
    return configs[hit]


def hf_rows(source: HFSource, config: str, split: str) -> list[dict[str, Any]]:
    """The rows of one config and split."""
    import datasets

    local = _local_root(source)
    try:
        if local is not None:
            data = datasets.load_from_disk(str(local / config))
            return list(data[split] if isinstance(data, datasets.DatasetDict) else data)
        return list(datasets.load_dataset(source.path, config, split=split))
    except (KeyError, FileNotFoundError, ValueError, ConnectionError, OSError) as err:
        raise _unavailable(source, err) from err


def _check_split(source: HFSource, split: str) -> None:
    if split not in source.splits:
        raise ConfigError(f"{source.name} has the splits {', '.join(source.splits)}, not {split!r}")


def hf_pairs(source: HFSource, code: str, split: str) -> list[tuple[str, str]]:
    """The ``(x, english)`` sentence pairs of language ``code``, each pair once."""
    _check_split(source, split)
    configs = _language_configs(source)  # one listing (a Hub request online) for both sides
    x_rows = hf_rows(source, _config_of(configs, source, code), split)
    en_rows = hf_rows(source, _config_of(configs, source, "en"), split)
    if source.key is None:
        if len(x_rows) != len(en_rows):
            raise ConfigError(f"{source.name} {split}: {len(x_rows)} rows in {code}, {len(en_rows)} in English; "
                              f"rows aligned by order must be as many")
        pairs = [(a[source.text], b[source.text]) for a, b in zip(x_rows, en_rows, strict=True)]
    else:
        english = {r[source.key]: r[source.text] for r in en_rows}
        pairs = [(r[source.text], english[r[source.key]]) for r in x_rows if r[source.key] in english]
    return list(dict.fromkeys((str(a), str(b)) for a, b in pairs))


def _hf_dataset(source: HFSource, code: str, split: str) -> object:
    lang = canonical(code)
    _check_split(source, split)  # at load time, before anything is read
    builder: Callable[[], Built] = lambda: build_from_pairs(hf_pairs(source, lang, split), lang)  # noqa: E731
    return make_dataset(builder, doc_cls=SentenceDoc, query_cls=TranslatedQuery,
                        docs_namespace=f"{NAMESPACE}/{source.name}/{lang}/{split}/en",
                        queries_namespace=f"{NAMESPACE}/{source.name}/{lang}/{split}", query_lang=lang,
                        qrels_defs=QRELS_DEFS)


def register_all() -> None:
    for code in tatoeba_codes():
        register(f"{NAMESPACE}/tatoeba/{code}-en", _tatoeba_dataset(code))
    register_pattern(rf"^{NAMESPACE}/tatoeba/(.+)-en$", lambda _id, groups: _tatoeba_dataset(groups[0]))
    for source in HF_SOURCES.values():
        register_pattern(rf"^{NAMESPACE}/{source.name}/(.+)-en/([a-z]+)$",
                         lambda _id, groups, s=source: _hf_dataset(s, groups[0], groups[1]))
