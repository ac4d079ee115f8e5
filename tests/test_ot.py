"""The OT module: marginals, loss, gradients, agreement with POT, degenerate inputs."""

from __future__ import annotations

import numpy as np
import ot as pot
import pytest
import torch

from optical_ir.ot import cost_matrix, marginals, ot_loss, sinkhorn_log


def _batch(seed: int = 0, B: int = 4, n: int = 7, m: int = 9, d: int = 16) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, n, d, generator=g, dtype=torch.float64)
    y = torch.randn(B, m, d, generator=g, dtype=torch.float64)
    xm = torch.ones(B, n)
    ym = torch.ones(B, m)
    for i in range(B):  # ragged pairs: padding at the end, and a masked first ([CLS]-like) token
        xm[i, n - i :] = 0
        ym[i, m - 2 * i :] = 0
        xm[i, 0] = 0
    return x, y, xm, ym


@pytest.mark.parametrize("metric", ["cosine", "sqeuclidean"])
def test_plan_marginals_within_1e_4(metric: str) -> None:
    x, y, xm, ym = _batch()
    cost = cost_matrix(x, y, metric)  # type: ignore[arg-type]
    a, b = marginals(xm), marginals(ym)
    eps = 0.05 * float(cost.max())
    plan = sinkhorn_log(cost, a, b, eps=eps, n_iter=300)
    assert torch.allclose(plan.sum(2), a.to(plan.dtype), atol=1e-4)
    assert torch.allclose(plan.sum(1), b.to(plan.dtype), atol=1e-4)
    assert (plan[xm == 0] == 0).all() and (plan.transpose(1, 2)[ym == 0] == 0).all()  # no mass on padding


def test_marginals_are_uniform_over_real_tokens_or_weighted() -> None:
    mask = torch.tensor([[0, 1, 1, 1, 0], [0, 0, 0, 0, 0]])
    a = marginals(mask)
    assert torch.allclose(a[0], torch.tensor([0, 1 / 3, 1 / 3, 1 / 3, 0]))
    assert (a[1] == 0).all()
    w = marginals(mask, torch.tensor([[9.0, 1.0, 2.0, 1.0, 9.0], [1.0] * 5]))
    assert torch.allclose(w[0], torch.tensor([0, 0.25, 0.5, 0.25, 0]))
    with pytest.raises(ValueError, match="non-negative"):
        marginals(mask, -torch.ones(2, 5))


def test_agrees_with_pot_sinkhorn_log() -> None:
    x, y, xm, ym = _batch(seed=3)
    eps = 0.1
    result = ot_loss(x, y, xm, ym, eps=eps, n_iter=500)
    for i in range(x.shape[0]):
        rx, ry = xm[i].bool(), ym[i].bool()
        M = cost_matrix(x[i : i + 1, rx], y[i : i + 1, ry])[0].numpy()
        a = np.full(int(rx.sum()), 1 / int(rx.sum()))
        b = np.full(int(ry.sum()), 1 / int(ry.sum()))
        plan = pot.sinkhorn(a, b, M, eps, method="sinkhorn_log", numItermax=5000, stopThr=1e-12)
        ours = result.plan[i][rx][:, ry].numpy()
        np.testing.assert_allclose(ours, plan, atol=1e-6)
        value = pot.sinkhorn2(a, b, M, eps, method="sinkhorn_log", numItermax=5000, stopThr=1e-12)
        assert float(result.loss[i]) == pytest.approx(float(value), abs=1e-6)


def test_loss_nonnegative_with_finite_gradients() -> None:
    x, y, xm, ym = _batch(seed=1)
    for detach in (True, False):
        xs = x.clone().requires_grad_(True)
        res = ot_loss(xs, y, xm, ym, eps=0.05, n_iter=30, detach_plan=detach)
        assert (res.loss >= 0).all()
        res.loss.mean().backward()
        assert xs.grad is not None and torch.isfinite(xs.grad).all() and xs.grad.abs().sum() > 0


def test_identical_inputs_give_a_near_zero_loss() -> None:
    x, _, xm, _ = _batch(seed=2, n=8, m=8)
    res = ot_loss(x, x.clone(), xm, xm.clone(), eps=0.005, n_iter=300)
    assert float(res.loss.max()) < 1e-3
    # and different inputs do not
    assert float(ot_loss(x, torch.flip(x, dims=[2]), xm, xm, eps=0.005, n_iter=300).loss.min()) > 0.1


def test_no_nan_at_tiny_eps_or_with_an_all_padding_row() -> None:
    x, y, xm, ym = _batch(seed=4)
    xm[2] = 0  # a row with no real token at all
    xs = x.float().requires_grad_(True)
    res = ot_loss(xs, y.float(), xm, ym, eps=1e-4, n_iter=100, detach_plan=False)
    assert torch.isfinite(res.loss).all() and torch.isfinite(res.plan).all()
    assert float(res.loss[2].detach()) == 0.0 and (res.plan[2] == 0).all()
    res.loss.sum().backward()
    assert torch.isfinite(xs.grad).all()


def test_pooled_mass_with_sqeuclidean_bounds_the_mean_pooled_distance() -> None:
    # uniform mass on every pooled token: mean(x) - mean(y) = sum_ij T_ij (x_i - y_j), so by Jensen
    # <T, C> >= ||mean(x) - mean(y)||^2 for any feasible plan T (the reason for mass="pooled")
    x, y, xm, ym = _batch(3)
    xm[:, 0] = 1  # every real token carries mass (no masked [CLS])
    res = ot_loss(x, y, xm, ym, eps=0.5, n_iter=300, metric="sqeuclidean")
    mx = (x * xm.unsqueeze(-1)).sum(1) / xm.sum(1, keepdim=True)
    my = (y * ym.unsqueeze(-1)).sum(1) / ym.sum(1, keepdim=True)
    gap = ((mx - my) ** 2).sum(-1)
    assert torch.all(res.loss >= gap - 1e-6)
    assert torch.all(res.loss > 0)


def test_bad_arguments() -> None:
    x, y, xm, ym = _batch()
    with pytest.raises(ValueError, match="unknown cost"):
        cost_matrix(x, y, "manhattan")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="eps must be positive"):
        sinkhorn_log(cost_matrix(x, y), marginals(xm), marginals(ym), eps=0.0)
    with pytest.raises(ValueError, match=r"expected x \(B, n, d\)"):
        cost_matrix(x[0], y)
