"""The distillation loop: a tiny real run, determinism, resume after an interruption, reruns, bad input."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from optical_ir.distillation import DistillConfig, distill, read_distill_info
from optical_ir.distillation import trainer as distill_mod
from optical_ir.encoders import DenseEncoder

from .conftest import interrupt_after_first_checkpoint, needs_mirror, tiny_bert

pytestmark = [needs_mirror]

PROBE = ["Rais wa Kenya alizungumza jijini Nairobi.", "Mvua kubwa ilinyesha Lagos."]


def _config(method: str = "optical", epochs: int = 2) -> DistillConfig:
    # all-MiniLM-L6-v2 as teacher and student: small and fast; the loop is what is tested
    return DistillConfig(languages=("sw",), method=method, teacher="all-MiniLM-L6-v2", student="all-MiniLM-L6-v2",
                         max_pairs=12, epochs=epochs, batch_size=4, max_length=32, lr=1e-4,
                         sinkhorn_iterations=20)


def _vectors(path: Path) -> np.ndarray:
    return DenseEncoder(path).encode(PROBE, "query")


@pytest.mark.parametrize("method", ["optical", "mse", "token-uniform", "token-position"])
def test_each_method_trains_a_loadable_student(method: str, tmp_path: Path) -> None:
    out = distill(_config(method, epochs=1), tmp_path / method)
    info = read_distill_info(out)
    assert info is not None and info["finished"] and info["pairs"] == 12
    assert np.isfinite(info["history"][0]["loss"])
    student = DenseEncoder(out)
    assert student.config.base_model == "all-MiniLM-L6-v2" and student.dim == 384
    before = DenseEncoder("all-MiniLM-L6-v2").encode(PROBE, "query")
    assert not np.allclose(student.encode(PROBE, "query"), before)  # training moved it


def test_deterministic_and_resumes_after_an_interruption(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    straight = distill(_config(), tmp_path / "straight")
    again = distill(_config(), tmp_path / "again")
    np.testing.assert_array_equal(_vectors(straight), _vectors(again))

    interrupt_after_first_checkpoint(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        distill(_config(), tmp_path / "resumed")
    assert not (read_distill_info(tmp_path / "resumed") or {}).get("finished")
    resumed = distill(_config(), tmp_path / "resumed")
    info = read_distill_info(resumed)
    assert info is not None and [h["epoch"] for h in info["history"]] == [1, 2]
    np.testing.assert_allclose(_vectors(resumed), _vectors(straight), atol=1e-5)


def test_finished_student_is_not_trained_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = distill(_config(epochs=1), tmp_path / "s")
    monkeypatch.setattr(distill_mod, "training_pairs", lambda c: pytest.fail("trained again"))
    assert distill(_config(epochs=1), out) == out
    with pytest.raises(ValueError, match=r"another configuration \(epochs: 1 there, 3 now\)"):
        distill(_config(epochs=3), out)


def test_validation_selects_an_epoch_by_train_collection_map(tmp_path: Path) -> None:
    # a tiny random student: validation encodes the 990 training queries after each epoch
    config = replace(_config(epochs=2), student=str(tiny_bert(tmp_path / "tiny")))
    out = distill(config, tmp_path / "v", validate=True)
    info = read_distill_info(out)
    assert info is not None
    scores = [h["val_AP"] for h in info["history"]]
    assert len(scores) == 2 and all(0.0 < s <= 1.0 for s in scores)
    assert info["selected_epoch"] == 1 + scores.index(max(scores))
    assert (out / "checkpoints" / "best" / "model.safetensors").is_file()


def test_evaluators_of_one_teacher_encode_its_passages_once(minilm: DenseEncoder,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The candidates of a settings search validate against the same teacher: its passage
    vectors are encoded once per process, and never reused for other weights."""
    import torch

    from optical_ir.distillation.evaluators import RetrievalMAP
    from optical_ir.retrieval import dense

    encoded: list[str] = []
    real = dense.encode_passages
    monkeypatch.setattr(dense, "encode_passages", lambda e, d, *a: encoded.append(d) or real(e, d, *a))
    monkeypatch.setattr(dense, "_PASSAGES", type(dense._PASSAGES)())
    dataset = "optical-ir/ntrex/sw-en/dev-small"
    ids, vectors = dense.passage_vectors(minilm, dataset)
    again = DenseEncoder("all-MiniLM-L6-v2")  # another object, the same weights
    assert dense.passage_vectors(again, dataset)[1] is vectors and encoded == [dataset]
    validate = RetrievalMAP(again, ["sw"], split="dev-small")
    assert 0 < validate(minilm) <= 1 and encoded == [dataset]  # validation searches the same vectors
    with torch.no_grad():
        dict(again.model.named_parameters())["embeddings.LayerNorm.bias"] += 0.05  # as a student changes
    assert again.fingerprint() != minilm.fingerprint()
    other_ids, other = dense.passage_vectors(again, dataset)
    assert encoded == [dataset, dataset] and other_ids == ids and not np.array_equal(other, vectors)


