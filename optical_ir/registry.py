"""Registries of named classes: losses, adversaries, batching policies, perturbations.

Each interface keeps a ``dict`` name → class and a class decorator that fills it
(:func:`registrar`); a second class under a name already taken is a bug and raises. Written
here because the pattern is four lines, not worth a dependency (``class-registry`` and
the like add entry-point plumbing this toolkit does not need).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T", bound=type)


def registrar(registry: dict[str, Any], what: str) -> Callable[[T], T]:
    """A class decorator adding a class to ``registry`` under its ``name`` (``what`` names
    the kind in the error for a name registered twice)."""

    def register(cls: T) -> T:
        name = cls.name  # type: ignore[attr-defined]
        if name in registry and registry[name] is not cls:
            raise ValueError(f"two {what} are registered as {name!r}")
        registry[name] = cls
        return cls

    return register
