r"""FreeLB (Zhu et al., ICLR 2020): K ascent steps whose losses are all trained on.

.. math:: \mathcal{L}_{adv} = \frac1K \sum_{k=0}^{K-1} \mathcal{L}(x + \delta_k), \qquad
          \delta_{k+1} = \Pi_{\text{ball}}\big(\delta_k + \alpha\, s_b\, \hat g_k\big),

from a random start: the parameter gradient accumulates over the K points the ascent
visits, "for free" with the gradients the ascent computes anyway. Unlike the paper's, the
clean loss is kept in the step (weight 1, the adversarial term weight :math:`w`).
"""

from __future__ import annotations

import torch

from ..losses.base import LossOutput
from .base import Adversary, Objective, register


@register
class FreeLB(Adversary):
    """The mean loss over the K points of the ascent (see the module text)."""

    name = "freelb"

    def adversarial(self, objective: Objective, x: torch.Tensor, mask: torch.Tensor,
                    clean: LossOutput, zero: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        losses, delta = self.ascent(objective, x, mask)
        return torch.stack(losses).mean(), delta
