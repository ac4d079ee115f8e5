from collections import Counter

import ir_datasets
import pytest

import optical_ir.collections as collections
from optical_ir.collections import ntrex
from optical_ir.languages import UnknownLanguageError

from .conftest import needs_mirror

pytestmark = needs_mirror


def _parts(dataset_id: str) -> tuple[list, list, list]:
    ds = ir_datasets.load(dataset_id)
    return list(ds.docs_iter()), list(ds.queries_iter()), list(ds.qrels_iter())


def test_ntrex_test_counts_and_graded_qrels() -> None:
    docs, queries, qrels = _parts("optical-ir/ntrex/sw-en/test")
    assert (len(docs), len(queries)) == (351, 1007)
    grades = Counter(q.relevance for q in qrels)
    assert set(grades) == {1, 2}
    per_query = Counter(q.query_id for q in qrels if q.relevance == 2)
    assert len(per_query) == len(queries) and set(per_query.values()) == {1}
    # the relevance-2 passage holds the query sentence's English source
    text = {d.doc_id: d.text for d in docs}
    for q in queries[:50]:
        (best,) = [r.doc_id for r in qrels if r.query_id == q.query_id and r.relevance == 2]
        assert q.english in text[best]


def test_train_and_test_articles_are_disjoint_halves() -> None:
    split = ntrex.article_split()
    assert len(split) == 123
    assert Counter(split.values()) == {"test": 62, "train": 61}
    test_docs, _, _ = _parts("optical-ir/ntrex/sw-en/test")
    train_docs, _, _ = _parts("optical-ir/ntrex/sw-en/train")
    assert not {d.article for d in test_docs} & {d.article for d in train_docs}


def test_dev_is_a_held_out_fifth_of_the_train_articles() -> None:
    dev = ntrex.dev_articles()
    split = ntrex.article_split()
    assert len(dev) == 13 and all(split[a] == "train" for a in dev)
    docs, queries, qrels = _parts("optical-ir/ntrex/sw-en/dev")
    assert {d.article for d in docs} == set(dev)  # only the dev articles' passages
    assert {q.article for q in queries} == set(dev) and len(queries) == 186
    doc_ids = {d.doc_id for d in docs}
    assert {q.doc_id for q in qrels} <= doc_ids
    assert {q.query_id for q in qrels} == {q.query_id for q in queries}


def test_passages_hold_about_three_sentences() -> None:
    docs, _, _ = _parts("optical-ir/ntrex/de-en/test")
    n_sentences = sum(1 for a in ntrex.article_of_line() if ntrex.article_split()[a] == "test")
    assert 2.5 <= n_sentences / len(docs) <= 3.0


def test_test_large_adds_unjudged_distractors() -> None:
    docs, queries, qrels = _parts("optical-ir/ntrex/sw-en/test-large")
    small_docs, small_queries, small_qrels = _parts("optical-ir/ntrex/sw-en/test")
    assert len(docs) == ntrex.LARGE_SIZE
    assert queries == small_queries and qrels == small_qrels
    judged = {q.doc_id for q in qrels}
    extra = [d for d in docs if d.article.startswith("mafand/")]
    assert len(extra) == ntrex.LARGE_SIZE - len(small_docs)
    assert not judged & {d.doc_id for d in extra}
    assert len({d.doc_id for d in docs}) == len(docs)


def test_query_ids_and_qrels_are_shared_across_languages() -> None:
    _, sw_q, sw_qrels = _parts("optical-ir/ntrex/sw-en/test")
    _, zh_q, zh_qrels = _parts("optical-ir/ntrex/zh-en/test")
    assert [q.query_id for q in sw_q] == [q.query_id for q in zh_q]
    assert sw_qrels == zh_qrels
    assert [q.english for q in sw_q] == [q.english for q in zh_q]
    assert sw_q[0].text != zh_q[0].text


def test_aliases_load_the_same_collection() -> None:
    assert _parts("optical-ir/ntrex/swa-en/test")[1] == _parts("optical-ir/ntrex/sw-en/test")[1]
    assert ir_datasets.load("optical-ir/ntrex/zho-CN-en/test").queries_lang() == "zh"


def test_every_ntrex_language_is_registered() -> None:
    ids = collections.registered_ids()
    langs = ntrex.ntrex_languages()
    assert len(langs) >= 110
    for lang in langs:
        assert f"optical-ir/ntrex/{lang.code}-en/test" in ids


def test_unknown_language_id_is_a_clear_error() -> None:
    with pytest.raises(UnknownLanguageError, match="unknown language code 'xx'"):
        ir_datasets.load("optical-ir/ntrex/xx-en/test")
    with pytest.raises(UnknownLanguageError, match="XQuAD-R"):
        ir_datasets.load("optical-ir/xquad-r/sw-en")
    with pytest.raises(KeyError, match="optical-ir/ntrex"):
        collections.load("optical-ir/nothing")


def test_docs_store_returns_documents() -> None:
    ds = ir_datasets.load("optical-ir/ntrex/fr-en/test")
    doc = next(ds.docs_iter())
    assert ds.docs_store().get(doc.doc_id) == doc
    assert ds.docs_count() == 351


def test_xquad_r() -> None:
    docs, queries, qrels = _parts("optical-ir/xquad-r/de-en")
    assert (len(docs), len(queries), len(qrels)) == (1180, 1190, 1190)
    text = {d.doc_id: d.text for d in docs}
    answers = {q.query_id: q for q in queries}
    # the relevant sentence of the first English question holds the answer "308"
    first = qrels[0]
    assert "308" in text[first.doc_id] and answers[first.query_id].lang == "de"


def test_multi30k() -> None:
    docs, queries, qrels = _parts("optical-ir/multi30k/cs-en/test2016")
    assert (len(docs), len(queries), len(qrels)) == (5000, 1000, 5000)
    assert set(Counter(q.query_id for q in qrels).values()) == {5}
    image = {d.doc_id: d.image for d in docs}
    assert all(image[q.doc_id] == q.query_id for q in qrels)
