"""NTREX-128 as a CLIR collection: a sentence in language X finds its English article passage.

NTREX-128 (Federmann et al., 2022) holds 1,997 English news sentences from 123 articles
(WMT19), each translated by humans into 128 languages. The collection built from it:

* **documents** — English passages: each article's sentences cut into consecutive runs of
  about three (``ceil(n / 3)`` runs of near-equal length); doc id ``<article>_p<k>``;
* **queries** — the sentences in language X; query id = the sentence's line number in the
  NTREX files (1-based), the same for every language, so runs of two languages pair up;
* **qrels** — graded: 2 for the passage holding the query sentence's English source, 1 for
  the other passages of the same article.

The 123 articles are split deterministically into disjoint halves: ranked by the md5 of
their id, even ranks are ``test`` (62 articles), odd ranks ``train`` (61). ``test`` and
``train`` hold only their own articles' passages and sentences; the bitext loader uses
``train`` articles only. ``dev`` holds out two fifths of the train articles (of every five
in md5 rank, the first and the third: 25 articles, 356 sentences): its queries are their
sentences, its documents their passages plus unjudged MAFAND-MT English news passages (as
``test-large``'s) up to the passage count of ``test`` (351), so that a query has as many
passages to get wrong as on ``test``. Training that holds the dev articles out of its
bitext (``optical_ir.distill --holdout``) selects its settings on ``dev`` without seeing
``test``, and without the passages of the articles it trained on among the documents (those
would attract the queries of a student fitted to them, and penalise training).
``dev-small`` is the first version of ``dev``: the first of every five train articles alone
(13 articles, 186 sentences) and their 65 passages, without distractors; it did not track
``test`` (it favoured no training at all) and is kept for quick tests. ``test-large`` adds
unjudged English news passages from the
English side of the MAFAND-MT dev and test sets (three consecutive sentences each,
deduplicated, none equal to an NTREX sentence, non-English lines — a few are French — left
out by :func:`looks_english`) until the collection has
:data:`LARGE_SIZE` passages. ``test-xl`` is the collection at scale: ``test`` and every
English passage the mirror offers as unjudged distractors (:func:`xl_distractors`) — all
of MAFAND-MT's English news (dev, test and train, three sentences a passage, so
``test-large``'s documents are its first 10,000), every Multi30k English caption and the
English side of every Tatoeba pair (one sentence a passage) — deduplicated, none equal to
an NTREX sentence: over 200,000 passages, for BM25, dense and PSQ at scale and for
approximate search (``index --index-type hnsw``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Literal, NamedTuple

from ir_datasets.formats import TrecQrel

from .. import mirror
from ..ntrex_files import (  # noqa: F401 - re-exported: the files' readers are part of the collection's API
    DEV_EVERY,
    DOC_IDS,
    SOURCE,
    article_of_line,
    article_split,
    dev_articles,
    dev_english,
    ntrex_code,
    ntrex_codes,
    ntrex_languages,
    sentence_file,
    sentences,
)
from ._base import NAMESPACE, Built, language_dataset, register, register_pattern

Split = Literal["train", "test", "test-large", "test-xl", "dev", "dev-small"]
SPLITS: tuple[Split, ...] = ("test", "train", "test-large", "test-xl", "dev", "dev-small")
PASSAGE_SENTENCES = 3
LARGE_SIZE = 10_000
QRELS_DEFS = {
    2: "the passage holds the English source of the query sentence",
    1: "another passage of the same article",
}


class NtrexDoc(NamedTuple):
    doc_id: str
    text: str
    article: str
    """NTREX article id, or where a distractor comes from: ``mafand/<pair>/<split>``,
    ``multi30k/<file>`` or ``tatoeba/<pair>``."""

    def default_text(self) -> str:
        return self.text


class NtrexQuery(NamedTuple):
    query_id: str
    text: str
    lang: str
    english: str
    """The English source sentence (for translation baselines and the English ceiling)."""
    article: str

    def default_text(self) -> str:
        return self.text


def articles(split: Literal["train", "test"]) -> list[str]:
    """The article ids of a split, in file order."""
    parts = article_split()
    return [a for a in dict.fromkeys(article_of_line()) if parts[a] == split]


def _chunks(items: list[int], size: int) -> list[list[int]]:
    """``ceil(n/size)`` consecutive runs of near-equal length."""
    n_chunks = max(1, math.ceil(len(items) / size))
    base, extra = divmod(len(items), n_chunks)
    out, start = [], 0
    for k in range(n_chunks):
        end = start + base + (1 if k < extra else 0)
        out.append(items[start:end])
        start = end
    return out


@lru_cache(maxsize=2)
def passages(split: Literal["train", "test"]) -> tuple[tuple[NtrexDoc, ...], dict[int, str]]:
    """The English passages of a split, and sentence line (0-based) → passage id."""
    english = sentences("en")
    lines_of: dict[str, list[int]] = {}
    for i, article in enumerate(article_of_line()):
        lines_of.setdefault(article, []).append(i)
    docs, where = [], {}
    for article in articles(split):
        for k, chunk in enumerate(_chunks(lines_of[article], PASSAGE_SENTENCES)):
            doc_id = f"{article}_p{k}"
            docs.append(NtrexDoc(doc_id, " ".join(english[i] for i in chunk), article))
            where.update({i: doc_id for i in chunk})
    return tuple(docs), where


_EN_WORDS = frozenset("the of and to in is was for that on with as by at from it he she they have has had be are "
                      "were his her this an will said not but or who which their its after been would".split())
_FOREIGN_WORDS = frozenset("le la les des du et est une dans pour que qui sur par avec au aux sont il elle pas "
                           "der die das und ist nicht mit ya na wa kwa katika ni".split())


def looks_english(sentence: str) -> bool:
    """A cheap guard against non-English lines on MAFAND's English side (a few are French).

    English function words must make up at least a tenth of the words (one at least), and
    outnumber common French, German and Swahili function words three to one.
    """
    words = re.findall(r"\w+", sentence.casefold())
    en = sum(w in _EN_WORDS for w in words)
    foreign = sum(w in _FOREIGN_WORDS for w in words)
    return en >= max(1.0, 0.1 * len(words)) and 3 * foreign <= en


_MAFAND_EVAL = re.compile(r"^lafand-mt/data/text_files/(en[-_][a-z]+)/(dev|test)\.en$")
_MAFAND_TRAIN = re.compile(r"^lafand-mt/data/text_files/(en[-_][a-z]+)/(train)\.en$")
_CAPTIONS = re.compile(r"^multi30k/data/task[12]/raw/([^/]+)\.en\.gz$")
_TATOEBA_EN = re.compile(r"^tatoeba/data/tatoeba/v1/tatoeba\.([a-z]+-eng)\.eng$")


def _matching(pattern: re.Pattern[str]) -> Iterator[tuple[str, re.Match[str]]]:
    """The mirror's files whose path ``pattern`` matches, in sorted order, with the match."""
    for path in sorted(mirror.manifest()):
        if match := pattern.match(path):
            yield path, match