def test_bad_settings_are_clear_errors() -> None:
    with pytest.raises(ValueError, match="unknown method 'ot'"):
        DistillConfig(languages=("sw",), method="ot")
    with pytest.raises(ValueError, match="'en' is not a source language"):
        DistillConfig(languages=("en",))
    with pytest.raises(ValueError, match="unknown language code 'xx'"):
        DistillConfig(languages=("xx",))
    with pytest.raises(ValueError, match="epochs must be a non-negative integer"):
        DistillConfig(languages=("sw",), epochs=-1)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        DistillConfig(languages=("sw",), batch_size=0)


def test_pooled_mass_trains_and_holdout_validates_on_dev(tmp_path: Path) -> None:
    config = DistillConfig(languages=("sw",), method="optical", teacher="all-MiniLM-L6-v2",
                           student=str(tiny_bert(tmp_path / "tiny")), max_pairs=8, epochs=1, batch_size=4,
                           max_length=32, sinkhorn_iterations=20, cost="sqeuclidean", eps=1.0, mass="pooled",
                           holdout=True)
    out = distill(config, tmp_path / "p", validate=True, save_model=False)
    info = read_distill_info(out)
    assert info is not None and info["finished"] and 0.0 < info["history"][0]["val_AP"] <= 1.0
    assert not (out / "model.safetensors").exists() and not (out / "checkpoints").exists()  # metrics only
    with pytest.raises(ValueError, match="unknown mass"):
        DistillConfig(languages=("sw",), mass="all")


@pytest.mark.java
def test_an_ot_student_searches_with_pyserini(tmp_path: Path) -> None:
    """A student distilled with OT is a model directory Pyserini's FaissSearcher and CLI use."""
    from optical_ir import jvm

    jvm.start()
    from pyserini.search.faiss import FaissSearcher

    from optical_ir.encoders.plugins import OpticalQueryEncoder
    from optical_ir.indexes.faiss import build_faiss_index
    from optical_ir.run_pyserini import run_pyserini
    from optical_ir.trec import read_run, write_topics

    student = distill(_config("optical", epochs=1), tmp_path / "student")
    teacher = DenseEncoder("all-MiniLM-L6-v2")
    index = build_faiss_index("optical-ir/ntrex/sw-en/test", teacher, tmp_path / "faiss")
    hits = FaissSearcher(str(index), OpticalQueryEncoder(DenseEncoder(student))).search(PROBE[0], k=5)
    assert len(hits) == 5 and hits[0].score >= hits[-1].score
    write_topics([("q1", PROBE[0])], tmp_path / "topics.tsv")
    status = run_pyserini("pyserini.search.faiss", ["--index", str(index), "--topics", str(tmp_path / "topics.tsv"),
                                                    "--encoder", str(student), "--output", str(tmp_path / "r.trec"),
                                                    "--hits", "5"])
    assert status == 0 and list(read_run(tmp_path / "r.trec")["q1"]) == [h.docid for h in hits]


