"""Romanisation: words of a non-Latin script written in Latin letters, as users without
the script's keyboard do (pinyin without tones for Chinese, Arabic and Ethiopic in Latin …).

The transliteration is anyascii's (a maintained table for every Unicode script, no
dependencies); a touched Han character becomes its pinyin syllable (no tone), lower-case and
set off by spaces, as pinyin is typed. Latin-script queries cannot be romanised
(:class:`~optical_ir.perturbation.base.PerturbationError`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence

from .base import Perturbation, PerturbationError, register, unspaced
from .characters import script_of


def non_latin(text: str) -> bool:
    """Whether ``text`` holds a letter of a script other than Latin."""
    return any(ch.isalpha() and script_of(ch) not in ("LATIN", "") for ch in text)


@register
class Romanise(Perturbation):
    """Touched words of a non-Latin script are transliterated into Latin letters."""

    name = "romanise"
    description = "touched non-Latin words transliterated into Latin letters (anyascii)"

    def check(self, lang: str, texts: Sequence[str]) -> None:
        if not any(non_latin(t) for t in texts):
            raise PerturbationError(f"the {lang} queries are written in Latin script: there is nothing to romanise; "
                                    f"leave 'romanise' out for {lang}")

    def edit_word(self, word: str, rng: random.Random) -> str:
        from anyascii import anyascii

        if not non_latin(word):
            return word
        if unspaced(word):
            return f" {anyascii(word).lower()} "  # a syllable of a script without spaces: a word of its own
        return anyascii(word)

    def perturb(self, text: str, rate: float, seed: int = 13, key: str = "") -> str:
        out = super().perturb(text, rate, seed, key)
        return out if out == text else re.sub(r" {2,}", " ", out).strip()
