r"""Supervised retrieval: InfoNCE with in-batch negatives (van den Oord et al., 2018; the loss of
DPR, Karpukhin et al., EMNLP 2020, and of the hybrid-batch paper, Elmahdy et al., 2024).

For a batch of query vectors :math:`q_b` (the student on a sentence) and the teacher's
vectors :math:`p_1..p_P` of the batch's distinct passages, with :math:`p_{\pi(b)}` the
passage that holds sentence :math:`b`:

.. math:: \mathcal{L} = -\frac1B \sum_b \log
          \frac{\exp(q_b^\top p_{\pi(b)} / \tau)}{\sum_{k=1}^{P} \exp(q_b^\top p_k / \tau)}.

The passages are the batch's own positives, each once, so two sentences of one passage are
not each other's negatives. The passage side is the frozen teacher's (its passage prefix),
so the student stays a query encoder for the teacher's English index.
"""

from __future__ import annotations

from typing import Any

import torch

from .base import Batch, DistillLoss, LossOutput, register


def info_nce(queries: torch.Tensor, passages: torch.Tensor, positive: torch.Tensor, tau: float) -> torch.Tensor:
    r"""The mean InfoNCE loss of ``(B, H)`` queries against ``(P, H)`` passages, positives ``(B,)``."""
    return torch.nn.functional.cross_entropy(queries @ passages.T / tau, positive)


@register
class InfoNCELoss(DistillLoss):
    """InfoNCE over the batch's passages (see the module text)."""

    name = "infonce"
    condition = "infonce"
    level = "retrieval"

    def __init__(self, temperature: float = 0.05) -> None:
        super().__init__()
        self.temperature = temperature

    @classmethod
    def from_config(cls, config: Any) -> InfoNCELoss:
        return cls(config.temperature)

    def forward(self, batch: Batch) -> LossOutput:
        if batch.passages is None or batch.positive is None:
            raise ValueError("infonce needs the batch's passages and positives (a retrieval batch)")
        loss = info_nce(batch.student.sentence, batch.passages, batch.positive, self.temperature)
        return LossOutput(loss, {"nce": float(loss.detach())})
