"""Query sets derived from a collection, as ir_datasets ids: a seeded sample, perturbed queries.

* ``<dataset>/sample-<n>[-seed<s>]`` — ``n`` queries drawn without replacement (seed 13 by
  default), in their original order, with the qrels of those queries only, so that an
  evaluation covers exactly the sample;
* ``<dataset>/<kind>-<rate>[-seed<s>]`` — every query perturbed by :mod:`optical_ir.perturbation`
  (e.g. ``optical-ir/ntrex/sw-en/test/typo-0.2``, ``…/test/sample-200/diacritics-0.4``).

Both keep the documents (and so the indexes) of ``<dataset>``; they compose, and any
registered id can be the base. Code-switching by id uses the eflomal table of the NTREX
bitext in the cache (learned on first use); ``python -m optical_ir.perturb --table`` takes
another.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any

import ir_datasets
from ir_datasets.formats import BaseQrels, BaseQueries

from ._base import NAMESPACE, register_pattern

SAMPLE = re.compile(r"sample-(\d+)(?:-seed(\d+))?")
PERTURBED = re.compile(r"([a-z][a-z-]*?)-((?:0|1)(?:\.\d+)?)(?:-seed(\d+))?")


def sample_id(dataset_id: str, n: int, seed: int = 13) -> str:
    """The id of the seeded ``n``-query sample of ``dataset_id`` (the seed is named unless it is 13)."""
    return f"{dataset_id}/sample-{n}" + (f"-seed{seed}" if seed != 13 else "")


def sample_ids(query_ids: list[str], n: int, seed: int = 13) -> list[str]:
    """``n`` of the ids, drawn with ``random.Random(seed)``, in their original order."""
    from ..errors import ConfigError

    if not 0 < n <= len(query_ids):
        raise ConfigError(f"cannot sample {n} of {len(query_ids)} queries")
    chosen = set(random.Random(seed).sample(sorted(query_ids), n))
    return [q for q in query_ids if q in chosen]


class _Queries(BaseQueries):
    def __init__(self, base: Any, make: Any) -> None:
        self._base, self._make = base, make

    @cached_property
    def _queries(self) -> list[Any]:
        return self._make(list(self._base.queries_iter()))

    def queries_iter(self) -> Iterator[Any]:
        return iter(self._queries)

    def queries_cls(self) -> type:
        return self._base.queries_cls()

    def queries_namespace(self) -> str:
        return self._base.queries_namespace()

    def queries_lang(self) -> str:
        return self._base.queries_lang()


class _Qrels(BaseQrels):
    def __init__(self, base: Any, keep: Any) -> None:
        self._base, self._keep = base, keep

    def qrels_iter(self) -> Iterator[Any]:
        keep = self._keep()
        return (q for q in self._base.qrels_iter() if q.query_id in keep)

    def qrels_cls(self) -> type:
        return self._base.qrels_cls()

    def qrels_defs(self) -> dict[int, str]:
        return self._base.qrels_defs()


def _with_text(query: Any, text: str) -> Any:
    """The query with its default text replaced (namedtuples of ir_datasets)."""
    name = "text" if "text" in query._fields else query._fields[1]
    return query._replace(**{name: text})


def sampled(base: Any, n: int, seed: int) -> Any:
    queries = _Queries(base, lambda qs: _pick(qs, n, seed))
    qrels = _Qrels(base, lambda: {q.query_id for q in queries.queries_iter()})
    return ir_datasets.datasets.base.Dataset(base.docs_handler() if base.has_docs() else None, queries, qrels)


def _pick(queries: list[Any], n: int, seed: int) -> list[Any]:
    keep = set(sample_ids([q.query_id for q in queries], n, seed))
    return [q for q in queries if q.query_id in keep]


def perturbed(base: Any, kind: str, rate: float, seed: int) -> Any:
    from ..languages import canonical
    from ..perturbation import get, perturb_topics

    def make(queries: list[Any]) -> list[Any]:
        lang = canonical(base.queries_lang())
        texts = perturb_topics([(q.query_id, q.default_text()) for q in queries], get(kind, lang), rate, seed, lang)
        return [_with_text(q, t) for q, (_, t) in zip(queries, texts, strict=True)]

    qrels = base.qrels_handler() if base.has_qrels() else None
    return ir_datasets.datasets.base.Dataset(base.docs_handler() if base.has_docs() else None,
                                             _Queries(base, make), qrels)


def _derive(dataset_id: str, groups: tuple[str, ...]) -> Any:
    from ..perturbation import kinds

    base_id, modifier = groups
    base = ir_datasets.load(base_id)
    if m := SAMPLE.fullmatch(modifier):
        return sampled(base, int(m.group(1)), int(m.group(2) or 13))
    m = PERTURBED.fullmatch(modifier)
    if m and m.group(1) in kinds():
        return perturbed(base, m.group(1), float(m.group(2)), int(m.group(3) or 13))
    raise KeyError(dataset_id)


def register_all() -> None:
    register_pattern(rf"^({NAMESPACE}/.+)/((?:sample|[a-z][a-z-]*)-[0-9.]+(?:-seed\d+)?)$", _derive)
