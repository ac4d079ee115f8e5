"""Word-level noise: words dropped, swapped with their neighbour, or repeated.

``word-drop``, ``word-swap`` and ``word-dup`` do one thing each; ``words`` gives each
touched word one of the three. A query never loses its last word.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from .base import Perturbation, Units, register, unspaced

OPERATIONS = ("drop", "swap", "dup")


class WordEdit(Perturbation):
    operations: tuple[str, ...] = OPERATIONS

    def edit(self, units: Units, chosen: Sequence[int], rngs: Callable[[int], random.Random]) -> list[str]:
        pieces = list(units.pieces)
        words = units.words  # a swap exchanges the contents of two pieces: the positions stay
        dropped: set[int] = set()
        for k in chosen:
            op = rngs(k).choice(self.operations)
            i = words[k]
            if op == "drop" and len(dropped) + 1 < len(words):
                pieces[i] = ""
                if i + 1 < len(pieces) and pieces[i + 1].isspace():
                    pieces[i + 1] = ""
                elif i > 0 and pieces[i - 1].isspace():
                    pieces[i - 1] = ""
                dropped.add(k)
            elif op == "swap" and k + 1 < len(words) and k + 1 not in dropped:
                j = words[k + 1]
                pieces[i], pieces[j] = pieces[j], pieces[i]
            elif op == "dup":
                gap = pieces[i + 1] if i + 1 < len(pieces) and pieces[i + 1].isspace() else (
                    "" if unspaced(pieces[i]) else " ")
                pieces[i] = pieces[i] + gap + pieces[i]
        return pieces


@register
class WordDrop(WordEdit):
    """Touched words are left out (the last word of a query stays)."""

    name, description, operations = "word-drop", "touched words left out", ("drop",)


@register
class WordSwap(WordEdit):
    """Touched words change places with the word after them."""

    name, description, operations = "word-swap", "touched words swapped with the next word", ("swap",)


@register
class WordDup(WordEdit):
    """Touched words are typed twice."""

    name, description, operations = "word-dup", "touched words repeated", ("dup",)


@register
class Words(WordEdit):
    """Each touched word is dropped, swapped with the next or repeated, at random."""

    name, description = "words", "one of drop, swap with the next word, repeat per touched word"
