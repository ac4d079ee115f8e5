r"""The adversary interface: a perturbation ball around each sentence's input vectors.

For a sentence :math:`b` with input vectors :math:`x_b` (its real tokens; padding is never
perturbed), the perturbation :math:`\delta_b` lies in

.. math:: \lVert \delta_b \rVert_2 \le \epsilon\, \lVert x_b \rVert_2 \quad (\texttt{l2}), \qquad
          \lVert \delta_b \rVert_\infty \le \epsilon\, \operatorname{rms}(x_b) \quad (\texttt{linf}),

a radius relative to the input's own size, so that one :math:`\epsilon` means the same for
word embeddings (norm ≈ 1 per token) and for the output of frozen layers (norm ≈ 10–20). An
ascent step moves :math:`\delta` along the gradient of the loss — normalised per sentence
(``l2``) or its sign (``linf``) — by :math:`\alpha` (relative like :math:`\epsilon`) and
projects back onto the ball. The step trains on

.. math:: \mathcal{L}(x) + w\, \mathcal{L}_{adv}(x, \delta),

where each method defines :math:`\mathcal{L}_{adv}` (:meth:`Adversary.adversarial`).

References: Goodfellow et al., "Explaining and Harnessing Adversarial Examples", ICLR 2015
(FGSM); Madry et al., "Towards Deep Learning Models Resistant to Adversarial Attacks",
ICLR 2018 (PGD); Zhu et al., "FreeLB: Enhanced Adversarial Training for Natural Language
Understanding", ICLR 2020. Written here, not taken from TextAttack or an adversarial-
training package: those attack token choices or wrap classifiers; what is needed is a
gradient step on a loss of two encoders' vectors, a few lines of torch.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import ClassVar

import torch

from ...registry import registrar
from ..losses.base import LossOutput

Objective = Callable[[torch.Tensor | None], LossOutput]
"""The loss of a batch as a function of the perturbation of its input vectors (``None``: clean)."""


class Adversary(ABC):
    """Base class of the embedding-space adversaries (see the module text)."""

    name: ClassVar[str]

    def __init__(self, radius: float, norm: str = "l2", steps: int = 1, step_size: float | None = None,
                 weight: float = 1.0) -> None:
        if norm not in ("l2", "linf"):
            raise ValueError(f"norm must be l2 or linf, not {norm!r}")
        self.radius, self.norm, self.steps, self.weight = radius, norm, steps, weight
        self.step_size = step_size if step_size is not None else self.default_step_size()

    def default_step_size(self) -> float:
        return 2.5 * self.radius / self.steps

    # -- the ball ------------------------------------------------------------------------------
    def scale(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 1)`` each sentence's size: the L2 norm of its real tokens' vectors (``l2``) or
        their root mean square (``linf``)."""
        m = mask.unsqueeze(-1).to(x.dtype)
        sq = ((x.detach() * m) ** 2).sum(dim=(1, 2), keepdim=True)
        if self.norm == "l2":
            return sq.sqrt()
        return (sq / (m.sum(dim=(1, 2), keepdim=True) * x.shape[-1]).clamp_min(1)).sqrt()

    def size(self, delta: torch.Tensor) -> torch.Tensor:
        """``(B, 1, 1)`` the norm of each sentence's perturbation (L2 or L∞)."""
        if self.norm == "l2":
            return delta.flatten(1).norm(dim=1).view(-1, 1, 1)
        return delta.flatten(1).abs().amax(dim=1).view(-1, 1, 1)

    def project(self, delta: torch.Tensor, scale: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``delta`` moved onto the ball of radius ``radius · scale`` (padding set to 0)."""
        r = self.radius * scale
        delta = delta * mask.unsqueeze(-1).to(delta.dtype)
        if self.norm == "l2":
            return delta * (r / self.size(delta).clamp_min(1e-12)).clamp(max=1.0)
        return torch.maximum(torch.minimum(delta, r), -r)

    def ascend(self, delta: torch.Tensor, grad: torch.Tensor, step: float, scale: torch.Tensor,
               mask: torch.Tensor) -> torch.Tensor:
        """One ascent step of relative size ``step`` along ``grad``, projected onto the ball."""
        if self.norm == "l2":
            direction = grad / grad.flatten(1).norm(dim=1).view(-1, 1, 1).clamp_min(1e-12)
        else:
            direction = grad.sign()
        return self.project(delta + step * scale * direction, scale, mask)

    def random_start(self, x: torch.Tensor, scale: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """A random point of the ball (torch's global generator, seeded by the trainer)."""
        if self.norm == "l2":
            d = torch.randn_like(x) * mask.unsqueeze(-1).to(x.dtype)
            d = d / d.flatten(1).norm(dim=1).view(-1, 1, 1).clamp_min(1e-12)
            u = torch.rand(x.shape[0], 1, 1, dtype=x.dtype, device=x.device)
            return self.project(d * u * self.radius * scale, scale, mask)
        return self.project((2 * torch.rand_like(x) - 1) * self.radius * scale, scale, mask)

    @staticmethod
    def gradient(objective: Objective, delta: torch.Tensor) -> tuple[LossOutput, torch.Tensor]:
        """The loss at ``delta`` (its graph kept) and its gradient with respect to ``delta`` only."""
        delta = delta.detach().requires_grad_(True)
        out = objective(delta)
        (grad,) = torch.autograd.grad(out.loss, delta, retain_graph=True)
        return out, grad

    def ascent(self, objective: Objective, x: torch.Tensor,
               mask: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """K projected ascent steps from a random point of the ball: the losses at the K points
        visited (with their graphs) and the final perturbation."""
        scale = self.scale(x, mask)
        delta = self.random_start(x, scale, mask)
        losses = []
        for _ in range(self.steps):
            out, grad = self.gradient(objective, delta)
            losses.append(out.loss)
            delta = self.ascend(delta.detach(), grad, self.step_size, scale, mask).detach()
        return losses, delta

    # -- the method ----------------------------------------------------------------------------
    @abstractmethod
    def adversarial(self, objective: Objective, x: torch.Tensor, mask: torch.Tensor,
                    clean: LossOutput, zero: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(L_adv, δ)``: the adversarial loss (with its graph) and the final perturbation;
        ``clean`` is the loss at ``zero`` (δ = 0, a leaf that requires grad)."""

    def _clean(self, objective: Objective, x: torch.Tensor) -> tuple[LossOutput, torch.Tensor]:
        zero = torch.zeros_like(x).requires_grad_(True)
        return objective(zero), zero

    def __call__(self, objective: Objective, x: torch.Tensor, mask: torch.Tensor) -> LossOutput:
        """:math:`\\mathcal{L}(x) + w\\,\\mathcal{L}_{adv}` with the parts of both (``adv``: the
        adversarial loss, ``adv_gain``: how much it exceeds the clean one)."""
        clean, zero = self._clean(objective, x)
        adv, _ = self.adversarial(objective, x, mask, clean, zero)
        parts = dict(clean.parts)
        parts.update(adv=float(adv.detach()), adv_gain=float(adv.detach() - clean.loss.detach()))
        return LossOutput(clean.loss + self.weight * adv, parts)

    def attack(self, objective: Objective, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """The final perturbation alone (detached), for inspection and tests."""
        clean, zero = self._clean(objective, x)
        return self.adversarial(objective, x, mask, clean, zero)[1].detach()


ADVERSARIES: dict[str, type[Adversary]] = {}
"""Name → adversary class, filled by :func:`register`."""


register = registrar(ADVERSARIES, "adversaries")
"""Class decorator: add a class to :data:`ADVERSARIES` under its ``name``."""


