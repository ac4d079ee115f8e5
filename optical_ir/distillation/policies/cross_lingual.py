"""Every batch cross-lingual: distillation's pairs (the student reads X), or, with a
retrieval term, X queries with English passages or the reverse (``dense-xling``)."""

from __future__ import annotations

from .base import BatchPolicy, register


@register
class CrossLingual(BatchPolicy):
    """Monolingual share 0 (see :mod:`.base`)."""

    name = "cross-lingual"

    def monolingual_share(self) -> float:
        return 0.0
