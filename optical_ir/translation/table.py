"""1-best word-by-word translation with the eflomal lexical table of :mod:`optical_ir.lexicon`.

The table itself (learning, pruning, saving) is data, below this layer; its names are
re-exported here for the translation code and its users.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..lexicon import (  # noqa: F401 - re-exported
    CHARACTER_LANGS,
    CONFIG_FILE,
    ENGLISH_STOPWORDS,
    TABLE_FILE,
    TableConfig,
    TranslationTable,
    align,
    default_table_dir,
    learn_table,
    prune,
    table_from_links,
    tokenize,
)
from .base import TextTranslator


class TableTranslator(TextTranslator):
    """1-best word-by-word translation with a lexical table.

    Each source token becomes its most probable English translation; a token the table does
    not know (a name, a number, a loan word) is kept as it is, since English BM25 can still
    match it. When the best translation is an English stop word (which the index drops),
    the best content word with :math:`p \\ge` ``content_min`` is taken instead.
    """

    def __init__(self, table: TranslationTable, content_min: float = 0.2) -> None:
        self.table = table
        self.source_lang = table.config.lang
        self.content_min = content_min

    @property
    def key(self) -> str:
        return f"table-1best-v2:{self.table.digest}:{self.content_min}"

    def provenance(self) -> dict[str, Any]:
        return {"method": "table", "form": "1-best", "source_lang": self.source_lang,
                "table": self.table.config.to_dict(), "table_digest": self.table.digest,
                "pairs": self.table.n_pairs, "content_min": self.content_min}

    def translate_word(self, word: str) -> str:
        best = self.table.best(word, self.content_min)
        return word if best is None else best

    def translate_batch(self, texts: Sequence[str]) -> list[str]:
        return [" ".join(self.translate_word(w) for w in tokenize(t, self.source_lang)) for t in texts]
