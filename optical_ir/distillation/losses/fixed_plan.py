r"""Token-level distillation with a fixed alignment instead of optimal transport (OPTICAL's ablation).

The same :math:`\langle T, C \rangle_F` as :mod:`.optical`, with a plan that does not look at
the vectors:

``token-uniform``
    :math:`T = a b^\top` (every source token spreads its mass over all target tokens);
``token-position``
    each source token sends its mass to the target tokens at the same relative position,
    :math:`T_{ij} \propto a_i \exp(-(r_i - r_j)^2 / \tau)`, :math:`\tau = 0.01`, rows
    normalised to :math:`a_i`.

:math:`a`, :math:`b` are uniform over the content tokens, :math:`r` the relative positions.
"""

from __future__ import annotations

from typing import Any

import torch

from ...ot import cost_matrix, marginals
from .base import Batch, DistillLoss, LossOutput, register

TAU = 0.01


def uniform_plan(x_mask: torch.Tensor, y_mask: torch.Tensor) -> torch.Tensor:
    """:math:`a b^\\top` ``(B, n, m)``."""
    return marginals(x_mask).unsqueeze(2) * marginals(y_mask).unsqueeze(1)


def position_plan(x_mask: torch.Tensor, y_mask: torch.Tensor, tau: float = TAU) -> torch.Tensor:
    """The relative-position plan ``(B, n, m)`` (see the module text)."""
    a = marginals(x_mask)
    rx = (x_mask.cumsum(1) - 1).float() / (x_mask.sum(1, keepdim=True).float() - 1).clamp_min(1)
    ry = (y_mask.cumsum(1) - 1).float() / (y_mask.sum(1, keepdim=True).float() - 1).clamp_min(1)
    logits = -((rx.unsqueeze(2) - ry.unsqueeze(1)) ** 2) / tau
    logits = logits.masked_fill(~y_mask.bool().unsqueeze(1), float("-inf"))
    rows = torch.softmax(logits, dim=2).nan_to_num(0.0)
    return a.unsqueeze(2) * rows


class _FixedPlanLoss(DistillLoss):
    ablation_of = "optical"

    def __init__(self, cost: str = "cosine") -> None:
        super().__init__()
        self.cost = cost

    @classmethod
    def from_config(cls, config: Any) -> _FixedPlanLoss:
        return cls(config.cost)

    plan: staticmethod  # (x_mask, y_mask) -> (B, n, m) plan

    def forward(self, batch: Batch) -> LossOutput:
        s, t = batch.student, batch.teacher
        cost = cost_matrix(s.tokens, t.tokens, self.cost)  # type: ignore[arg-type]
        loss = (self.plan(s.mask, t.mask) * cost).sum(dim=(1, 2)).mean()
        return LossOutput(loss, {"token": float(loss.detach())})


@register
class UniformPlanLoss(_FixedPlanLoss):
    """⟨a bᵀ, C⟩: token-level distillation with the uniform plan."""

    name = "token-uniform"
    condition = "tokkd"
    plan = staticmethod(uniform_plan)


@register
class PositionPlanLoss(_FixedPlanLoss):
    """⟨T_pos, C⟩: token-level distillation with the relative-position plan."""

    name = "token-position"
    condition = "tokkd-position"
    plan = staticmethod(position_plan)
