"""Late interaction: content-token vectors, the token index, MaxSim as first stage and reranker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from optical_ir.encoders import DenseEncoder

from .test_bm25 import TINY

pytestmark = pytest.mark.java

TOPICS = [("q1", "The president of Kenya spoke in Nairobi"), ("q2", "flooded streets in Lagos"),
          ("q3", "football in London, on the weekend")]


def _brute_maxsim(q: np.ndarray, d: np.ndarray) -> float:
    return float(np.mean([max(float(qi @ dj) for dj in d) for qi in q]))


def test_maxsim_is_the_mean_over_query_tokens_of_the_best_passage_token() -> None:
    from optical_ir.retrieval import maxsim

    rng = np.random.default_rng(0)
    q = rng.normal(size=(4, 8))
    docs = [rng.normal(size=(n, 8)) for n in (1, 3, 7)]
    got = maxsim(q, np.concatenate(docs), np.array([len(d) for d in docs]))
    assert got == pytest.approx([_brute_maxsim(q, d) for d in docs], rel=1e-5)
    with pytest.raises(ValueError, match="at least one token"):
        maxsim(q, docs[0], np.array([1, 0]))


def test_content_tokens_drop_special_and_prefix_tokens(me5: DenseEncoder) -> None:
    text = "Heavy rains flooded the streets of Lagos"
    tokens, pooled = me5.encode_tokens([text, "Nairobi"], "passage")
    expected = len(me5.tokenizer(text, add_special_tokens=False)["input_ids"])
    assert tokens[0].shape == (expected, me5.dim)  # no <s>, </s>, nor the tokens of "passage:"
    assert np.linalg.norm(tokens[0], axis=1) == pytest.approx(np.ones(expected), abs=1e-5)
    assert pooled == pytest.approx(me5.encode([text, "Nairobi"], "passage"), abs=1e-5)
    assert me5.prefix_length("query") == len(me5.tokenizer("query:", add_special_tokens=False)["input_ids"]) > 0
    # the distillation's tokens with transport mass are these same tokens
    from optical_ir.distillation.features import TokenSide

    feats = TokenSide(me5, 64).run([text])
    assert int(feats.mask.sum()) == len(me5.encode_tokens([text], "query")[0][0])


def test_token_index_search_and_rerank(me5: DenseEncoder, minilm: DenseEncoder, tmp_path: Path) -> None:
    from optical_ir.indexes import IndexMismatchError, read_index_config
    from optical_ir.indexes.faiss import build_faiss_index
    from optical_ir.indexes.tokens import TokenIndex, build_token_index
    from optical_ir.retrieval import FaissDenseSearcher, LateInteractionSearcher

    path = build_token_index(TINY, me5, tmp_path / "tokens")
    config = read_index_config(path)
    assert config["kind"] == "tokens" and config["faiss"] == "SQfp16" and config["docs_count"] == 3
    assert build_token_index(TINY, me5, path) == path  # reused
    index = TokenIndex(path)
    assert index.docids == ["d1", "d2", "d3"] and config["tokens"] == len(index.vectors) == index.offsets[-1]
    assert index.vectors.dtype == np.float16

    # the first stage over the whole index: every passage scored exactly as MaxSim by hand
    searcher = LateInteractionSearcher.from_index(path, me5)
    run = searcher.batch_search(TOPICS, 3).run
    q_tokens, _ = me5.encode_tokens([t for _, t in TOPICS], "query")
    for (qid, _), q in zip(TOPICS, q_tokens, strict=True):
        for n, doc in enumerate(index.docids):
            d = index.vectors[index.offsets[n] : index.offsets[n + 1]].astype(np.float32)
            assert run[qid][doc] == pytest.approx(_brute_maxsim(q, d), abs=1e-4)
    assert max(run["q1"], key=run["q1"].get) == "d1" and max(run["q2"], key=run["q2"].get) == "d3"

    # as a reranker: only the first stage's top `depth` documents, rescored
    first = {"q1": {"d2": 3.0, "d3": 2.0, "d1": 1.0}, "q2": {"d2": 1.0}, "q3": {}}
    reranked = LateInteractionSearcher(me5, index, first_stage=first, depth=2).batch_search(TOPICS).run
    assert set(reranked["q1"]) == {"d2", "d3"} and set(reranked["q2"]) == {"d2"} and "q3" not in reranked
    assert reranked["q1"]["d3"] == pytest.approx(run["q1"]["d3"], abs=1e-6)

    # plus the pooled score: exactly lambda times the dense (pooled) inner product
    dense = FaissDenseSearcher(build_faiss_index(TINY, me5, tmp_path / "faiss"), me5).batch_search(TOPICS, 3).run
    mixed = LateInteractionSearcher(me5, index, pooled_weight=0.5).batch_search(TOPICS, 3).run
    for qid, _ in TOPICS:
        for doc in index.docids:
            assert mixed[qid][doc] == pytest.approx(run[qid][doc] + 0.5 * dense[qid][doc], abs=2e-3)

    # candidates from one nearest token per query token: a subset, with the same scores
    narrow = LateInteractionSearcher(me5, index, token_candidates=1).batch_search(TOPICS, 3).run
    for qid, hits in narrow.items():
        assert hits and all(s == pytest.approx(run[qid][d], abs=1e-6) for d, s in hits.items())

    # one kind of index is not the other, and the query encoder must belong to the index
    with pytest.raises(IndexMismatchError, match="token index"):
        FaissDenseSearcher(path, me5)
    with pytest.raises(IndexMismatchError, match="--tokens"):
        LateInteractionSearcher.from_index(tmp_path / "faiss", me5)
    with pytest.raises(IndexMismatchError):
        LateInteractionSearcher.from_index(path, minilm)


def test_search_and_index_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from optical_ir.index import main as index_main
    from optical_ir.search import main as search_main
    from optical_ir.trec import read_run, write_run

    tokens = tmp_path / "tokens"
    assert index_main(["--dataset", TINY, "--encoder", "all-MiniLM-L6-v2", "--tokens", "--index", str(tokens)]) == 0
    out = tmp_path / "maxsim.trec"
    assert search_main(["--dataset", TINY, "--encoder", "all-MiniLM-L6-v2", "--late-interaction",
                        "--index", str(tokens), "--output", str(out), "--hits", "2"]) == 0
    run = read_run(out)
    assert set(run) == {"q1", "q2"} and all(len(h) == 2 for h in run.values())
    assert out.read_text().split("\n")[0].split()[-1] == "maxsim"
    first = tmp_path / "first.trec"
    write_run({"q1": {"d2": 2.0, "d3": 1.0}, "q2": {"d3": 1.0}}, first, "x")
    out2 = tmp_path / "rerank.trec"
    assert search_main(["--dataset", TINY, "--encoder", "all-MiniLM-L6-v2", "--late-interaction", "--rerank",
                        "--first-stage", str(first), "--index", str(tokens), "--output", str(out2)]) == 0
    assert {q: set(h) for q, h in read_run(out2).items()} == {"q1": {"d2", "d3"}, "q2": {"d3"}}
    with pytest.raises(SystemExit):
        search_main(["--dataset", TINY, "--late-interaction", "--output", str(out2)])
    assert "need --encoder" in capsys.readouterr().err