def test_train_layers_trains_only_the_top_layers_from_cached_frozen_outputs(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from optical_ir.distillation.features import TokenSide

    enc = DenseEncoder("all-MiniLM-L6-v2")
    side, cached = TokenSide(enc, 32), TokenSide(enc, 32, top_layers=2)
    # more rows than the top layers run at once, of unequal lengths: the rows run by groups
    texts = [*PROBE, "Habari.", "Watu wengi walihudhuria mkutano mkubwa wa kisiasa jana jioni.", "Ndiyo",
             "Serikali imetangaza mpango mpya wa elimu kwa shule za msingi nchini kote."]
    cached.prepare(texts)
    with torch.no_grad():
        full, mask, pooled = side.run(texts)
        top, mask2, pooled2 = cached.run(texts)
        bottom = cached._bottom(enc.tokenize(texts, "query", 32), len(cached.layers()) - 2)
        states = enc.model(**enc.tokenize(texts, "query", 32), output_hidden_states=True).hidden_states[4]
    real = mask.bool() | (mask2.bool())
    assert torch.allclose(full[real], top[real], atol=1e-5) and torch.equal(mask, mask2)
    torch.testing.assert_close(pooled, pooled2, atol=1e-5, rtol=0)
    real_in = enc.tokenize(texts, "query", 32)["attention_mask"].bool()
    torch.testing.assert_close(bottom[real_in], states[real_in], atol=1e-5, rtol=0)  # the trunk: hidden_states[depth]

    config = DistillConfig(**{**_config("optical", epochs=1).to_dict(), "languages": ("sw",), "sources": ("ntrex",),
                              "train_layers": 1})
    out = distill(config, tmp_path / "top1")
    before = load_file(str(Path(enc.path) / "model.safetensors"))
    after = load_file(str(out / "model.safetensors"))
    changed = {k for k in after if k in before and not torch.equal(before[k], after[k])}
    assert changed and all(k.startswith("encoder.layer.5.") for k in changed)  # MiniLM has 6 layers
    with pytest.raises(ValueError, match="train_layers must be positive"):
        DistillConfig(languages=("sw",), train_layers=0)


def test_bf16_runs_the_top_layers_in_bfloat16_near_float32_and_trains(tmp_path: Path) -> None:
    import torch
    from safetensors.torch import load_file

    from optical_ir.distillation.features import TokenSide

    enc = DenseEncoder("all-MiniLM-L6-v2")
    texts = [*PROBE, "Habari.", "Watu wengi walihudhuria mkutano mkubwa wa kisiasa jana jioni.", "Ndiyo"] * 4
    exact, half = TokenSide(enc, 32, top_layers=2), TokenSide(enc, 32, top_layers=2, precision="bf16")
    exact.prepare(texts)
    half.trunk = exact.trunk
    with torch.no_grad():
        a, b = exact.run(texts), half.run(texts)
    assert b.tokens.dtype == torch.float32  # the losses read float32
    assert not torch.equal(a.sentence, b.sentence)  # the layers did run in bfloat16 ...
    cosine = torch.nn.functional.cosine_similarity(a.sentence, b.sentence, dim=-1)
    assert float(cosine.min()) > 0.999  # ... close to float32

    config = DistillConfig(**{**_config("mse", epochs=1).to_dict(), "languages": ("sw",), "sources": ("ntrex",),
                              "train_layers": 1, "precision": "bf16"})
    assert config.to_dict()["precision"] == "bf16" and "precision" not in _config().to_dict()
    out = distill(config, tmp_path / "bf16")
    weights = load_file(str(out / "model.safetensors"))
    assert all(v.dtype == torch.float32 for v in weights.values())  # the weights stay float32
    assert read_distill_info(out)["config"]["precision"] == "bf16"
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        DistillConfig(languages=("sw",), precision="fp16")


def test_bf16_on_a_cpu_without_bfloat16_units_runs_float32_products_of_bfloat16_operands(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from optical_ir.distillation import bfloat16
    from optical_ir.distillation.features import TokenSide

    zen3 = tmp_path / "zen3"
    zen3.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 fma\n")
    zen4 = tmp_path / "zen4"
    zen4.write_text("processor\t: 0\nflags\t\t: avx2 avx512f avx512_bf16\n")
    assert bfloat16.cpu_bf16_units(str(zen3)) == ()
    assert bfloat16.cpu_bf16_units(str(zen4)) == ("avx512_bf16",)
    assert bfloat16.cpu_bf16_units(str(tmp_path / "not-linux")) is None
    for units, emulated in (((), True), (("amx_bf16", "avx512_bf16"), False), (None, False)):  # None: unknown
        monkeypatch.setattr(bfloat16, "cpu_bf16_units", lambda units=units: units)
        assert bfloat16.emulated("cpu") is emulated and not bfloat16.emulated("cuda")

    # a linear layer: the float32 products of bfloat16 operands are torch's bfloat16 kernel's
    # result, up to the order of the float32 sums (at most one bfloat16 unit apart, rarely)
    monkeypatch.setattr(bfloat16, "cpu_bf16_units", lambda: ())
    torch.manual_seed(0)
    x, layer = torch.randn(256, 384, requires_grad=True), torch.nn.Linear(384, 512)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        kernel = layer(x)
        with bfloat16.arithmetic("cpu"):
            products = layer(x)
    assert products.dtype == kernel.dtype == torch.bfloat16
    apart = (products.float() - kernel.float()).abs()
    assert float((apart == 0).float().mean()) > 0.999 and bool((apart <= kernel.float().abs() / 64).all())
    products.float().sum().backward()  # the gradients reach float32 weights and inputs
    assert x.grad is not None and x.grad.dtype == layer.weight.grad.dtype == torch.float32
    with bfloat16.arithmetic("cpu"):  # outside autocast it changes nothing
        assert torch.equal(layer(x), torch.nn.functional.linear(x, layer.weight, layer.bias))

    # the student's layers: float32 products where the CPU has no units, torch's kernels where it has
    enc = DenseEncoder("all-MiniLM-L6-v2")
    texts = [*PROBE, "Habari.", "Watu wengi walihudhuria mkutano mkubwa wa kisiasa jana jioni."] * 4
    exact = TokenSide(enc, 32, top_layers=2)
    exact.prepare(texts)
    pooled = {}
    for units in ((), ("amx_bf16",)):
        monkeypatch.setattr(bfloat16, "cpu_bf16_units", lambda units=units: units)
        half = TokenSide(enc, 32, top_layers=2, precision="bf16")
        half.trunk = exact.trunk
        with torch.no_grad():
            pooled[units] = half.run(texts).sentence
    with torch.no_grad():
        full = exact.run(texts).sentence
    assert not torch.equal(pooled[()], pooled[("amx_bf16",)])  # the two ways did run
    for vectors in pooled.values():
        assert float(torch.nn.functional.cosine_similarity(vectors, full, dim=-1).min()) > 0.999


def test_a_student_for_a_language_no_table_holds_from_your_own_bitext(tmp_path: Path) -> None:
    # Kabyle: a valid ISO 639 code in no data set of the toolkit and without a resource level
    from optical_ir.parallel import read_bitext

    x = ["Azul fell-awen.", "Ad ruḥeɣ ɣer uxxam.", "Tella tegrawla.", "Yella waman.", "Ur ẓriɣ ara.", "Ttxil-k."]
    en = ["Hello to you all.", "I will go home.", "There was a revolution.", "There is water.",
          "I did not see.", "Please."]
    (tmp_path / "kab.txt").write_text("\n".join(x) + "\n")
    (tmp_path / "en.txt").write_text("\n".join(en) + "\n")
    (tmp_path / "kab-en.tsv").write_text("".join(f"{a}\t{b}\n" for a, b in zip(x, en, strict=True)))
    assert read_bitext([tmp_path / "kab.txt", tmp_path / "en.txt"]) == read_bitext(tmp_path / "kab-en.tsv")
    config = DistillConfig(languages=("kab",), bitext=(str(tmp_path / "kab-en.tsv"),), teacher="all-MiniLM-L6-v2",
                           student="all-MiniLM-L6-v2", epochs=1, batch_size=3, max_length=16, lr=1e-4,
                           sinkhorn_iterations=10)
    out = distill(config, tmp_path / "kab")
    info = read_distill_info(out)
    assert info is not None and info["finished"] and info["pairs"] == 6 and info["config"]["bitext"]
    (tmp_path / "short.txt").write_text("one line\n")
    with pytest.raises(Exception, match="must be line-aligned"):
        read_bitext([tmp_path / "kab.txt", tmp_path / "short.txt"])
    (tmp_path / "bad.tsv").write_text("no tab here\n")
    with pytest.raises(Exception, match="line 1 has no tab"):
        read_bitext(tmp_path / "bad.tsv")


def test_a_student_cut_to_fewer_layers_trains_and_saves_untrained_with_zero_epochs(tmp_path: Path) -> None:
    import json
    from dataclasses import replace

    cut = replace(_config("mse", epochs=1), student_layers=3, train_layers=1)
    out = distill(cut, tmp_path / "cut")
    assert json.loads((out / "config.json").read_text())["num_hidden_layers"] == 3
    assert DenseEncoder(out).model.config.num_hidden_layers == 3
    zero = distill(replace(cut, epochs=0), tmp_path / "zero")
    info = read_distill_info(zero)
    assert info is not None and info["finished"] and info["history"] == []
    full = DenseEncoder("all-MiniLM-L6-v2")
    full.model.encoder.layer = full.model.encoder.layer[:3]
    assert np.allclose(DenseEncoder(zero).encode(PROBE, "query"), full.encode(PROBE, "query"), atol=1e-5)
    assert not np.allclose(DenseEncoder(out).encode(PROBE, "query"), full.encode(PROBE, "query"), atol=1e-5)
    with pytest.raises(ValueError, match="has 6 layers"):
        distill(replace(cut, student_layers=9), tmp_path / "too-deep")


def test_a_student_of_another_width_learns_through_a_projection(tmp_path: Path) -> None:
    """A tiny random 32-d BERT (what XLM-R is to a 384-d teacher) under all-MiniLM-L6-v2."""
    from dataclasses import replace

    from transformers import AutoTokenizer, BertConfig, BertModel

    from optical_ir.encoders.embedded import resolve

    tiny = tmp_path / "tiny-bert"
    BertModel(BertConfig(vocab_size=30522, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64)).save_pretrained(tiny)
    AutoTokenizer.from_pretrained(resolve("all-MiniLM-L6-v2")).save_pretrained(tiny)
    config = replace(_config("optical", epochs=1), student=str(tiny), student_pooling="mean", train_layers=1)
    with pytest.raises(ValueError, match="pass --projection"):
        distill(config, tmp_path / "no-projection")
    out = distill(replace(config, projection=True), tmp_path / "projected")
    student = DenseEncoder(out)
    assert student.dim == 384 and student.config.projection == 384 and student.model.config.hidden_size == 32
    again = DenseEncoder(out)  # the projection's weights are saved with the student
    assert np.allclose(student.encode(PROBE, "query"), again.encode(PROBE, "query"))
    (out / "optical_ir-projection.safetensors").unlink()
    with pytest.raises(ValueError, match="optical_ir-projection.safetensors is missing"):
        DenseEncoder(out)
