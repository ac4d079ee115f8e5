"""Batching policies: which side of each batch is in language X and which in English.

=================  ====================================================================
name               a batch is …
=================  ====================================================================
``cross-lingual``  :class:`.cross_lingual.CrossLingual` — always cross-lingual (today's distillation)
``hybrid``         :class:`.hybrid.Hybrid` — monolingual with probability α, else cross-lingual
``monolingual``    :class:`.monolingual.Monolingual` — always monolingual
=================  ====================================================================

A policy draws the :class:`~.base.Sides` of a batch from a generator seeded by the step, so
a resumed run draws the same. Adding one is a module here with a
:class:`~.base.BatchPolicy` subclass decorated with :func:`~.base.register`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from .base import POLICIES, BatchPolicy, Sides, register

for _module in pkgutil.iter_modules(__path__):
    importlib.import_module(f"{__name__}.{_module.name}")


def build_policy(config: Any) -> BatchPolicy:
    """The policy of ``config.batching`` (``hybrid`` with ``config.alpha``)."""
    from ...errors import ConfigError

    try:
        cls = POLICIES[config.batching]
    except KeyError:
        raise ConfigError(f"unknown batching {config.batching!r}; choose one of {', '.join(POLICIES)}") from None
    return cls.from_config(config)


__all__ = ["POLICIES", "BatchPolicy", "Sides", "build_policy", "register"]
