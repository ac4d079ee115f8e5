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


def test_dev_holds_out_two_fifths_of_the_train_articles_with_as_many_passages_as_test() -> None:
    dev, small = ntrex.dev_articles(), ntrex.dev_articles(small=True)
    split = ntrex.article_split()
    assert len(dev) == 25 and len(small) == 13 and small < dev and all(split[a] == "train" for a in dev)
    test_docs, _, _ = _parts("optical-ir/ntrex/sw-en/test")
    for name, articles, n_queries in (("dev", dev, 356), ("dev-small", small, 186)):
        docs, queries, qrels = _parts(f"optical-ir/ntrex/sw-en/{name}")
        judged = {d.article for d in docs if not d.article.startswith("mafand/")}
        assert judged == set(articles)  # only the held-out articles' passages are judged
        assert {q.article for q in queries} == set(articles) and len(queries) == n_queries
        doc_ids = {d.doc_id for d in docs}
        assert {q.doc_id for q in qrels} <= doc_ids and {q.query_id for q in qrels} == {q.query_id for q in queries}
        assert {q.doc_id for q in qrels}.isdisjoint({d.doc_id for d in docs if d.article.startswith("mafand/")})
    docs, _, _ = _parts("optical-ir/ntrex/sw-en/dev")
    assert len(docs) == len(test_docs) == 351  # the distractors fill dev up to test's size
    assert len(_parts("optical-ir/ntrex/sw-en/dev-small")[0]) == 65  # no distractors


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


def test_every_ntrex_file_loads_or_names_the_missing_file(monkeypatch) -> None:
    """All 128 NTREX languages are registered; a reference the mirror lacks is the missing-file
    error offline, and a download from its pinned URL online."""
    from optical_ir import mirror
    from optical_ir.ntrex_files import ntrex_codes, sentence_file

    absent = [c for c in ntrex_codes() if not mirror.is_local(sentence_file(c))]
    assert sorted(absent) == sorted(["wo", "tn", "ny", "xh", "ee", "mg", "lo", "sm", "ky", "tg", "ug", "ps"])
    for code in ["wo", "wol", "xho", "tgk-Cyrl"]:
        ds = ir_datasets.load(f"optical-ir/ntrex/{code}-en/test")  # registered: the error comes on use
        with pytest.raises(mirror.MissingDataError, match=r"newstest2019-ref\.(wol|xho|tgk-Cyrl)\.txt is missing"):
            list(ds.queries_iter())
    monkeypatch.delenv("OPTICAL_IR_OFFLINE")
    asked = []

    def offline(url, timeout):  # what a machine without network answers
        asked.append(url)
        raise OSError("Name or service not known")

    monkeypatch.setattr(mirror.urllib.request, "urlopen", offline)
    with pytest.raises(mirror.MissingDataError, match="download from https://raw.githubusercontent.com/"
                                                      "MicrosoftTranslator/NTREX/8561f6a.*ref.lao.txt failed"):
        list(ir_datasets.load("optical-ir/ntrex/lo-en/test").queries_iter())
    assert asked and asked[0].endswith("newstest2019-ref.lao.txt")


def test_tatoeba_collections_for_every_mirrored_language() -> None:
    from optical_ir.parallel import tatoeba_codes

    assert len(tatoeba_codes()) == 110
    ids = collections.registered_ids()
    assert all(f"optical-ir/tatoeba/{c}-en" in ids for c in tatoeba_codes())
    docs, queries, qrels = _parts("optical-ir/tatoeba/de-en")
    assert (len(docs), len(queries)) == (1000, 1000)
    by_query = Counter(q.query_id for q in qrels)
    assert set(by_query) == {q.query_id for q in queries}
    text = {d.doc_id: d.text for d in docs}
    for q in queries:  # every relevant sentence is the query's English side
        assert all(" ".join(text[r.doc_id].split()).casefold() == q.english.casefold()
                   for r in qrels if r.query_id == q.query_id)
    assert _parts("optical-ir/tatoeba/swh-en")[1] == _parts("optical-ir/tatoeba/sw-en")[1]
    assert len(_parts("optical-ir/tatoeba/sw-en")[1]) == 390
    with pytest.raises(UnknownLanguageError, match="Tatoeba language"):
        ir_datasets.load("optical-ir/tatoeba/wo-en")


def test_hugging_face_parallel_sets_from_the_datasets_disk_format(tmp_path, monkeypatch) -> None:
    datasets = pytest.importorskip("datasets")
    from optical_ir.collections import parallel_sentences as ps

    # an XNLI-shaped set (premises repeated for three hypotheses, rows aligned by order) and
    # a FLORES-shaped one (configs <iso639-3>_<script>, rows aligned by id)
    xnli = {"en": ["A man sleeps.", "A man sleeps.", "A man sleeps.", "Dogs bark.", "Dogs bark.", "Dogs bark."],
            "sw": ["Mtu analala.", "Mtu analala.", "Mtu analala.", "Mbwa hubweka.", "Mbwa hubweka.", "Mbwa hubweka."]}
    for lang, premises in xnli.items():
        datasets.DatasetDict({"test": datasets.Dataset.from_dict(
            {"premise": premises, "hypothesis": ["h"] * 6, "label": [0, 1, 2] * 2})}).save_to_disk(
            str(tmp_path / "facebook/xnli" / lang))
    flores = {"eng_Latn": [(1, "The sun rose."), (2, "It rained."), (3, "The sun rose.")],
              "swh_Latn": [(3, "Jua lilichomoza tena."), (1, "Jua lilichomoza."), (2, "Mvua ilinyesha.")]}
    for config, rows in flores.items():
        datasets.DatasetDict({"devtest": datasets.Dataset.from_dict(
            {"id": [i for i, _ in rows], "text": [t for _, t in rows]})}).save_to_disk(
            str(tmp_path / "openlanguagedata/flores_plus" / config))
    monkeypatch.setenv(ps.HF_ENV, str(tmp_path))
    docs, queries, qrels = _parts("optical-ir/xnli/swa-en/test")
    assert [q.text for q in queries] == ["Mtu analala.", "Mbwa hubweka."] and len(docs) == 2
    assert ir_datasets.load("optical-ir/xnli/sw-en/test").queries_lang() == "sw"
    docs, queries, qrels = _parts("optical-ir/flores/sw-en/devtest")
    assert [(q.text, q.english) for q in queries][0] == ("Jua lilichomoza tena.", "The sun rose.")
    assert sorted(r.doc_id for r in qrels if r.query_id == "1") == ["en-1", "en-2"]  # same English text twice
    with pytest.raises(UnknownLanguageError, match="flores language"):
        list(ir_datasets.load("optical-ir/flores/de-en/devtest").queries_iter())
    monkeypatch.setenv(ps.HF_ENV, str(tmp_path / "nothing"))
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from optical_ir.mirror import MissingDataError

    with pytest.raises(MissingDataError, match="save_to_disk"):
        list(ir_datasets.load("optical-ir/mtop/de-en/test").queries_iter())
