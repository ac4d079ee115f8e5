r"""What a query perturbation is, how it is seeded, and how a rate becomes a number of edits.

A :class:`Perturbation` edits the *units* of a query (its words, or for the scripts written
without spaces — Han, kana, Thai — its characters): a rate :math:`r` touches

.. math:: n = \lfloor r \cdot N + u \rfloor, \qquad u \sim U[0, 1)

of its :math:`N` units (stochastic rounding: on average exactly :math:`rN`, and a short
query still gets an edit now and then at a low rate). Which units are touched is a seeded
random ranking of the units, and the edit of a unit is drawn from its own seeded generator,
so that

* the same ``(seed, kind, query id, text)`` always gives the same text (no global state);
* the units touched at rate 0.2 are among those touched at 0.4 (the rates are nested), and
  a unit touched at both gets the same edit;
* perturbing a sample of the queries gives the same texts as perturbing all of them and
  then sampling;
* rate 0 is the identity.

Units are whitespace-separated tokens that contain a letter (numbers and punctuation are
not words to misspell); the whitespace between them is kept as it was.
"""

from __future__ import annotations

import math
import random
import re
from abc import ABC
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from ..errors import ConfigError
from ..registry import registrar

# runs of characters of the scripts written without spaces: each character is a unit
_NO_SPACE = "\u0e00-\u0e7f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_UNIT = re.compile(rf"[{_NO_SPACE}]|[^\s{_NO_SPACE}]+|\s+")
_UNSPACED = re.compile(rf"[{_NO_SPACE}]")


def unspaced(piece: str) -> bool:
    """Whether a piece is a character of a script written without spaces (a unit of its own)."""
    return bool(_UNSPACED.fullmatch(piece))


class PerturbationError(ConfigError):
    """A perturbation that cannot apply to these queries (it would leave them unchanged)."""


@dataclass
class Units:
    """A text cut into pieces; ``words`` are the indices of the pieces that are words."""

    pieces: list[str]
    words: list[int]

    @classmethod
    def of(cls, text: str) -> Units:
        pieces = _UNIT.findall(text)
        return cls(pieces, [i for i, p in enumerate(pieces) if any(ch.isalpha() for ch in p)])


def rng_for(seed: int, kind: str, key: str, *more: object) -> random.Random:
    """A generator seeded by its context only (``random.Random`` hashes a str seed with SHA-512,
    the same in every process)."""
    return random.Random("\x1f".join(map(str, (seed, kind, key, *more))))


def touched(n_units: int, rate: float, rng: random.Random) -> list[int]:
    """Which of ``n_units`` units a ``rate`` edits (indices into the units, in text order)."""
    if not 0 <= rate <= 1:
        raise ConfigError(f"a perturbation rate is a share between 0 and 1, not {rate}")
    order = sorted(range(n_units), key=lambda _: rng.random())
    n = min(n_units, math.floor(rate * n_units + rng.random())) if rate > 0 else 0
    return sorted(order[:n])


class Perturbation(ABC):
    """A kind of query noise. Subclasses edit one word at a time (:meth:`edit_word`) or
    override :meth:`edit` for edits that move words; :meth:`candidates` narrows the words a
    kind may touch (the rate is a share of those)."""

    name: ClassVar[str]
    description: ClassVar[str]

    def check(self, lang: str, texts: Sequence[str]) -> None:
        """Raise :class:`PerturbationError` if the kind cannot apply to these queries (by default it
        applies to any text)."""
        return None

    def edit_word(self, word: str, rng: random.Random) -> str:
        raise NotImplementedError

    def candidates(self, units: Units) -> list[int]:
        """The words (indices into ``units.words``) this kind may touch: all of them by default."""
        return list(range(len(units.words)))

    def edit(self, units: Units, chosen: Sequence[int], rngs: Callable[[int], random.Random]) -> list[str]:
        """The new pieces: each chosen word edited by :meth:`edit_word` with its own generator."""
        pieces = list(units.pieces)
        for k in chosen:
            i = units.words[k]
            pieces[i] = self.edit_word(pieces[i], rngs(k))
        return pieces

    def perturb(self, text: str, rate: float, seed: int = 13, key: str = "") -> str:
        """``text`` with a share ``rate`` of its words edited; ``key`` (the query id) seeds it."""
        units = Units.of(text)
        candidates = self.candidates(units)
        chosen = [candidates[k] for k in touched(len(candidates), rate, rng_for(seed, self.name, key, text))]
        if not chosen:
            return text
        return "".join(self.edit(units, chosen, lambda k: rng_for(seed, self.name, key, text, k)))


REGISTRY: dict[str, Callable[..., Perturbation]] = {}


register = registrar(REGISTRY, "perturbations")
"""Class decorator: make a perturbation available by its ``name``."""
