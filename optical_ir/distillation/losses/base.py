"""The loss interface, the registry, and composition.

A distillation loss is a ``torch.nn.Module`` whose ``forward`` takes a :class:`Batch` (the
student's features of the X sentences, the cached teacher features of their English
translations, and — for losses that ask for it — the student's features of the English
sentences) and returns a :class:`LossOutput` (the scalar to minimise and its parts for the
progress bar). Each loss registers under a name with :func:`register`; the trainer builds
one with :func:`build_loss` and knows no loss by name.

Class attributes describe a loss to the rest of the toolkit:

``name``
    The ``--method`` value.
``condition``
    The suffix of its reproduction conditions (``dense-<condition>``).
``level``
    ``"token"``, ``"sentence"`` or ``"retrieval"``; a token-level loss gets the sentence-level
    MSE term added when the configuration's ``sentence_weight`` is positive, and any
    distillation loss the retrieval term when ``retrieval_weight`` is (composition,
    :class:`Weighted`).
``student_reads_english``
    The student also encodes the English side (the trainer caches its frozen layers too).
``ablation_of``
    The loss whose selected setting this one takes in a settings search, with only the
    method replaced (the fixed-plan ablations of OPTICAL).
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple

import torch

from ...registry import registrar


class Features(NamedTuple):
    """One side of a batch of sentences."""

    tokens: torch.Tensor
    """``(B, T, H)`` token vectors."""
    mask: torch.Tensor
    """``(B, T)`` 1 for the tokens that carry transport mass."""
    sentence: torch.Tensor
    """``(B, H)`` pooled sentence vectors."""


class Batch(NamedTuple):
    student: Features
    """The student on the X sentences."""
    teacher: Features
    """The (frozen, cached) teacher on their English translations."""
    student_english: Features | None = None
    """The student on the English sentences (only for losses with ``student_reads_english``)."""
    passages: torch.Tensor | None = None
    """``(P, H)`` the teacher's vectors of the batch's distinct passages (retrieval terms)."""
    positive: torch.Tensor | None = None
    """``(B,)`` the index into ``passages`` of the passage that holds each row's sentence."""


class LossOutput(NamedTuple):
    loss: torch.Tensor
    parts: dict[str, float]


class DistillLoss(torch.nn.Module):
    """Base class of the distillation losses (see the module text)."""

    name: ClassVar[str]
    condition: ClassVar[str]
    level: ClassVar[str] = "token"
    student_reads_english: ClassVar[bool] = False
    ablation_of: ClassVar[str | None] = None

    @classmethod
    def from_config(cls, config: Any) -> DistillLoss:
        """The loss with its settings taken from a :class:`~optical_ir.distillation.DistillConfig`."""
        return cls()

    def forward(self, batch: Batch) -> LossOutput:  # pragma: no cover - abstract
        raise NotImplementedError


LOSSES: dict[str, type[DistillLoss]] = {}
"""Name → loss class, filled by :func:`register`."""


register = registrar(LOSSES, "losses")
"""Class decorator: add a class to :data:`LOSSES` under its ``name``."""


class Weighted(torch.nn.Module):
    r"""A weighted sum of losses, :math:`\mathcal{L} = \sum_k w_k \mathcal{L}_k`; the parts of all are kept."""

    def __init__(self, terms: list[tuple[float, torch.nn.Module]]) -> None:
        super().__init__()
        self.weights = [w for w, _ in terms]
        self.terms = torch.nn.ModuleList([t for _, t in terms])
        first = terms[0][1]
        self.student_reads_english = any(getattr(t, "student_reads_english", False) for _, t in terms)
        self.name = getattr(first, "name", "weighted")

    def forward(self, batch: Batch) -> LossOutput:
        total: torch.Tensor | None = None
        parts: dict[str, float] = {}
        for w, term in zip(self.weights, self.terms, strict=True):
            out = term(batch)
            total = w * out.loss if total is None else total + w * out.loss
            parts.update(out.parts)
        assert total is not None
        return LossOutput(total, parts)
