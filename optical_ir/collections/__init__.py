"""The toolkit's CLIR collections, registered in ir_datasets on import.

>>> import optical_ir.collections  # registers the ids below
>>> import ir_datasets
>>> ds = ir_datasets.load("optical-ir/ntrex/sw-en/test")

Ids (``<xx>`` is a language code; ISO 639-3 and NTREX codes work as aliases):

* ``optical-ir/ntrex/<xx>-en/{test,train,test-large,dev,dev-small}`` — :mod:`.ntrex`
* ``optical-ir/xquad-r/<xx>-en`` — :mod:`.xquad_r`
* ``optical-ir/multi30k/<xx>-en/test2016`` (de, fr, cs) — :mod:`.multi30k`
* ``optical-ir/tatoeba/<xx>-en`` (110 languages), ``optical-ir/{xnli,mtop,flores}/<xx>-en/<split>``
  (Hugging Face ``datasets``): X sentence → its English translation — :mod:`.parallel_sentences`
* ``<any of these>/sample-<n>`` and ``<any of these>/<perturbation>-<rate>`` (e.g.
  ``optical-ir/ntrex/sw-en/test/typo-0.2``): a seeded query sample, perturbed queries — :mod:`.derived`

Any other ir_datasets id (``clirmatrix/…``, ``hc4/…``, ``neuclir/…``) works wherever the
toolkit takes a dataset id.
"""

from __future__ import annotations

from typing import Any

import ir_datasets

from . import derived, multi30k, ntrex, parallel_sentences, xquad_r
from ._base import NAMESPACE

ntrex.register_all()
xquad_r.register_all()
multi30k.register_all()
parallel_sentences.register_all()
derived.register_all()


def load(dataset_id: str) -> Any:
    """``ir_datasets.load`` with the toolkit's collections registered.

    Raises
    ------
    UnknownNameError
        (a ``KeyError``) for an id that no registration knows; the message says which
        families exist.
    """
    from ..errors import UnknownNameError

    try:
        return ir_datasets.load(dataset_id)
    except KeyError:
        raise UnknownNameError(
            f"unknown dataset id {dataset_id!r}. The toolkit's collections are "
            f"{NAMESPACE}/ntrex/<xx>-en/{{test,train,test-large,dev,dev-small}}, {NAMESPACE}/xquad-r/<xx>-en and "
            f"{NAMESPACE}/multi30k/<xx>-en/test2016, {NAMESPACE}/tatoeba/<xx>-en, "
            f"{NAMESPACE}/{{xnli,mtop,flores}}/<xx>-en/<split>, each with /sample-<n> or /<perturbation>-<rate> "
            f"(python -m optical_ir.perturb --list); any ir_datasets id works too."
        ) from None


def registered_ids() -> list[str]:
    """Every explicitly registered id of the toolkit's namespace."""
    return sorted(k for k in ir_datasets.registry._registered if k.startswith(NAMESPACE + "/"))


def query_language(dataset: Any) -> str:
    """Language code of a dataset's queries (``queries_lang``), canonicalised."""
    from ..languages import canonical

    lang = dataset.queries_lang() if dataset.has_queries() else None
    if not lang:
        from ..errors import ConfigError

        raise ConfigError("the dataset does not say the language of its queries; pass --language")
    return canonical(lang)
