"""The distillation losses as objects: each tested on random tensors, the registry, composition."""

from __future__ import annotations

import pytest
import torch

from optical_ir.distillation import LOSSES, DistillConfig, build_loss
from optical_ir.distillation.losses import Batch, Features, Weighted
from optical_ir.distillation.losses.fixed_plan import position_plan, uniform_plan
from optical_ir.distillation.losses.sentence import SentenceTerm
from optical_ir.ot import cost_matrix, ot_loss


def _features(b: int = 3, n: int = 5, h: int = 8, seed: int = 0, pad: bool = True) -> Features:
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randn(b, n, h, generator=g)
    mask = torch.ones(b, n, dtype=torch.long)
    if pad:
        mask[0, -2:] = 0  # padding in the first row
    sentence = torch.nn.functional.normalize(torch.randn(b, h, generator=g), dim=-1)
    return Features(tokens.requires_grad_(True), mask, sentence.requires_grad_(True))


def _batch(seed: int = 0) -> Batch:
    g = torch.Generator().manual_seed(seed + 3)
    passages = torch.nn.functional.normalize(torch.randn(2, 8, generator=g), dim=-1)
    return Batch(_features(seed=seed), _features(n=6, seed=seed + 1), _features(seed=seed + 2), passages,
                 torch.tensor([0, 1, 0]))  # rows 0 and 2 share a passage


def _config(method: str, **changes: object) -> DistillConfig:
    return DistillConfig(languages=("sw",), method=method, **changes)  # type: ignore[arg-type]


def test_the_registry_holds_the_methods_with_their_conditions() -> None:
    assert {name: cls.condition for name, cls in LOSSES.items()} == {
        "optical": "optical", "mse": "msekd", "token-uniform": "tokkd", "token-position": "tokkd-position",
        "infonce": "infonce"}
    assert {n for n, c in LOSSES.items() if c.ablation_of == "optical"} == {"token-uniform", "token-position"}
    assert [n for n, c in LOSSES.items() if c.student_reads_english] == ["mse"]
    with pytest.raises(ValueError, match="unknown method 'ot'"):
        _config("ot")


@pytest.mark.parametrize("method", sorted(LOSSES))
def test_each_loss_is_finite_non_negative_and_differentiable(method: str) -> None:
    batch = _batch()
    out = build_loss(_config(method))(batch)
    assert out.loss.dim() == 0 and torch.isfinite(out.loss) and out.loss >= 0
    out.loss.backward()
    grads = [batch.student.tokens.grad, batch.student.sentence.grad]
    assert any(g is not None and torch.isfinite(g).all() and g.abs().sum() > 0 for g in grads)
    assert out.parts and all(v >= 0 for v in out.parts.values())


def test_the_optical_loss_is_ot_loss_of_the_token_vectors() -> None:
    batch = _batch()
    loss = build_loss(_config("optical", eps=0.1, sinkhorn_iterations=30, cost="sqeuclidean"))(batch).loss
    s, t = batch.student, batch.teacher
    want = ot_loss(s.tokens, t.tokens, s.mask, t.mask, eps=0.1, n_iter=30, metric="sqeuclidean").loss.mean()
    torch.testing.assert_close(loss, want)


def test_identical_sides_cost_nothing() -> None:
    f = _features(pad=False)
    same = Batch(f, f, f)
    assert float(build_loss(_config("mse"))(same).loss.detach()) == pytest.approx(0.0, abs=1e-6)
    assert float(build_loss(_config("optical", eps=0.01, sinkhorn_iterations=200))(same).loss.detach()) < 0.05
    assert float(build_loss(_config("token-position"))(same).loss.detach()) < 0.05  # the diagonal, nearly


def test_fixed_plans_have_the_marginals_and_ignore_padding() -> None:
    xm = torch.tensor([[1, 1, 1, 0], [1, 1, 1, 1]])
    ym = torch.tensor([[1, 1, 0], [1, 1, 1]])
    for plan in (uniform_plan(xm, ym), position_plan(xm, ym)):
        torch.testing.assert_close(plan.sum(2)[0, :3], torch.full((3,), 1 / 3))  # rows: a, uniform on real tokens
        assert plan[0, 3].sum() == 0 and plan[0, :, 2].sum() == 0  # no mass on padding
        torch.testing.assert_close(plan.sum(dim=(1, 2)), torch.ones(2))
    torch.testing.assert_close(uniform_plan(xm, ym).sum(1)[1], torch.full((3,), 1 / 3))  # columns: b
    pos = position_plan(torch.ones(1, 3, dtype=torch.long), torch.ones(1, 3, dtype=torch.long))
    assert torch.equal(pos[0].argmax(1), torch.tensor([0, 1, 2]))  # same relative position


def test_the_fixed_plan_loss_is_plan_times_cost() -> None:
    batch = _batch()
    s, t = batch.student, batch.teacher
    got = build_loss(_config("token-uniform"))(batch).loss
    want = (uniform_plan(s.mask, t.mask) * cost_matrix(s.tokens, t.tokens)).sum(dim=(1, 2)).mean()
    torch.testing.assert_close(got, want)


def test_the_sentence_term_is_composition_for_token_losses_only() -> None:
    batch = _batch()
    composed = build_loss(_config("optical", sentence_weight=0.5))
    assert isinstance(composed, Weighted)
    plain = build_loss(_config("optical"))(batch)
    term = SentenceTerm()(batch)
    out = composed(batch)
    torch.testing.assert_close(out.loss, plain.loss + 0.5 * term.loss)
    assert set(out.parts) == {"token", "sentence"}
    assert not isinstance(build_loss(_config("mse", sentence_weight=0.5)), Weighted)  # already sentence-level
    mse = build_loss(_config("mse"))(batch).loss
    s, t, se = batch.student.sentence, batch.teacher.sentence, batch.student_english.sentence  # type: ignore[union-attr]
    torch.testing.assert_close(mse, ((s - t) ** 2).sum(-1).mean() + ((se - t) ** 2).sum(-1).mean())


def test_infonce_is_cross_entropy_over_the_batch_passages() -> None:
    batch = _batch()
    got = build_loss(_config("infonce", temperature=0.1))(batch).loss
    logits = batch.student.sentence @ batch.passages.T / 0.1  # type: ignore[union-attr]
    want = -torch.log_softmax(logits, dim=1)[torch.arange(3), batch.positive].mean()  # type: ignore[index]
    torch.testing.assert_close(got, want)
    # a query on its own passage, far from the others: nearly no loss at a low temperature
    p = torch.eye(3, 8)
    exact = Batch(Features(torch.zeros(3, 2, 8), torch.ones(3, 2), p), batch.teacher, None, p, torch.arange(3))
    assert float(build_loss(_config("infonce", temperature=0.01))(exact).loss) < 1e-6


def test_the_retrieval_term_composes_with_any_distillation_loss() -> None:
    batch = _batch()
    for method in ("optical", "mse", "token-uniform"):
        composed = build_loss(_config(method, retrieval_weight=0.5))
        assert isinstance(composed, Weighted)
        out = composed(batch)
        alone = build_loss(_config(method))(batch).loss
        nce = build_loss(_config("infonce"))(batch).loss
        torch.testing.assert_close(out.loss, alone + 0.5 * nce)
        assert "nce" in out.parts
    assert not isinstance(build_loss(_config("infonce", retrieval_weight=1.0)), Weighted)
    with pytest.raises(ValueError, match="sources must be ntrex"):
        _config("infonce", sources=("tatoeba",))
