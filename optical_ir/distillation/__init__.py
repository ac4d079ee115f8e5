"""Distillation of a multilingual student query encoder from an English teacher, from bitext alone.

* :mod:`.config` — :class:`DistillConfig`, everything that determines a student, typed;
* :mod:`.features` — token vectors with their mass masks, the frozen-layer and teacher caches;
* :mod:`.losses` — the losses, objects in a registry (``optical``, ``mse``, ``token-uniform``,
  ``token-position``), composed with the sentence term;
* :mod:`.trainer` — the loop, checkpoints and resumption (:func:`distill`);
* :mod:`.evaluators` — validation MAP between epochs.

``python -m optical_ir.distill`` trains one student; ``python -m optical_ir.tune`` many.
"""

from .config import DistillConfig
from .losses import LOSSES, build_loss
from .trainer import DISTILL_FILE, distill, read_distill_info, training_pairs

__all__ = ["DISTILL_FILE", "LOSSES", "DistillConfig", "build_loss", "distill", "read_distill_info",
           "training_pairs"]
