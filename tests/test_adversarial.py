"""Adversarial training, batching policies and data-space augmentation, each on random inputs;
then a tiny real training run of every new option."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch
from scipy.stats import binomtest

from optical_ir.distillation import DistillConfig, distill, read_distill_info
from optical_ir.distillation.adversaries import ADVERSARIES, build_adversary
from optical_ir.distillation.losses import LossOutput
from optical_ir.distillation.policies import POLICIES, Sides, build_policy
from optical_ir.errors import ConfigError

from .conftest import needs_mirror


def _problem(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, torch.nn.Linear, torch.Tensor]:
    """Input vectors (with padding), a linear 'encoder' and a target: the loss is the squared
    distance of the mean-pooled output from the target."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 6, 8, generator=g) * 3
    mask = torch.ones(4, 6, dtype=torch.long)
    mask[0, -2:] = 0
    mask[3, -3:] = 0
    torch.manual_seed(seed)
    layer = torch.nn.Linear(8, 8)
    target = torch.randn(4, 8, generator=g)
    return x, mask, layer, target


def _objective(x: torch.Tensor, mask: torch.Tensor, layer: torch.nn.Linear, target: torch.Tensor):  # noqa: ANN202
    m = mask.unsqueeze(-1).float()

    def objective(delta: torch.Tensor | None) -> LossOutput:
        h = layer(x if delta is None else x + delta)
        pooled = (h * m).sum(1) / m.sum(1)
        loss = ((pooled - target) ** 2).sum(-1).mean()
        return LossOutput(loss, {"mse": float(loss.detach())})

    return objective


@pytest.mark.parametrize("norm", ["l2", "linf"])
@pytest.mark.parametrize("name", sorted(ADVERSARIES))
def test_the_adversarial_step_increases_the_loss_within_the_ball(name: str, norm: str) -> None:
    x, mask, layer, target = _problem()
    objective = _objective(x, mask, layer, target)
    config = DistillConfig(languages=("sw",), adversary=name, adv_norm=norm, adv_radius=0.1, adv_steps=3)
    adversary = build_adversary(config)
    assert adversary is not None and adversary.name == name
    delta = adversary.attack(objective, x, mask)
    radius = 0.1 * adversary.scale(x, mask)
    assert (adversary.size(delta) <= radius * (1 + 1e-5)).all()  # the ball holds
    assert (adversary.size(delta) > 0.5 * radius).all()  # and the ascent used it
    assert delta[0, -2:].abs().sum() == 0 and delta[3, -3:].abs().sum() == 0  # padding untouched
    clean = float(objective(None).loss.detach())
    attacked = float(objective(delta).loss.detach())
    assert attacked > clean  # the perturbation increases the loss
    rand = adversary.random_start(x, adversary.scale(x, mask), mask)
    assert attacked > float(objective(rand).loss.detach())  # more than a random point of the ball
    out = adversary(objective, x, mask)  # clean + w · adversarial, differentiable in the parameters
    assert out.parts["adv"] > out.parts["mse"] and out.parts["adv_gain"] > 0
    out.loss.backward()
    assert layer.weight.grad is not None and torch.isfinite(layer.weight.grad).all()


def test_the_ball_is_relative_to_the_input_and_bad_settings_are_refused() -> None:
    x, mask, layer, target = _problem(1)
    objective = _objective(x, mask, layer, target)
    small = build_adversary(DistillConfig(languages=("sw",), adversary="fgsm", adv_radius=0.05))
    big = build_adversary(DistillConfig(languages=("sw",), adversary="fgsm", adv_radius=0.05))
    assert small is not None and big is not None
    d1, d10 = small.attack(objective, x, mask), big.attack(_objective(10 * x, mask, layer, target), 10 * x, mask)
    torch.testing.assert_close(big.size(d10), 10 * small.size(d1))  # radius scales with the input
    assert build_adversary(DistillConfig(languages=("sw",))) is None
    with pytest.raises(ConfigError, match="unknown adversary 'gan'"):
        DistillConfig(languages=("sw",), adversary="gan")
    with pytest.raises(ConfigError, match="adv_steps must be a positive integer"):
        DistillConfig(languages=("sw",), adversary="pgd", adv_steps=0)


