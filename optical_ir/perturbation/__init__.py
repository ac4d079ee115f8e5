"""Seeded, deterministic query perturbations: typos, lost diacritics, word noise,
code-switching, romanisation.

>>> from optical_ir.perturbation import get
>>> get("typo").perturb("habari za asubuhi", 0.4, seed=13, key="q1")  # doctest: +SKIP

Kinds (``python -m optical_ir.perturb --list``): ``typo`` and its four character edits
(:mod:`.characters`), ``diacritics`` (:mod:`.marks`), ``words`` and its three word edits
(:mod:`.words`), ``code-switch`` (:mod:`.code_switch`), ``romanise`` (:mod:`.romanise`).
The seeding and the meaning of the rate are those of :mod:`.base`. A perturbed query set
is written with its provenance (:func:`optical_ir.topics.write_derived`, ``python -m optical_ir.perturb``)
and is also an ir_datasets id, ``<dataset>/<kind>-<rate>`` (:mod:`optical_ir.collections.derived`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import ConfigError, UnknownNameError
from . import characters, code_switch, marks, romanise, words  # noqa: F401 - each registers its kinds
from .base import REGISTRY, Perturbation, PerturbationError

DEFAULT_SEED = 13


def kinds() -> list[str]:
    """The names of the registered perturbations."""
    return sorted(REGISTRY)


def get(kind: str, lang: str | None = None, table: str | None = None) -> Perturbation:
    """The perturbation ``kind`` (code-switching needs the query ``lang`` and takes a ``table``
    directory; the default is the eflomal table of the NTREX bitext, learned if missing)."""
    if kind not in REGISTRY:
        raise UnknownNameError(f"unknown perturbation {kind!r}; choose one of {', '.join(kinds())}")
    if kind == "code-switch":
        if not lang:
            raise ConfigError("code-switching needs the language of the queries")
        return code_switch.CodeSwitch.for_language(lang, table)
    return REGISTRY[kind]()


def perturb_topics(topics: Sequence[tuple[str, str]], perturbation: Perturbation, rate: float,
                   seed: int = DEFAULT_SEED, lang: str = "") -> list[tuple[str, str]]:
    """The topics with each text perturbed (seeded by ``seed`` and the query id).

    Raises
    ------
    PerturbationError
        If the perturbation cannot apply to these queries (it would leave them all as they are).
    """
    perturbation.check(lang, [t for _, t in topics])
    return [(qid, perturbation.perturb(text, rate, seed, qid)) for qid, text in topics]


def provenance(perturbation: Perturbation | None, rate: float, seed: int, lang: str, source: str,
               topics: Sequence[tuple[str, str]], perturbed: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """What the provenance file of perturbed topics says (``target_lang`` is the query language;
    ``None``: the clean queries, kind ``none``), with how many of the ``topics`` changed."""
    changed = sum(a != b for (_, a), (_, b) in zip(topics, perturbed, strict=True))
    out: dict[str, Any] = {"method": "perturbation", "perturbation": perturbation.name if perturbation else "none",
                           "rate": rate, "seed": seed, "source": source, "source_lang": lang, "target_lang": lang,
                           "queries": len(perturbed), "queries_changed": changed}
    table = getattr(perturbation, "table", "")
    if table:
        out["table"] = table
    return out


__all__ = ["DEFAULT_SEED", "Perturbation", "PerturbationError", "get", "kinds", "perturb_topics", "provenance"]
