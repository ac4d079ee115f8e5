"""XQuAD-R as a CLIR collection: a question in language X finds its English answer sentence.

XQuAD-R (Roy et al., 2020, LAReQA) is XQuAD with sentence boundaries: 240 Wikipedia
paragraphs and 1,190 questions, human-translated into 11 languages. Here:

* **documents** — the sentences of every English paragraph (doc id ``p<para>-s<sent>``);
* **queries** — the questions in language X (query id = the SQuAD question id, the same in
  every language);
* **qrels** — 1 for the English sentence that holds the start of the English answer.
"""

from __future__ import annotations

import json
from functools import cache, lru_cache
from typing import NamedTuple

from ir_datasets.formats import TrecQrel

from .. import mirror
from ..languages import get_language
from ._base import NAMESPACE, Built, TranslatedQuery, language_dataset, register, register_pattern

LANGS: tuple[str, ...] = ("ar", "de", "el", "en", "es", "hi", "ru", "th", "tr", "vi", "zh")
QRELS_DEFS = {1: "the sentence holds the start of the English answer"}


class XQuADRDoc(NamedTuple):
    doc_id: str
    text: str
    title: str

    def default_text(self) -> str:
        return self.text


XQuADRQuery = TranslatedQuery


@cache
def _load(code: str) -> dict:
    return json.loads(mirror.read_text(f"xquad-r/xquad-r/{code}.json"))


def _paragraphs(code: str) -> list[tuple[str, dict]]:
    return [(a["title"], p) for a in _load(code)["data"] for p in a["paragraphs"]]


@lru_cache(maxsize=1)
def english_side() -> tuple[tuple[XQuADRDoc, ...], dict[str, str], dict[str, str]]:
    """English sentences, question id → relevant sentence id, question id → English text."""
    docs, answer_doc, question = [], {}, {}
    for pi, (title, para) in enumerate(_paragraphs("en")):
        ids = []
        for si, (sentence, (start, end)) in enumerate(zip(para["sentences"], para["sentence_breaks"], strict=True)):
            doc_id = f"p{pi:03d}-s{si:02d}"
            docs.append(XQuADRDoc(doc_id, sentence.strip(), title))
            ids.append((start, end, doc_id))
        for qa in para["qas"]:
            pos = qa["answers"][0]["answer_start"]
            hits = [d for s, e, d in ids if s <= pos <= e] or [ids[-1][2]]
            answer_doc[qa["id"]] = hits[0]
            question[qa["id"]] = qa["question"].strip()
    return tuple(docs), answer_doc, question


def build(code: str) -> Built:
    docs, answer_doc, english = english_side()
    queries, qrels = [], []
    for _, para in _paragraphs(code):
        for qa in para["qas"]:
            qid = qa["id"]
            queries.append(XQuADRQuery(qid, qa["question"].strip(), code, english[qid]))
            qrels.append(TrecQrel(qid, answer_doc[qid], 1, "0"))
    return Built(docs, queries, qrels)


def dataset_id(code: str) -> str:
    return f"{NAMESPACE}/xquad-r/{get_language(code).code}-en"


def _dataset(code: str) -> object:
    return language_dataset("xquad-r", "XQuAD-R", code, LANGS, build, doc_cls=XQuADRDoc, query_cls=XQuADRQuery,
                            docs_namespace=f"{NAMESPACE}/xquad-r", qrels_defs=QRELS_DEFS)


def register_all() -> None:
    for code in LANGS:
        register(dataset_id(code), _dataset(code))
    register_pattern(rf"^{NAMESPACE}/xquad-r/(.+)-en$", lambda _id, g: _dataset(g[0]))
