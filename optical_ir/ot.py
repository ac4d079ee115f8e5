r"""Optimal transport between token sets: the cross-lingual token alignment of OPTICAL.

For a sentence pair, let :math:`x_1, \dots, x_n` be the student's token vectors of the
sentence in language X and :math:`y_1, \dots, y_m` the teacher's token vectors of its
English translation. With a cost matrix :math:`C_{ij} = c(x_i, y_j)` and marginals
:math:`a \in \Delta_n`, :math:`b \in \Delta_m`, the entropic transport plan is

.. math::

    T^\star = \mathop{\arg\min}_{T \in U(a, b)} \langle T, C \rangle_F - \varepsilon H(T),
    \qquad U(a, b) = \{T \ge 0 : T \mathbf{1}_m = a,\ T^\top \mathbf{1}_n = b\},

with :math:`H(T) = -\sum_{ij} T_{ij} (\log T_{ij} - 1)`, and the OPTICAL loss is the
Frobenius inner product of plan and cost,

.. math:: \mathcal{L}_{\mathrm{OT}}(x, y) = \langle T^\star, C \rangle_F = \sum_{ij} T^\star_{ij} C_{ij}.

:math:`T^\star` is a soft token alignment. It is computed by Sinkhorn's algorithm in the
log domain (stable for small :math:`\varepsilon`), for a whole batch of padded pairs at once:

.. math::

    f \leftarrow \varepsilon \log a - \varepsilon \operatorname{LSE}_j\big((g_j - C_{ij}) / \varepsilon\big),\quad
    g \leftarrow \varepsilon \log b - \varepsilon \operatorname{LSE}_i\big((f_i - C_{ij}) / \varepsilon\big),\quad
    T_{ij} = \exp\big((f_i + g_j - C_{ij}) / \varepsilon\big).

Choices (the paper's full text is not available offline; each is an option):

* cost: cosine distance :math:`1 - \cos(x_i, y_j)` (default) or squared Euclidean distance;
* marginals: uniform over real tokens — special and padding tokens carry no mass —
  (default), or given weights (e.g. IDF);
* gradient: the plan is held constant (``detach_plan=True``, default; by the envelope
  theorem this is the gradient of the regularised OT cost up to the entropy term) or
  differentiated through the Sinkhorn iterations.

POT (``ot.sinkhorn(..., method="sinkhorn_log")``) is the reference implementation; the tests
compare against it, and ``benchmarks/sinkhorn.py`` compares speed with a per-pair POT loop.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import torch

Metric = Literal["cosine", "sqeuclidean"]
METRICS = ("cosine", "sqeuclidean")


class OTResult(NamedTuple):
    loss: torch.Tensor
    r"""``(B,)`` — :math:`\langle T, C \rangle_F` per pair (0 for a pair with an empty side)."""
    plan: torch.Tensor
    r"""``(B, n, m)`` — the transport plan, zero on padding."""
    cost: torch.Tensor
    r"""``(B, n, m)`` — the cost matrix."""


def cost_matrix(x: torch.Tensor, y: torch.Tensor, metric: Metric = "cosine") -> torch.Tensor:
    r"""Pairwise costs ``(B, n, m)`` between token vectors ``x`` ``(B, n, d)`` and ``y`` ``(B, m, d)``.

    ``cosine``: :math:`1 - \langle x_i, y_j \rangle / (\lVert x_i \rVert \lVert y_j \rVert)`, in [0, 2].
    ``sqeuclidean``: :math:`\lVert x_i - y_j \rVert^2`, computed as
    :math:`\lVert x_i \rVert^2 + \lVert y_j \rVert^2 - 2 \langle x_i, y_j \rangle`, clamped at 0.
    """
    if x.dim() != 3 or y.dim() != 3 or x.shape[0] != y.shape[0] or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"expected x (B, n, d) and y (B, m, d); got {tuple(x.shape)} and {tuple(y.shape)}")
    if metric == "cosine":
        xn = torch.nn.functional.normalize(x, dim=-1)
        yn = torch.nn.functional.normalize(y, dim=-1)
        return 1.0 - xn @ yn.transpose(1, 2)
    if metric == "sqeuclidean":
        sq = (x * x).sum(-1, keepdim=True) + (y * y).sum(-1).unsqueeze(1) - 2.0 * x @ y.transpose(1, 2)
        return sq.clamp_min(0.0)
    raise ValueError(f"unknown cost {metric!r}; choose one of {', '.join(METRICS)}")


def marginals(mask: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
    r"""Token masses ``(B, n)`` summing to 1 over the real tokens of each row.

    Parameters
    ----------
    mask
        ``(B, n)``, 1 for a real token, 0 for special and padding tokens.
    weights
        Optional non-negative ``(B, n)`` weights (uniform when ``None``); masked out where
        ``mask`` is 0 and normalised. A row without real tokens gets all zeros.
    """
    w = mask.to(torch.float32) if weights is None else weights.to(torch.float32) * mask.to(torch.float32)
    if (w < 0).any():
        raise ValueError("marginal weights must be non-negative")
    total = w.sum(-1, keepdim=True)
    return torch.where(total > 0, w / total.clamp_min(1e-30), torch.zeros_like(w))


def sinkhorn_log(cost: torch.Tensor, a: torch.Tensor, b: torch.Tensor, eps: float = 0.05,
                 n_iter: int = 50) -> torch.Tensor:
    r"""Entropic OT plans ``(B, n, m)`` for a batch, by log-domain Sinkhorn.

    Entries with zero mass in ``a`` or ``b`` (padding, special tokens) get no transport; a
    pair whose ``a`` or ``b`` is all zeros gets the zero plan. Computed in float32 or wider.

    Parameters
    ----------
    cost
        ``(B, n, m)`` cost matrices.
    a, b
        ``(B, n)`` and ``(B, m)`` marginals, each row summing to 1 (or all zeros).
    eps
        Entropic regularisation :math:`\varepsilon > 0`, in units of the cost.
    n_iter
        Sinkhorn iterations (each updates both potentials).
    """
    if eps <= 0:
        raise ValueError(f"eps must be positive, not {eps}")
    dtype = torch.promote_types(cost.dtype, torch.float32)
    C = cost.to(dtype)
    a, b = a.to(dtype), b.to(dtype)
    neg = torch.finfo(dtype).min / 4  # log of zero mass, finite so that no inf - inf appears
    empty = (a.sum(-1) <= 0) | (b.sum(-1) <= 0)  # a pair with no real token on one side: no transport
    # an empty pair gets no mass on either side, so that its potentials stay finite
    log_a = torch.where((a > 0) & ~empty[:, None], a.clamp_min(1e-38).log(), torch.full_like(a, neg))
    log_b = torch.where((b > 0) & ~empty[:, None], b.clamp_min(1e-38).log(), torch.full_like(b, neg))
    valid = (a > 0).unsqueeze(2) & (b > 0).unsqueeze(1) & ~empty[:, None, None]
    # K = -C/ε on valid cells, a large finite negative number elsewhere (no mass moves there);
    # built once, so that each half-iteration is one broadcast add and one logsumexp (on a GPU
    # these small problems are bound by kernel launches, not arithmetic)
    K = torch.where(valid, -C / eps, torch.full_like(C, neg))
    f = torch.zeros_like(a)
    g = torch.zeros_like(b)
    row_ok = (a > 0) & ~empty[:, None]
    col_ok = (b > 0) & ~empty[:, None]
    # rows and columns without mass keep finite potentials (log 0 is ``neg``, and so is every
    # cell of theirs), and the plan below is zero there whatever their value
    for _ in range(n_iter):
        f = log_a - torch.logsumexp(g.unsqueeze(1) + K, dim=2)
        g = log_b - torch.logsumexp(f.unsqueeze(2) + K, dim=1)
    f = torch.where(row_ok, f, torch.zeros_like(f))
    g = torch.where(col_ok, g, torch.zeros_like(g))
    arg = torch.where(valid, f.unsqueeze(2) + g.unsqueeze(1) + K, torch.full_like(K, neg))
    return torch.exp(arg)


def ot_loss(x: torch.Tensor, y: torch.Tensor, x_mask: torch.Tensor, y_mask: torch.Tensor, *,
            eps: float = 0.05, n_iter: int = 50, metric: Metric = "cosine", detach_plan: bool = True,
            x_weights: torch.Tensor | None = None, y_weights: torch.Tensor | None = None) -> OTResult:
    r"""OPTICAL's token-alignment loss :math:`\langle T^\star, C \rangle_F` for a batch of pairs.

    Parameters
    ----------
    x, y
        Student token vectors ``(B, n, d)`` and teacher token vectors ``(B, m, d)``.
    x_mask, y_mask
        ``(B, n)``, ``(B, m)``: 1 for the real tokens that carry mass (not special, not padding).
    eps, n_iter
        Sinkhorn's :math:`\varepsilon` and iterations.
    metric
        ``cosine`` (default) or ``sqeuclidean``.
    detach_plan
        Hold the plan constant in the backward pass (default) instead of backpropagating
        through the iterations.
    x_weights, y_weights
        Optional token weights for non-uniform marginals.

    Returns
    -------
    OTResult
        ``loss`` ``(B,)`` (average it for a batch loss), ``plan`` and ``cost``.
    """
    cost = cost_matrix(x, y, metric)
    a = marginals(x_mask, x_weights)
    b = marginals(y_mask, y_weights)
    if detach_plan:
        with torch.no_grad():
            plan = sinkhorn_log(cost.detach(), a, b, eps, n_iter)
    else:
        plan = sinkhorn_log(cost, a, b, eps, n_iter)
    loss = (plan.to(cost.dtype) * cost).sum(dim=(1, 2))
    return OTResult(loss, plan, cost)