@pytest.mark.parametrize("alpha", [0.5, 0.2])
def test_hybrid_batches_have_the_configured_monolingual_share(alpha: float) -> None:
    policy = build_policy(DistillConfig(languages=("sw",), batching="hybrid", alpha=alpha))
    n = 4000
    sides = [policy.sides(random.Random(f"13:batch:{i // 100}:{i % 100}"), retrieval=True) for i in range(n)]
    mono = sum(s.monolingual for s in sides)
    assert binomtest(mono, n, alpha).pvalue > 0.001  # the share is α
    counts = {s: sides.count(s) for s in set(sides)}
    assert set(counts) == {Sides("x", "x"), Sides("en", "en"), Sides("x", "en"), Sides("en", "x")}
    assert binomtest(counts[Sides("x", "x")], mono, 0.5).pvalue > 0.001  # the language, uniform
    assert binomtest(counts[Sides("x", "en")], n - mono, 0.5).pvalue > 0.001  # the direction, uniform
    # without a retrieval term a monolingual batch is an English pair
    plain = [policy.sides(random.Random(i), retrieval=False) for i in range(n)]
    assert set(plain) == {Sides("en", "en"), Sides("x", "en")}
    assert binomtest(plain.count(Sides("en", "en")), n, alpha).pvalue > 0.001
    again = [policy.sides(random.Random(f"13:batch:{i // 100}:{i % 100}"), retrieval=True) for i in range(n)]
    assert again == sides  # seeded by the step alone


def test_cross_lingual_and_monolingual_policies() -> None:
    assert set(POLICIES) == {"cross-lingual", "hybrid", "monolingual"}
    cross = build_policy(DistillConfig(languages=("sw",)))  # the default: today's distillation
    mono = build_policy(DistillConfig(languages=("sw",), batching="monolingual"))
    rngs = [random.Random(i) for i in range(200)]
    assert {cross.sides(r, retrieval=False) for r in rngs} == {Sides("x", "en")}
    assert {cross.sides(r, retrieval=True) for r in rngs} == {Sides("x", "en"), Sides("en", "x")}
    assert {mono.sides(r, retrieval=True) for r in rngs} == {Sides("x", "x"), Sides("en", "en")}
    with pytest.raises(ConfigError, match=r"alpha are shares"):
        DistillConfig(languages=("sw",), batching="hybrid", alpha=1.5)


def test_augmentation_perturbs_a_seeded_share_per_epoch() -> None:
    from optical_ir.distillation.augment import Augmenter

    texts = [f"habari za asubuhi rafiki yangu mpendwa namba {i}" for i in range(400)]
    aug = Augmenter(["typo", "diacritics"], rate=0.4, share=0.5, seed=13, sentences={"sw": texts})
    assert aug.skipped == {"sw": ["diacritics"]}  # no marks to drop in these sentences
    rows = [("sw", t) for t in texts]
    first, again, second = aug.epoch(0, rows), aug.epoch(0, rows), aug.epoch(1, rows)
    assert first == again and first != second
    changed = sum(a != b for a, b in zip(first, texts, strict=True))
    assert binomtest(changed, len(texts), 0.5).pvalue > 0.001
    with pytest.raises(ConfigError, match="none of the augment kinds diacritics applies to sw"):
        Augmenter(["diacritics"], 0.2, 0.5, 13, {"sw": texts})
    with pytest.raises(ConfigError, match="unknown augment kind"):
        DistillConfig(languages=("sw",), augment=("gibberish",))


def _tiny(**changes: object) -> DistillConfig:
    base = dict(languages=("sw",), teacher="all-MiniLM-L6-v2", student="all-MiniLM-L6-v2", max_pairs=12, epochs=1,
                batch_size=4, max_length=32, lr=1e-4, sinkhorn_iterations=20)
    return DistillConfig(**{**base, **changes})  # type: ignore[arg-type]


