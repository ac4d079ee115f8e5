"""Translation baselines: the eflomal table, pruning, PSQ weights and queries, the cache, NMT, bad input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from optical_ir.translation.base import PrecomputedTranslator, TextTranslator, TranslationCache
from optical_ir.translation.psq import psq_weights
from optical_ir.translation.table import (
    TableConfig,
    TableTranslator,
    TranslationTable,
    align,
    learn_table,
    prune,
    table_from_links,
)
from optical_ir.trec import TrecFormatError

from .conftest import needs_mirror

LEXICON = {"paka": "cat", "mbwa": "dog", "nyumba": "house", "mti": "tree", "maji": "water", "chakula": "food",
           "mtoto": "child", "gari": "car", "kitabu": "book", "shule": "school", "mji": "city", "mto": "river"}


def _toy_bitext(n: int = 400, seed: int = 0) -> list[tuple[list[str], list[str]]]:
    rng = random.Random(seed)
    words = sorted(LEXICON)
    pairs = []
    for _ in range(n):
        src = rng.sample(words, rng.randint(2, 5))
        en = [LEXICON[w] for w in src]
        rng.shuffle(en)  # the word order differs: alignment must come from co-occurrence
        pairs.append((src, en))
    return pairs


def test_eflomal_table_ranks_the_right_translation_first() -> None:
    pairs = _toy_bitext()
    table = table_from_links(pairs, align(pairs))
    for src, en in LEXICON.items():
        best = max(table[src].items(), key=lambda kv: kv[1])[0]
        assert best == en, (src, table[src])


def test_prune_threshold_top_k_cumulative_and_renormalise() -> None:
    probs = {"a": 0.5, "b": 0.3, "c": 0.15, "d": 0.05}
    assert prune(probs, min_prob=0.1, top_k=10, cumulative=1.0) == pytest.approx({"a": 0.5 / 0.95, "b": 0.3 / 0.95,
                                                                                   "c": 0.15 / 0.95})
    assert prune(probs, min_prob=0.0, top_k=2, cumulative=1.0) == pytest.approx({"a": 0.625, "b": 0.375})
    assert prune(probs, min_prob=0.0, top_k=10, cumulative=0.8) == pytest.approx({"a": 0.625, "b": 0.375})
    assert prune({"x": 0.01}, min_prob=0.5, top_k=1, cumulative=0.5) == {"x": 1.0}  # the best always survives
    assert list(prune({"b": 0.5, "a": 0.5}, 0.0, 1, 1.0)) == ["a"]  # ties broken by the English word


def _table(probs: dict[str, dict[str, float]]) -> TranslationTable:
    return TranslationTable(probs, TableConfig(lang="sw"), n_pairs=3)


def test_one_best_translation_keeps_unknown_words_and_avoids_stop_words() -> None:
    table = _table({"paka": {"cat": 0.9, "cats": 0.1}, "ya": {"of": 0.7, "belonging": 0.3}})
    tr = TableTranslator(table)
    assert tr.translate_batch(["Paka ya Nairobi"]) == ["cat belonging nairobi"]


def test_psq_weights_sum_translation_probabilities_per_analysed_term() -> None:
    table = _table({"paka": {"cat": 0.75, "cats": 0.25}, "wa": {"of": 1.0}})
    stem = {"cat": ["cat"], "cats": ["cat"], "of": [], "nairobi": ["nairobi"]}
    weights = psq_weights("paka wa Nairobi paka", table, lambda w: stem.get(w, [w]))
    # paka twice (0.75 + 0.25 each time → 'cat' 2.0); 'of' is a stop word; Nairobi unknown → weight 1
    assert weights == pytest.approx({"cat": 2.0, "nairobi": 1.0})


class _Counting(TextTranslator):
    source_lang = "sw"

    def __init__(self) -> None:
        self.calls: list[str] = []

    @property
    def key(self) -> str:
        return "counting:v1"

    def provenance(self) -> dict:
        return {"method": "counting"}

    def translate_batch(self, texts):  # type: ignore[no-untyped-def]
        self.calls += list(texts)
        return [t.upper() for t in texts]


def test_cache_translates_nothing_twice(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "cache.sqlite")
    tr = _Counting()
    topics = [("1", "habari"), ("2", "paka"), ("3", "habari"), ("4", "")]
    assert tr.translate_topics(topics, cache) == [("1", "HABARI"), ("2", "PAKA"), ("3", "HABARI"), ("4", "")]
    assert sorted(tr.calls) == ["habari", "paka"]  # each distinct non-empty text once
    again = _Counting()
    assert again.translate_topics(topics, TranslationCache(tmp_path / "cache.sqlite"))[1] == ("2", "PAKA")
    assert again.calls == []


def test_precomputed_translations_and_malformed_lines(tmp_path: Path) -> None:
    good = tmp_path / "mt.tsv"
    good.write_text("1\tthe cat\n2\tthe dog\n")
    tr = PrecomputedTranslator(good, "swa")
    assert tr.translate_topics([("2", "mbwa")]) == [("2", "the dog")]
    with pytest.raises(ValueError, match="no translation for 1 of 1 queries: 9"):
        tr.translate_topics([("9", "x")])
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\tthe cat\n2 the dog\n")
    with pytest.raises(TrecFormatError, match="line 2"):
        PrecomputedTranslator(bad, "sw")


@needs_mirror
def test_learned_table_is_saved_reused_and_refuses_other_settings(tmp_path: Path) -> None:
    config = TableConfig(lang="sw", sources=("tatoeba",), top_k=3)
    table = learn_table(config, tmp_path / "t")
    assert len(table) > 100 and table.n_pairs > 300
    assert all(len(ts) <= 3 and sum(ts.values()) == pytest.approx(1.0, abs=1e-5) for ts in table.probs.values())
    again = learn_table(config, tmp_path / "t")  # read back, not learned again
    assert again.digest == table.digest
    assert again.probs == table.probs  # the learned table is the saved one, to the last digit
    with pytest.raises(ValueError, match="pass --relearn"):
        learn_table(TableConfig(lang="sw", sources=("tatoeba",), top_k=5), tmp_path / "t")
    with pytest.raises(ValueError, match="nothing to learn a table from"):
        learn_table(TableConfig(lang="so", sources=("tatoeba",)), tmp_path / "so")
    import gzip

    (tmp_path / "t" / "table.tsv.gz").write_bytes(gzip.compress(b"paka\tcat\n"))
    with pytest.raises(ValueError, match="line 1"):
        TranslationTable.load(tmp_path / "t")


def test_a_table_from_your_own_bitext_for_any_language(tmp_path: Path) -> None:
    pairs = [("aman d aman", "water is water"), ("aman", "water"), ("axxam", "house"), ("axxam meqqer", "big house"),
             ("aman meqqer", "big water")] * 4
    tsv = tmp_path / "kab-en.tsv"
    tsv.write_text("".join(f"{x}\t{e}\n" for x, e in pairs))
    config = TableConfig(lang="kab", bitext=(str(tsv),))
    table = learn_table(config)  # the default directory is keyed by the settings and the file's md5
    assert max(table.probs["aman"], key=table.probs["aman"].get) == "water"
    assert max(table.probs["axxam"], key=table.probs["axxam"].get) == "house"
    digest = config.digest
    tsv.write_text(tsv.read_text() + "aman\twater\n")
    assert TableConfig(lang="kab", bitext=(str(tsv),)).digest != digest  # an edited file is another table
    assert "bitext" not in TableConfig(lang="sw").to_dict()  # the tables learned before --bitext keep their key


def _tiny_marian(directory: Path, source_lang: str | None = None) -> Path:
    """A randomly initialised Marian model with a sentencepiece vocabulary trained here."""
    import json

    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    directory.mkdir(parents=True)
    text = directory / "text.txt"
    text.write_text("\n".join(" ".join(p[0] + p[1]) for p in _toy_bitext(200)) + "\n")
    spm.SentencePieceTrainer.train(input=str(text), model_prefix=str(directory / "spm"), vocab_size=40,
                                   hard_vocab_limit=False, minloglevel=2, character_coverage=1.0, bos_id=-1,
                                   eos_id=1, unk_id=2, pad_id=0)
    pieces = [line.split("\t")[0] for line in (directory / "spm.vocab").read_text().splitlines()]
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    (directory / "vocab.json").write_text(json.dumps(vocab))
    for name in ("source.spm", "target.spm"):
        (directory / name).write_bytes((directory / "spm.model").read_bytes())
    tokenizer = MarianTokenizer(str(directory / "source.spm"), str(directory / "target.spm"),
                                str(directory / "vocab.json"), source_lang=source_lang, target_lang="en")
    torch.manual_seed(0)
    config = MarianConfig(vocab_size=len(vocab), d_model=16, encoder_layers=1, decoder_layers=1,
                          encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32,
                          decoder_ffn_dim=32, max_position_embeddings=64, pad_token_id=0, eos_token_id=1,
                          decoder_start_token_id=0, forced_eos_token_id=1)
    MarianMTModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


def test_nmt_marian_end_to_end_on_a_tiny_model(tmp_path: Path) -> None:
    from optical_ir.translation.nmt import NMTTranslator, UnsupportedLanguagePair

    model = _tiny_marian(tmp_path / "marian", source_lang="swa")
    tr = NMTTranslator(model, "sw", beam_size=2, max_length=12)
    assert tr.family == "marian" and tr.provenance()["model"] == str(model)
    out = tr.translate_topics([("1", "paka mbwa"), ("2", "nyumba mti maji")], TranslationCache(tmp_path / "c.sqlite"))
    assert [qid for qid, _ in out] == ["1", "2"] and all(isinstance(t, str) for _, t in out)
    assert out == tr.translate_topics([("1", "paka mbwa"), ("2", "nyumba mti maji")],
                                      TranslationCache(tmp_path / "c.sqlite"))  # cached: the same strings
    with pytest.raises(UnsupportedLanguagePair, match="not from de"):
        NMTTranslator(model, "de")


@pytest.mark.java
def test_psq_search_finds_the_passage_through_weighted_translations(tmp_path: Path) -> None:
    from optical_ir.indexes.lucene import build_lucene_index
    from optical_ir.retrieval import PsqSearcher
    from optical_ir.retrieval.psq import english_analyzer, lucene_query

    from .test_bm25 import TINY

    index = build_lucene_index(TINY, tmp_path / "lucene")
    analyse = english_analyzer()
    assert analyse("Elections") == ["elect"]  # Anserini's English analyzer: Porter stems
    table = _table({"mvua": {"rains": 0.8, "rain": 0.2}, "uchaguzi": {"elections": 0.9, "choice": 0.1}})
    weights = psq_weights("mvua", table, analyse)
    assert weights == pytest.approx({"rain": 1.0})  # both translations stem to 'rain'
    assert str(lucene_query(weights).toString()) == "(contents:rain)^1.0"
    searcher = PsqSearcher(index, table)
    run, empty = searcher.batch_search([("q1", "uchaguzi"), ("q2", "Mvua"), ("q3", "!!")], 3)
    assert max(run["q1"], key=run["q1"].get) == "d1" and max(run["q2"], key=run["q2"].get) == "d3"
    assert empty == ["q3"] and searcher.tag == "bm25-psq"
    assert searcher.search("Mvua", 1) == {"d3": run["q2"]["d3"]}


def test_nllb_language_token_is_found_through_the_language_codes() -> None:
    from optical_ir.languages import get_language
    from optical_ir.translation.nmt import NMTTranslator

    class Vocab:
        def get_vocab(self) -> dict[str, int]:
            return {t: i for i, t in enumerate(["swh_Latn", "arb_Arab", "ary_Arab", "zho_Hans", "zho_Hant", "eng_Latn",
                                                "hello", "wol_Latn"])}

    nmt = NMTTranslator.__new__(NMTTranslator)  # the token lookup only, without loading a model
    nmt.tokenizer = Vocab()
    for code, token in (("sw", "swh_Latn"), ("swa", "swh_Latn"), ("ar", "arb_Arab"), ("zh", "zho_Hans"),
                        ("zh-TW", "zho_Hant"), ("wo", "wol_Latn"), ("so", None)):
        nmt.source_lang = get_language(code).code
        assert nmt._nllb_code() == token, code
