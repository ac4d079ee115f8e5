"""Diacritics and tone marks left out, as many Yoruba, Hausa, French or German users type.

A touched word is decomposed (Unicode NFD) and loses its combining marks (category Mn:
Yoruba tone marks and dots below, French accents, the German umlaut); the letters that no
normalisation decomposes — the Hausa hooked letters ɓ ɗ ƙ ƴ, and ø đ ł ħ — become their
plain letter. Queries of a language with no such characters cannot be perturbed this way
(:class:`~optical_ir.perturbation.base.PerturbationError`).
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Sequence

from .base import Perturbation, PerturbationError, register

# letters with a hook or stroke that NFD leaves whole; what a plain keyboard types instead
PLAIN = str.maketrans("ɓƁɗƊƙƘƴƳøØđĐłŁħĦ", "bBdDkKyYoOdDlLhH")


def strip_marks(text: str) -> str:
    """``text`` without combining marks, hooked and stroked letters made plain (then NFC)."""
    bare = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    return unicodedata.normalize("NFC", bare.translate(PLAIN))


@register
class Diacritics(Perturbation):
    """Touched words lose their diacritics and tone marks."""

    name = "diacritics"
    description = "diacritics and tone marks stripped from touched words (Unicode combining marks, hooked letters)"

    def check(self, lang: str, texts: Sequence[str]) -> None:
        if not any(strip_marks(t) != t for t in texts):
            raise PerturbationError(f"no {lang} query has a diacritic or tone mark to strip: 'diacritics' would "
                                    f"leave them unchanged; leave it out for {lang}")

    def edit_word(self, word: str, rng: random.Random) -> str:
        return strip_marks(word)
