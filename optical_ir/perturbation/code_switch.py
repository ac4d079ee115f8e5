"""Code-switching: query words replaced by their English translation, the way bilingual
users mix English words into a query.

The translation is the 1-best content word of the eflomal lexical table learned from the
language's bitext (:meth:`optical_ir.lexicon.TranslationTable.best`), the same table the
1-best and PSQ baselines use. Only words the table knows can be switched, so the rate is a
share of those words; a word's surrounding punctuation stays. A language without bitext
has no table, and its queries cannot be code-switched (the error says so).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import OpticalIRError
from .base import Perturbation, PerturbationError, Units, register

_CORE = re.compile(r"\w+")


@register
class CodeSwitch(Perturbation):
    """Touched words the lexicon knows become their 1-best English translation."""

    name = "code-switch"
    description = "touched words replaced by their 1-best English translation (eflomal lexicon of the bitext)"

    def __init__(self, lexicon: Callable[[str], str | None] | None = None, lang: str = "",
                 table: str = "") -> None:
        if lexicon is None:
            raise PerturbationError("code-switching needs a lexicon: use perturbation.get('code-switch', lang)")
        self.lexicon, self.lang, self.table = lexicon, lang, table

    @classmethod
    def for_language(cls, lang: str, table: str | Path | None = None) -> CodeSwitch:
        """With the table in ``table`` (default: the NTREX-bitext table of the cache, learned if missing)."""
        from ..lexicon import TableConfig, default_table_dir, learn_table

        try:
            config = TableConfig(lang=lang)
            learned = learn_table(config, table)
        except OpticalIRError as err:
            raise PerturbationError(f"cannot code-switch {lang} queries: no English lexicon for {lang} "
                                    f"({err})") from None
        where = str(table) if table else str(default_table_dir(config))

        def lexicon(word: str) -> str | None:
            from ..lexicon import tokenize

            tokens = tokenize(word, lang)
            return learned.best(tokens[0]) if len(tokens) == 1 else None

        return cls(lexicon, learned.config.lang, where)

    def candidates(self, units: Units) -> list[int]:
        """The words the lexicon knows (only those can be switched)."""
        return [k for k, i in enumerate(units.words) if self._switch(units.pieces[i]) is not None]

    def edit_word(self, word: str, rng: random.Random) -> str:
        return self._switch(word) or word

    def _switch(self, word: str) -> str | None:
        core = _CORE.search(word)
        if not core:
            return None
        english = self.lexicon(core.group())
        if english is None or english == core.group().lower():
            return None
        return word[:core.start()] + english + word[core.end():]

    def check(self, lang: str, texts: Sequence[str]) -> None:
        if not any(self.candidates(Units.of(t)) for t in texts):
            raise PerturbationError(f"the {lang} lexicon knows none of the query words: code-switching would leave "
                                    f"the queries unchanged")
