"""Every batch monolingual: English pairs for distillation, or, with a retrieval term, query
and passage in one language (X or English, drawn per batch)."""

from __future__ import annotations

from .base import BatchPolicy, register


@register
class Monolingual(BatchPolicy):
    """Monolingual share 1 (see :mod:`.base`)."""

    name = "monolingual"

    def monolingual_share(self) -> float:
        return 1.0
