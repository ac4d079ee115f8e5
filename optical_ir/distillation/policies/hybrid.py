r"""Hybrid batches (Elmahdy, Lin and Ahmad, arXiv 2408.10536): each batch is monolingual with
probability :math:`\alpha` and cross-lingual with :math:`1 - \alpha` (:math:`\alpha = 0.5` by
default); the language of a monolingual batch, or the direction of a cross-lingual one, is
drawn uniformly (:mod:`.base`)."""

from __future__ import annotations

from typing import Any

from .base import BatchPolicy, register


@register
class Hybrid(BatchPolicy):
    """Monolingual share α."""

    name = "hybrid"

    def __init__(self, alpha: float = 0.5) -> None:
        if not 0 <= alpha <= 1:
            raise ValueError(f"alpha must be in [0, 1], not {alpha}")
        self.alpha = alpha

    @classmethod
    def from_config(cls, config: Any) -> Hybrid:
        return cls(config.alpha)

    def monolingual_share(self) -> float:
        return self.alpha
