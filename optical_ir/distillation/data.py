"""The training rows: bitext pairs, and — for a retrieval term — the passage holding each sentence.

* :func:`training_pairs` — ``(lang, sentence, english, passage)`` for every language of the
  configuration, each capped at ``max_pairs`` (a seeded sample). Without a retrieval term the
  pairs are the bitext of :func:`optical_ir.parallel.load_bitext` and ``passage`` is ``None``.
* With a retrieval term (:attr:`~optical_ir.distillation.DistillConfig.retrieves`) the rows
  are the sentences of the NTREX **train** articles (the dev articles left out with
  ``holdout``), each with the id of its passage (``optical-ir/ntrex/<xx>-en/train``'s
  documents); :func:`passage_texts` gives every passage in English and in X — NTREX is
  parallel, so the X passage is the same run of sentences in X.
"""

from __future__ import annotations

import random
from typing import Any, NamedTuple

from ..errors import ConfigError


class TrainPair(NamedTuple):
    lang: str
    source: str
    """The sentence in language ``lang``."""
    english: str
    passage: str | None = None
    """The id of the NTREX train passage holding the sentence (retrieval rows only)."""


def _retrieval_rows(lang: str, holdout: bool) -> list[TrainPair]:
    """The NTREX train-article sentences of ``lang`` with their passage ids (see the module text)."""
    from ..collections import ntrex

    _, where = ntrex.passages("train")
    text, english = ntrex.sentences(lang), ntrex.sentences("en")
    articles, split = ntrex.article_of_line(), ntrex.article_split()
    test_english = {" ".join(english[i].split()).casefold() for i, a in enumerate(articles) if split[a] == "test"}
    dev = ntrex.dev_articles() if holdout else frozenset()
    seen, out = set(), []
    for line in sorted(where):
        src, en = " ".join(text[line].split()), " ".join(english[line].split())
        key = (src.casefold(), en.casefold())
        if articles[line] in dev or not src or not en or key in seen or key[1] in test_english:
            continue
        seen.add(key)
        out.append(TrainPair(lang, src, en, where[line]))
    return out


def training_pairs(config: Any) -> list[TrainPair]:
    """The training rows of ``config`` (see the module text)."""
    from ..languages import match
    from ..parallel import bitext_origin, load_bitext

    out: list[TrainPair] = []
    for lang in config.languages:
        if config.retrieves:
            if match(lang, _ntrex_codes()) is None:
                raise ConfigError(f"the retrieval term trains on NTREX passages; NTREX-128 has no {lang}")
            pairs = _retrieval_rows(lang, config.holdout)
        else:
            pairs = [TrainPair(p.lang, p.source, p.english)
                     for p in load_bitext(lang, config.sources, config.holdout, files=config.bitext or None)]
        if not pairs:
            raise ConfigError(f"no bitext for {lang} in {bitext_origin(config.sources, config.bitext)}")
        if config.max_pairs is not None and len(pairs) > config.max_pairs:
            pairs = random.Random(config.seed).sample(pairs, config.max_pairs)
        out += pairs
    return out


def _ntrex_codes() -> dict[str, str]:
    from ..ntrex_files import ntrex_codes

    return ntrex_codes()


def passage_texts(languages: tuple[str, ...]) -> dict[tuple[str, str], str]:
    """``(passage id, lang) → text`` of every NTREX train passage in English (``"en"``) and in
    each of ``languages``."""
    from ..collections import ntrex

    _, where = ntrex.passages("train")
    lines: dict[str, list[int]] = {}
    for line, pid in sorted(where.items()):
        lines.setdefault(pid, []).append(line)
    out = {}
    for lang in ("en", *languages):
        text = ntrex.sentences(lang)
        out.update({(pid, lang): " ".join(" ".join(text[i].split()) for i in ls) for pid, ls in lines.items()})
    return out
