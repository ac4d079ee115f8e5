"""Adversarial training in embedding space: objects in a registry, one module per method.

==========  =================================================================================
name        adversary
==========  =================================================================================
``fgsm``    :class:`.fgsm.FGSM` — one signed/normalised gradient step to the ball's surface
``pgd``     :class:`.pgd.PGD` — K projected ascent steps from a random start (Madry et al.)
``freelb``  :class:`.freelb.FreeLB` — K ascent steps, the loss of every step averaged
==========  =================================================================================

An adversary wraps any loss (:mod:`optical_ir.distillation.losses`): given the objective as
a function of a perturbation of the student's input vectors, it finds a perturbation in the
ball that increases the loss and returns :math:`\\mathcal{L}(x) + w\\,\\mathcal{L}_{adv}`.
Adding one is a module here with a :class:`~.base.Adversary` subclass decorated with
:func:`~.base.register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from .base import ADVERSARIES, Adversary, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build_adversary(config: Any) -> Adversary | None:
    """The adversary of ``config.adversary`` (``None`` for ``"none"``)."""
    from ...errors import ConfigError

    if config.adversary == "none":
        return None
    try:
        cls = ADVERSARIES[config.adversary]
    except KeyError:
        raise ConfigError(f"unknown adversary {config.adversary!r}; choose one of none, "
                          f"{', '.join(ADVERSARIES)}") from None
    return cls(config.adv_radius, config.adv_norm, config.adv_steps, config.adv_step_size, config.adv_weight)


__all__ = ["ADVERSARIES", "Adversary", "build_adversary", "register"]
