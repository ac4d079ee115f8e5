"""Character noise: typing errors inside a word.

Four edits, each of one character of a touched word:

* ``char-swap``: two neighbouring characters exchanged (*hbari* for *habari*);
* ``char-keyboard``: a character replaced by a neighbour on the keyboard — QWERTY for Latin
  letters (accents are dropped from the neighbour: a typo lands on a plain key), and a
  random letter of the same script for other scripts (Arabic, Ethiopic, Han …), whose
  keyboard layouts vary too much to model;
* ``char-delete`` and ``char-insert`` (the inserted character is a keyboard neighbour of
  the one before it, or a same-script letter).

``typo`` gives each touched word one of the four, chosen at random. An edit that cannot
apply to a word (a swap in a one-character word) is replaced by one that can.

Written here rather than taken from a library: nlpaug's character augmenters draw from the
global ``random`` state (no per-query seeding), rebuild the text from its own tokens, and
have keyboard maps for Latin, Hebrew, Thai and Cyrillic layouts only; TextAttack's
``WordSwapQWERTY`` and character swaps are English-only and the package needs some twenty
further dependencies (flair, bert-score, LanguageTool …).
"""

from __future__ import annotations

import random
import unicodedata
from functools import cache

from .base import Perturbation, register

_ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")


@cache
def _qwerty() -> dict[str, str]:
    """Letter → its neighbours on a QWERTY keyboard (same row and the rows above and below)."""
    where = {ch: (r, c) for r, row in enumerate(_ROWS) for c, ch in enumerate(row)}
    out = {}
    for ch, (r, c) in where.items():
        if not ch.isalpha():
            continue
        near = [o for o, (r2, c2) in where.items() if o != ch and o.isalpha() and abs(r2 - r) <= 1
                and abs(c2 - c) <= 1]
        out[ch] = "".join(sorted(near))
    return out


def script_of(ch: str) -> str:
    """The script of a letter, as the first word of its Unicode name (LATIN, ARABIC, ETHIOPIC, CJK …)."""
    try:
        return unicodedata.name(ch).split()[0]
    except ValueError:
        return ""


@cache
def alphabet(ch: str) -> str:
    """The letters of ``ch``'s script within 128 code points of it (its Unicode block, roughly):
    base letters, no presentation forms or ligatures (NFKC leaves them as they are)."""
    script, at = script_of(ch), ord(ch)
    near = map(chr, range(max(0x41, at - 128), min(0x10000, at + 129)))
    return "".join(c for c in near if c != ch and unicodedata.category(c).startswith("L") and script_of(c) == script
                   and unicodedata.normalize("NFKC", c) == c)


def neighbour(ch: str, rng: random.Random) -> str:
    """A character a finger could hit instead of ``ch``."""
    base = unicodedata.normalize("NFD", ch.lower())[0]
    near = _qwerty().get(base)
    if near:
        out = rng.choice(near)
        return out.upper() if ch.isupper() else out
    return rng.choice(alphabet(ch) or alphabet("a"))


def _letters(word: str) -> list[int]:
    return [i for i, ch in enumerate(word) if ch.isalpha()]


def swap(word: str, rng: random.Random) -> str | None:
    pairs = [i for i in range(len(word) - 1) if word[i].isalpha() and word[i + 1].isalpha() and word[i] != word[i + 1]]
    if not pairs:
        return None
    i = rng.choice(pairs)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def keyboard(word: str, rng: random.Random) -> str | None:
    at = _letters(word)
    if not at:
        return None
    i = rng.choice(at)
    return word[:i] + neighbour(word[i], rng) + word[i + 1:]


def delete(word: str, rng: random.Random) -> str | None:
    at = _letters(word)
    if len(at) < 2:
        return None
    i = rng.choice(at)
    return word[:i] + word[i + 1:]


def insert(word: str, rng: random.Random) -> str | None:
    at = _letters(word)
    if not at:
        return None
    i = rng.choice(at)
    return word[:i + 1] + neighbour(word[i], rng) + word[i + 1:]


EDITS = {"char-swap": swap, "char-keyboard": keyboard, "char-delete": delete, "char-insert": insert}


class CharacterEdit(Perturbation):
    """One character edit per touched word; falls back to another edit where it cannot apply."""

    edits: tuple[str, ...] = tuple(EDITS)

    def edit_word(self, word: str, rng: random.Random) -> str:
        first = rng.choice(self.edits)
        for name in (first, *EDITS):
            out = EDITS[name](word, rng)
            if out is not None:
                return out
        return word


@register
class CharSwap(CharacterEdit):
    """Two neighbouring characters of a word exchanged."""

    name, description, edits = "char-swap", "two neighbouring characters of a word exchanged", ("char-swap",)


@register
class CharKeyboard(CharacterEdit):
    """A character replaced by a keyboard neighbour (QWERTY; a same-script letter otherwise)."""

    name, edits = "char-keyboard", ("char-keyboard",)
    description = "a character replaced by a keyboard neighbour (QWERTY; same-script letter otherwise)"


@register
class CharDelete(CharacterEdit):
    """A character deleted."""

    name, description, edits = "char-delete", "a character deleted", ("char-delete",)


@register
class CharInsert(CharacterEdit):
    """A keyboard neighbour (or a same-script letter) inserted."""

    name, description, edits = "char-insert", "a keyboard neighbour (or same-script letter) inserted", ("char-insert",)


@register
class Typo(CharacterEdit):
    """Each touched word gets one of the four character edits, at random."""

    name = "typo"
    description = "one character edit per touched word: swap, keyboard substitution, deletion or insertion"