def _new_lines(path: str, seen: set[str], english_only: bool = False) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of the lines of ``path`` (1-based; white space folded) whose text,
    case-folded, is not in ``seen`` (which is updated); ``english_only``: by :func:`looks_english`."""
    for n, line in enumerate(mirror.iter_lines(path), start=1):
        s = " ".join(line.split())
        if s and s.casefold() not in seen and (not english_only or looks_english(s)):
            seen.add(s.casefold())
            yield n, s


def _news_passages(pattern: re.Pattern[str], seen: set[str]) -> list[NtrexDoc]:
    """Three-sentence passages of the MAFAND-MT English files that ``pattern`` matches (new,
    English-looking sentences only; ``seen`` is updated)."""
    out = []
    for path, match in _matching(pattern):
        pair, split = match.groups()
        kept = [s for _, s in _new_lines(path, seen, english_only=True)]
        for k in range(0, len(kept) - PASSAGE_SENTENCES + 1, PASSAGE_SENTENCES):
            text = " ".join(kept[k : k + PASSAGE_SENTENCES])
            out.append(NtrexDoc(f"mafand-{pair}-{split}_p{k // PASSAGE_SENTENCES}", text,
                                f"mafand/{pair}/{split}"))
    return out


@lru_cache(maxsize=1)
def distractors() -> tuple[NtrexDoc, ...]:
    """Unjudged English news passages from the MAFAND-MT dev/test English sides."""
    return tuple(_news_passages(_MAFAND_EVAL, {s.casefold() for s in sentences("en")}))


@lru_cache(maxsize=1)
def xl_distractors() -> tuple[NtrexDoc, ...]:
    """Every English passage of the mirror, unjudged: :func:`distractors` first, then MAFAND-MT
    train news (three sentences a passage), Multi30k captions and Tatoeba English sentences
    (one a passage, doc id ``<source>-<file>-<line>``, 1-based), each text once."""
    seen = {s.casefold() for s in sentences("en")}
    out = _news_passages(_MAFAND_EVAL, seen) + _news_passages(_MAFAND_TRAIN, seen)
    for pattern, source in ((_CAPTIONS, "multi30k"), (_TATOEBA_EN, "tatoeba")):
        for path, match in _matching(pattern):
            name = match.group(1)
            out += [NtrexDoc(f"{source}-{name}-{n}", s, f"{source}/{name}") for n, s in _new_lines(path, seen)]
    return tuple(out)


def build(code: str, split: Split) -> Built:
    """Documents, queries and qrels of ``optical-ir/ntrex/<code>-en/<split>``."""
    code = ntrex_code(code)
    base: Literal["train", "test"] = "train" if split in ("train", "dev", "dev-small") else "test"
    docs, where = passages(base)
    dev = dev_articles(small=split == "dev-small") if split in ("dev", "dev-small") else None
    if dev is not None:
        docs = tuple(d for d in docs if d.article in dev)
    article_docs: dict[str, list[str]] = {}
    for d in docs:
        article_docs.setdefault(d.article, []).append(d.doc_id)
    text, english, article_ids = sentences(code), sentences("en"), article_of_line()
    queries, qrels = [], []
    for i in sorted(where):
        if dev is not None and article_ids[i] not in dev:
            continue
        qid = str(i + 1)
        queries.append(NtrexQuery(qid, text[i], code, english[i], article_ids[i]))
        for doc_id in article_docs[article_ids[i]]:
            qrels.append(TrecQrel(qid, doc_id, 2 if doc_id == where[i] else 1, "0"))
    if split == "test-large":
        docs = docs + distractors()[: max(0, LARGE_SIZE - len(docs))]
    if split == "test-xl":
        docs = docs + xl_distractors()
    if split == "dev":  # as many passages as test: the held-out articles' and unjudged news
        docs = docs + distractors()[: max(0, len(passages("test")[0]) - len(docs))]
    return Built(docs, queries, qrels)


def dataset_id(code: str, split: Split) -> str:
    return f"{NAMESPACE}/ntrex/{ntrex_code(code)}-en/{split}"


def _dataset(code: str, split: Split) -> object:
    return language_dataset("ntrex", "NTREX-128", code, list(ntrex_codes()), lambda c: build(c, split),
                            doc_cls=NtrexDoc, query_cls=NtrexQuery, docs_namespace=f"{NAMESPACE}/ntrex/{split}",
                            qrels_defs=QRELS_DEFS)


def register_all() -> None:
    for code in ntrex_codes():
        for split in SPLITS:
            register(dataset_id(code, split), _dataset(code, split))
    # aliases (``swa-en``, ``zho-CN-en``) and a clear error for unknown codes
    register_pattern(rf"^{NAMESPACE}/ntrex/(.+)-en/({'|'.join(SPLITS)})$",
                     lambda _id, groups: _dataset(groups[0], groups[1]))  # type: ignore[arg-type]
