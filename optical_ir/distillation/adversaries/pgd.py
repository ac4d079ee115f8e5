r"""PGD (Madry et al., ICLR 2018): K projected ascent steps from a random point of the ball.

.. math:: \delta_0 \sim \mathcal{U}(\text{ball}), \qquad
          \delta_{k+1} = \Pi_{\text{ball}}\big(\delta_k + \alpha\, s_b\, \hat g_k\big), \qquad
          \mathcal{L}_{adv} = \mathcal{L}(x + \delta_K),

:math:`\hat g_k` the normalised (``l2``) or signed (``linf``) gradient at :math:`\delta_k`;
:math:`\alpha = 2.5\,\epsilon / K` by default. A step costs K + 1 extra forward passes.
"""

from __future__ import annotations

import torch

from ..losses.base import LossOutput
from .base import Adversary, Objective, register


@register
class PGD(Adversary):
    """K projected gradient-ascent steps; the loss at the last point (see the module text)."""

    name = "pgd"

    def adversarial(self, objective: Objective, x: torch.Tensor, mask: torch.Tensor,
                    clean: LossOutput, zero: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        _, delta = self.ascent(objective, x, mask)
        return objective(delta).loss, delta
