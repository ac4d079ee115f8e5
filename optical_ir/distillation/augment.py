r"""Data-space adversarial training: the student reads perturbed X sentences, the teacher the clean English.

Each epoch :math:`e`, each training sentence :math:`i` is replaced with probability
``share`` by a perturbed copy: a kind drawn uniformly from the configured kinds that apply
to its language (:mod:`optical_ir.perturbation`: typos, dropped tone marks, code-switching
with the lexicon of the bitext …) at ``rate``. Every draw is seeded by
``(seed, e, i)``, so an epoch sees the same noise on a resumed run, and another epoch
other noise. A kind that cannot apply to a language (no marks to drop, no word the
lexicon knows, romanising Latin script) is left out for it, and the trainer says so.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from ..errors import ConfigError
from ..perturbation import Perturbation, PerturbationError, get


class Augmenter:
    """The X sentences of an epoch, a seeded share of them perturbed (see the module text)."""

    def __init__(self, kinds: Sequence[str], rate: float, share: float, seed: int,
                 sentences: dict[str, Sequence[str]]) -> None:
        self.rate, self.share, self.seed = rate, share, seed
        self.kinds: dict[str, list[Perturbation]] = {}
        self.skipped: dict[str, list[str]] = {}
        for lang, texts in sentences.items():
            usable = []
            for kind in kinds:
                try:
                    p = get(kind, lang)
                    p.check(lang, list(texts))
                except PerturbationError:
                    self.skipped.setdefault(lang, []).append(kind)
                    continue
                usable.append(p)
            if not usable:
                raise ConfigError(f"none of the augment kinds {', '.join(kinds)} applies to {lang}; "
                                  f"choose others (python -m optical_ir.perturb --list)")
            self.kinds[lang] = usable

    def epoch(self, epoch: int, rows: Sequence[tuple[str, str]]) -> list[str]:
        """The sentence of each ``(lang, sentence)`` row for ``epoch``: perturbed or as it is."""
        out = []
        for i, (lang, text) in enumerate(rows):
            rng = random.Random(f"{self.seed}:augment:{epoch}:{i}")
            if rng.random() < self.share:
                kind = rng.choice(self.kinds[lang])
                text = kind.perturb(text, self.rate, self.seed, key=f"{epoch}:{i}")
            out.append(text)
        return out
