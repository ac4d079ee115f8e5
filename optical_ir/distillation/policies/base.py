r"""The batching-policy interface.

A batch of the NTREX train data has, for each row, a sentence in X, its English
translation, and the passage that holds it in both languages. A policy says for the whole
batch which language the *query* side (what the student encodes) and the *passage* side (the
teacher's passage vectors of the retrieval term) are in (:class:`Sides`):

* with a retrieval term (Elmahdy, Lin and Ahmad, "Synergistic Approach for Simultaneous
  Optimization of Monolingual, Cross-lingual, and Multilingual Information Retrieval",
  arXiv 2408.10536): a **monolingual** batch has query and passage in one language, drawn
  uniformly from {X, English}; a **cross-lingual** batch has the query in X and the passage
  in English, or the reverse, drawn uniformly;
* distillation alone (the teacher reads English only): a monolingual batch is an English
  pair (the student reads the English sentence), a cross-lingual one the X sentence.

A distillation term of a combined loss reads the query side of the same batch.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from typing import Any, ClassVar, Literal, NamedTuple

from ...registry import registrar

Side = Literal["x", "en"]


class Sides(NamedTuple):
    query: Side
    """The language of the sentences the student encodes."""
    passage: Side
    """The language of the passages (the retrieval term's targets)."""

    @property
    def monolingual(self) -> bool:
        return self.query == self.passage


CROSS: tuple[Sides, ...] = (Sides("x", "en"), Sides("en", "x"))
MONO: tuple[Sides, ...] = (Sides("x", "x"), Sides("en", "en"))


class BatchPolicy(ABC):
    """Base class of the batching policies (see the module text)."""

    name: ClassVar[str]

    @classmethod
    def from_config(cls, config: Any) -> BatchPolicy:
        return cls()

    @abstractmethod
    def monolingual_share(self) -> float:
        """The probability that a batch is monolingual."""

    def sides(self, rng: random.Random, retrieval: bool) -> Sides:
        """The sides of one batch (see the module text); ``retrieval``: the step has a retrieval term."""
        mono = rng.random() < self.monolingual_share()  # random() < 1 always, < 0 never
        if not retrieval:
            return Sides("en", "en") if mono else Sides("x", "en")
        return rng.choice(MONO if mono else CROSS)


POLICIES: dict[str, type[BatchPolicy]] = {}
"""Name → policy class, filled by :func:`register`."""


register = registrar(POLICIES, "batching policies")
"""Class decorator: add a class to :data:`POLICIES` under its ``name``."""
