r"""FGSM (Goodfellow et al., ICLR 2015): one step to the surface of the ball.

.. math:: \delta = \epsilon\, s_b\, \frac{g_b}{\lVert g_b \rVert_2} \ (\texttt{l2}), \qquad
          \delta = \epsilon\, s_b \operatorname{sign}(g) \ (\texttt{linf}), \qquad
          g = \nabla_\delta \mathcal{L}(x + \delta)\big|_{\delta = 0},

:math:`s_b` the sentence's size (:meth:`~.base.Adversary.scale`), and
:math:`\mathcal{L}_{adv} = \mathcal{L}(x + \delta)`. The gradient at :math:`\delta = 0` costs
one extra backward pass through the clean loss (no extra forward pass).
"""

from __future__ import annotations

import torch

from ..losses.base import LossOutput
from .base import Adversary, Objective, register


@register
class FGSM(Adversary):
    """One gradient step of size ε from δ = 0 (see the module text)."""

    name = "fgsm"

    def default_step_size(self) -> float:
        return self.radius

    def adversarial(self, objective: Objective, x: torch.Tensor, mask: torch.Tensor,
                    clean: LossOutput, zero: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scale = self.scale(x, mask)
        (grad,) = torch.autograd.grad(clean.loss, zero, retain_graph=True)
        delta = self.ascend(torch.zeros_like(x), grad, self.step_size, scale, mask).detach()
        return objective(delta).loss, delta
