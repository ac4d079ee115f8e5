"""Scale: sharded encoding and its merge, approximate FAISS indexes (HNSW, IVF-PQ), the test-xl collection."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from optical_ir.encoders import DenseEncoder
from optical_ir.errors import ConfigError
from optical_ir.indexes import IndexMismatchError, read_index_config
from optical_ir.indexes.ann import IndexSpec
from optical_ir.indexes.faiss import build_faiss_index, index_vectors, merge_shards, shard_range

pytestmark = pytest.mark.java

DATASET = "optical-ir/ntrex/sw-en/test"


@pytest.fixture(autouse=True, scope="module")
def _java() -> None:
    from optical_ir import jvm

    jvm.start()


@pytest.fixture(scope="module")
def topics() -> list[tuple[str, str]]:
    from optical_ir.topics import load_topics

    return load_topics(DATASET, None)[:60]


@pytest.fixture(scope="module")
def flat(minilm: DenseEncoder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_faiss_index(DATASET, minilm)  # the cached flat index (approximate ones reuse its vectors)


def _top(index: Path, encoder: DenseEncoder, topics: list[tuple[str, str]], k: int = 10) -> dict[str, list[str]]:
    from optical_ir.retrieval import FaissDenseSearcher

    run = FaissDenseSearcher(index, encoder).batch_search(topics, k).run
    return {q: sorted(docs, key=docs.get, reverse=True) for q, docs in run.items()}


def test_shard_ranges_cover_the_documents_once() -> None:
    parts = [shard_range(351, i, 4) for i in range(4)]
    assert parts == [(0, 87), (87, 174), (174, 261), (261, 351)]
    with pytest.raises(ConfigError, match="shard id"):
        shard_range(351, 4, 4)


def test_sharded_and_merged_equals_unsharded(minilm: DenseEncoder, flat: Path, topics: list[tuple[str, str]],
                                             tmp_path: Path) -> None:
    from optical_ir.index import main

    shards = [build_faiss_index(DATASET, minilm, tmp_path / f"shard{i}", shard=(i, 3)) for i in range(3)]
    assert [read_index_config(s)["shard_range"] for s in shards] == [[0, 117], [117, 234], [234, 351]]
    assert main(["--merge", *map(str, reversed(shards)), "--index", str(tmp_path / "merged")]) == 0
    merged = tmp_path / "merged"
    ids, vectors = index_vectors(merged)
    flat_ids, flat_vectors = index_vectors(flat)
    assert ids == flat_ids
    np.testing.assert_allclose(vectors, flat_vectors, atol=1e-5)
    assert read_index_config(merged)["merged_from"] == 3
    assert _top(merged, minilm, topics) == _top(flat, minilm, topics)
    # merged straight into an approximate index
    hnsw = merge_shards(shards, tmp_path / "merged-hnsw", IndexSpec("hnsw"))
    assert read_index_config(hnsw)["faiss"] == "HNSW32,Flat"
    # what is not the N parts of one index is refused, naming what is wrong
    with pytest.raises(IndexMismatchError, match=r"missing \[2\]"):
        merge_shards(shards[:2], tmp_path / "bad")
    with pytest.raises(IndexMismatchError, match="given twice"):
        merge_shards([shards[0], shards[0], shards[1]], tmp_path / "bad")
    with pytest.raises(IndexMismatchError, match="not a shard index"):
        merge_shards([flat], tmp_path / "bad")
    with pytest.raises(ConfigError, match="a shard is a flat index"):
        build_faiss_index(DATASET, minilm, tmp_path / "x", spec=IndexSpec("hnsw"), shard=(0, 2))


def test_approximate_indexes_search_through_pyserini(minilm: DenseEncoder, flat: Path,
                                                     topics: list[tuple[str, str]], tmp_path: Path) -> None:
    import faiss

    exact = _top(flat, minilm, topics)
    for spec, factory, floor in ((IndexSpec("hnsw", ef_search=64), "HNSW32,Flat", 0.99),
                                 (IndexSpec("ivfpq", nlist=16, pq_m=8, nprobe=16), "IVF16,PQ8x8", 0.3)):
        index = build_faiss_index(DATASET, minilm, tmp_path / spec.index_type, spec=spec)
        record = read_index_config(index)
        assert record["faiss"] == factory and record["index_type"] == spec.index_type
        assert record["bytes_per_passage"] < (4 * 384 + 8 * 32 + 64 if spec.index_type == "hnsw" else 4 * 384)
        stored = faiss.downcast_index(faiss.read_index(str(index / "index")))
        assert (stored.hnsw.efSearch if spec.index_type == "hnsw" else stored.nprobe) == (64 if spec.index_type ==
                                                                                          "hnsw" else 16)
        top = _top(index, minilm, topics)
        recall = np.mean([len(set(top[q]) & set(exact[q])) / 10 for q in exact])
        assert recall >= floor, (spec.index_type, recall)
        # the same settings again: reused; another built setting: refused
        assert build_faiss_index(DATASET, minilm, index, spec=spec) == index
        with pytest.raises(IndexMismatchError, match="another index_spec"):
            build_faiss_index(DATASET, minilm, index, spec=dataclasses.replace(spec, hnsw_m=16, nlist=8))
    # a search-time parameter is not a setting of the index: the same index, its stored value updated
    hnsw = build_faiss_index(DATASET, minilm, tmp_path / "hnsw", spec=IndexSpec("hnsw", ef_search=256))
    assert faiss.downcast_index(faiss.read_index(str(hnsw / "index"))).hnsw.efSearch == 256
    assert read_index_config(hnsw)["index_params"]["efSearch"] == 256
    assert build_faiss_index(DATASET, minilm, hnsw, spec=IndexSpec("hnsw")) == hnsw  # None: kept as it is
    assert read_index_config(hnsw)["index_params"]["efSearch"] == 256
    from optical_ir.retrieval import FaissDenseSearcher

    with pytest.raises(ConfigError, match="--ef-search applies to an hnsw index"):
        FaissDenseSearcher(flat, minilm, ef_search=32)
    with pytest.raises(ConfigError, match="does not divide the dimension 384"):
        IndexSpec("ivfpq", pq_m=50).params(351, 384)


def test_search_cli_builds_and_searches_an_hnsw_index(minilm: DenseEncoder, flat: Path, tmp_path: Path) -> None:
    from optical_ir.search import main
    from optical_ir.trec import read_run

    out = tmp_path / "run.trec"
    assert main(["--dataset", DATASET, "--encoder", "all-MiniLM-L6-v2", "--index-type", "hnsw",
                 "--ef-search", "200", "--output", str(out), "--hits", "5"]) == 0
    assert len(read_run(out)) == 1007


def test_test_xl_holds_every_english_passage_of_the_mirror() -> None:
    from optical_ir.collections import load, ntrex

    xl, large, test = (load(f"optical-ir/ntrex/sw-en/{s}") for s in ("test-xl", "test-large", "test"))
    docs = list(xl.docs_iter())
    assert len(docs) > 200_000
    assert [d.doc_id for d in docs[:10_000]] == [d.doc_id for d in large.docs_iter()]  # test ⊂ test-large ⊂ test-xl
    assert len({d.doc_id for d in docs}) == len(docs) and len({d.text.casefold() for d in docs}) == len(docs)
    sources = {d.article.split("/")[0] for d in ntrex.xl_distractors()}
    assert sources == {"mafand", "multi30k", "tatoeba"}
    assert list(xl.qrels_iter()) == list(test.qrels_iter())
    assert [q.query_id for q in xl.queries_iter()] == [q.query_id for q in test.queries_iter()]


@pytest.mark.parametrize(("argv", "message"), [
    (["--dataset", DATASET, "--encoder", "m", "--shard-id", "0"], "--shard-id and --shard-num together"),
    (["--merge", "a", "b"], "--merge writes the index given by --index"),
    (["--dataset", DATASET, "--index-type", "hnsw"], "are for dense indexes: give --encoder"),
    (["--dataset", DATASET, "--encoder", "m", "--tokens", "--index-type", "hnsw"], "not --tokens"),
    ([], "give --dataset"),
])
def test_index_flags_that_do_not_fit_are_refused(argv: list[str], message: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from optical_ir.index import main

    with pytest.raises(SystemExit):
        main(argv)
    assert message in capsys.readouterr().err
