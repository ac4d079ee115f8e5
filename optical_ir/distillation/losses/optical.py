r"""OPTICAL's token-alignment loss (Huang, Yu and Allan, "Improving Cross-lingual Information
Retrieval on Low-Resource Languages via Optimal Transport Distillation", WSDM 2023).

Between the student's token vectors :math:`x_1..x_n` of the X sentence and the teacher's
:math:`y_1..y_m` of its English translation, the entropic transport plan :math:`T^\star`
(:func:`optical_ir.ot.sinkhorn_log`) is a soft alignment, and the loss is

.. math:: \mathcal{L} = \langle T^\star, C \rangle_F, \qquad C_{ij} = c(x_i, y_j),

averaged over the batch (:func:`optical_ir.ot.ot_loss`).
"""

from __future__ import annotations

from typing import Any

from ...ot import ot_loss
from .base import Batch, DistillLoss, LossOutput, register


@register
class OpticalLoss(DistillLoss):
    """⟨T*, C⟩ with the Sinkhorn plan T* (see the module text)."""

    name = "optical"
    condition = "optical"

    def __init__(self, eps: float = 0.05, n_iter: int = 50, cost: str = "cosine", detach_plan: bool = True) -> None:
        super().__init__()
        self.eps, self.n_iter, self.cost, self.detach_plan = eps, n_iter, cost, detach_plan

    @classmethod
    def from_config(cls, config: Any) -> OpticalLoss:
        return cls(config.eps, config.sinkhorn_iterations, config.cost, config.detach_plan)

    def forward(self, batch: Batch) -> LossOutput:
        s, t = batch.student, batch.teacher
        res = ot_loss(s.tokens, t.tokens, s.mask, t.mask, eps=self.eps, n_iter=self.n_iter,
                      metric=self.cost, detach_plan=self.detach_plan)  # type: ignore[arg-type]
        loss = res.loss.mean()
        return LossOutput(loss, {"token": float(loss.detach())})
