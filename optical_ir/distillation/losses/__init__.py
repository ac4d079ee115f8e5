"""Distillation losses: objects in a registry, one module per method.

================  ===================================================================
name              loss
================  ===================================================================
``optical``       :class:`.optical.OpticalLoss` — ⟨T*, C⟩ with the Sinkhorn plan
``mse``           :class:`.sentence.MSELoss` — sentence-level MSE on both sides
``token-uniform`` :class:`.fixed_plan.UniformPlanLoss` — ⟨a bᵀ, C⟩
``token-position````:class:`.fixed_plan.PositionPlanLoss` — the relative-position plan
``infonce``       :class:`.infonce.InfoNCELoss` — supervised retrieval, in-batch negatives
================  ===================================================================

Adding a method is one new module here: a :class:`~.base.DistillLoss` subclass decorated
with :func:`~.base.register`. Every module of this package is imported when the package
is, so its losses are registered; the trainer, the command line (``--method`` choices) and
the settings search (its conditions) read :data:`LOSSES`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import torch

from .base import LOSSES, Batch, DistillLoss, Features, LossOutput, Weighted, register
from .sentence import SentenceTerm

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")

__all__ = ["LOSSES", "Batch", "DistillLoss", "Features", "LossOutput", "Weighted", "build_loss", "register"]


def build_loss(config: Any) -> DistillLoss | Weighted:
    """The loss of ``config.method``; a token-level loss with ``config.sentence_weight > 0`` gets
    the sentence term added, a distillation loss with ``config.retrieval_weight > 0`` the
    InfoNCE term (:class:`~.base.Weighted`)."""
    from ...errors import ConfigError

    try:
        cls = LOSSES[config.method]
    except KeyError:
        raise ConfigError(f"unknown method {config.method!r}; choose one of {', '.join(LOSSES)}") from None
    loss = cls.from_config(config)
    terms: list[tuple[float, torch.nn.Module]] = [(1.0, loss)]
    if cls.level == "token" and config.sentence_weight > 0:
        terms.append((config.sentence_weight, SentenceTerm()))
    if cls.level != "retrieval" and config.retrieval_weight > 0:
        terms.append((config.retrieval_weight, LOSSES["infonce"].from_config(config)))
    return loss if len(terms) == 1 else Weighted(terms)
