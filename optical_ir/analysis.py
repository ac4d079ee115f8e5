"""Query text preparation for BM25 over an English Lucene index.

In CLIR the documents are English, so a query — in whatever language — must be analysed
the way the index was (Anserini's English analyzer: standard tokenizer, lower-casing,
stop words, Porter stemming); only then can its words that English shares (names,
numbers, loan words) match. Anserini has no analyzer for Swahili, Somali, Hausa or
Yoruba and would split such text on white space without lower-casing, and an unknown
language code silently becomes English. The toolkit therefore never hands a query to
Anserini's per-language analyzers: it first normalises the text itself —

1. Unicode NFKC (compatibility forms, full-width characters), then case folding;
2. tokenization into runs of letters, marks and digits (``\\w`` in Unicode, so scripts
   without spaces between words stay whole runs, which the standard tokenizer splits
   further), with word-internal apostrophes and hyphens as separators;
3. optionally (``strip_accents``) removal of combining marks — Yoruba tone marks, for
   example — so that ``Àbá`` and ``aba`` are the same term;

and the searcher then applies the index's (English) analyzer to the space-joined tokens.
"""

from __future__ import annotations

import re
import unicodedata

from .languages import get_language

_TOKEN = re.compile(r"\w+", re.UNICODE)


def tokenize(text: str, lang: str, strip_accents: bool = False) -> list[str]:
    """Normalised, case-folded word tokens of ``text`` in language ``lang``.

    ``lang`` is checked against the language table (an unknown code is an error).
    """
    get_language(lang)
    text = unicodedata.normalize("NFKC", text).casefold()
    if strip_accents:
        text = "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
        text = unicodedata.normalize("NFC", text)
    return [t.strip("_") for t in _TOKEN.findall(text) if t.strip("_")]


def prepare_query(text: str, lang: str, strip_accents: bool = False) -> str:
    """The query string handed to the English-analysed Lucene searcher ('' if none left)."""
    return " ".join(tokenize(text, lang, strip_accents))