@needs_mirror
@pytest.mark.parametrize("name,changes", [
    ("optical-fgsm-full", {"adversary": "fgsm"}),  # word-embedding perturbation (all layers trained)
    ("mse-freelb-top", {"method": "mse", "adversary": "freelb", "adv_steps": 2, "adv_norm": "linf",
                        "train_layers": 1}),  # perturbation of the frozen layers' output
    ("optical-augment", {"augment": ("typo", "code-switch"), "train_layers": 1}),
    ("infonce-hybrid", {"method": "infonce", "batching": "hybrid", "train_layers": 1}),
    ("optical-hybrid-nce", {"retrieval_weight": 1.0, "batching": "hybrid", "adversary": "pgd", "adv_steps": 1}),
])
def test_each_option_trains_a_loadable_student(name: str, changes: dict[str, object], tmp_path: Path) -> None:
    from optical_ir.encoders import DenseEncoder

    config = _tiny(**changes)
    out = distill(config, tmp_path / name)
    info = read_distill_info(out)
    assert info is not None and info["finished"] and info["pairs"] == 12
    assert np.isfinite(info["history"][0]["loss"]) and info["history"][0]["pairs_per_second"] > 0
    assert ("monolingual_batches" in info["history"][0]) == (config.batching == "hybrid")
    probe = ["Rais wa Kenya alizungumza jijini Nairobi."]
    before = DenseEncoder("all-MiniLM-L6-v2").encode(probe, "query")
    assert not np.allclose(DenseEncoder(out).encode(probe, "query"), before)


@needs_mirror
def test_retrieval_rows_are_ntrex_train_sentences_with_their_passages() -> None:
    from optical_ir.collections import ntrex
    from optical_ir.distillation.data import passage_texts, training_pairs

    rows = training_pairs(DistillConfig(languages=("sw",), method="infonce"))
    held = training_pairs(DistillConfig(languages=("sw",), method="infonce", holdout=True))
    docs, _ = ntrex.passages("train")
    english = {d.doc_id: d.text for d in docs}
    texts = passage_texts(("sw",))
    assert len(held) < len(rows) and all(r.passage in english for r in rows)
    dev = ntrex.dev_articles()
    assert not any(r.passage.rsplit("_p", 1)[0] in dev for r in held)  # type: ignore[union-attr]
    for r in rows[:50]:
        assert r.english in texts[(r.passage, "en")] and r.source in texts[(r.passage, "sw")]
        assert texts[(r.passage, "en")] == " ".join(english[r.passage].split())  # the collection's passage


def test_the_unperturbed_inputs_give_the_encoder_output() -> None:
    from optical_ir.distillation.features import TokenSide
    from optical_ir.encoders import DenseEncoder

    enc = DenseEncoder("all-MiniLM-L6-v2")
    texts = ["Rais wa Kenya alizungumza jijini Nairobi.", "Mvua kubwa ilinyesha."]
    for side in (TokenSide(enc, 32), TokenSide(enc, 32, top_layers=2)):
        side.prepare(texts)
        with torch.no_grad():
            inputs = side.inputs(texts)
            plain, zero = side.encode(inputs), side.encode(inputs, torch.zeros_like(inputs.vectors))
        torch.testing.assert_close(plain.sentence, zero.sentence, atol=1e-5, rtol=0)
        assert inputs.trunk == bool(side.top_layers)


def test_stored_features_are_computed_once_and_recomputed_when_damaged(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from optical_ir.distillation.features import stored

    monkeypatch.setenv("OPTICAL_IR_CACHE", str(tmp_path))
    calls = []

    def compute() -> dict[str, torch.Tensor]:
        calls.append(1)
        return {"a": torch.arange(3.0)}

    first = stored("trunk", ["model", 2, "a"], compute)
    again = stored("trunk", ["model", 2, "a"], compute)
    assert len(calls) == 1 and torch.equal(first["a"], again["a"])
    stored("trunk", ["model", 2, "b"], compute)  # another key: computed
    assert len(calls) == 2
    for entry in (tmp_path / "features").iterdir():
        entry.write_bytes(b"not a tensor file")  # damaged entries are computed again, then kept
    assert torch.equal(stored("trunk", ["model", 2, "a"], compute)["a"], first["a"]) and len(calls) == 3
    stored("trunk", ["model", 2, "a"], compute)
    assert len(calls) == 3
