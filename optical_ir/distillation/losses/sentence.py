r"""Sentence-level distillation: squared distances between pooled vectors.

:class:`MSELoss` (``mse``; Reimers and Gurevych, "Making Monolingual Sentence Embeddings
Multilingual using Knowledge Distillation", EMNLP 2020) pulls the student's vectors of both
the X sentence :math:`s` and its English translation :math:`e` onto the teacher's vector of
:math:`e`:

.. math:: \mathcal{L} = \lVert f_S(s) - f_T(e) \rVert^2 + \lVert f_S(e) - f_T(e) \rVert^2,

averaged over the batch. :class:`SentenceTerm` is its first half alone, the term that
``sentence_weight`` adds to a token-level loss.
"""

from __future__ import annotations

import torch

from .base import Batch, DistillLoss, LossOutput, register


def sentence_mse(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    r""":math:`\frac1B \sum_b \lVert x_b - y_b \rVert^2` of two ``(B, H)`` batches."""
    return ((student - teacher) ** 2).sum(-1).mean()


@register
class MSELoss(DistillLoss):
    """Sentence-level MSE distillation on both sides (see the module text)."""

    name = "mse"
    condition = "msekd"
    level = "sentence"
    student_reads_english = True

    def forward(self, batch: Batch) -> LossOutput:
        if batch.student_english is None:
            raise ValueError("mse needs the student's features of the English sentences")
        loss = sentence_mse(batch.student.sentence, batch.teacher.sentence)
        loss = loss + sentence_mse(batch.student_english.sentence, batch.teacher.sentence)
        return LossOutput(loss, {"mse": float(loss.detach())})


class SentenceTerm(torch.nn.Module):
    r""":math:`\lVert f_S(s) - f_T(e) \rVert^2`: the sentence term added to token-level losses."""

    def forward(self, batch: Batch) -> LossOutput:
        loss = sentence_mse(batch.student.sentence, batch.teacher.sentence)
        return LossOutput(loss, {"sentence": float(loss.detach())})
