"""Distillation of a multilingual student query encoder from an English teacher, from bitext alone.

* :mod:`.config` — :class:`DistillConfig`, everything that determines a student, typed;
* :mod:`.features` — token vectors with their mass masks, the frozen-layer and teacher caches;
* :mod:`.data` — the training rows: bitext pairs, or NTREX train sentences with their passages;
* :mod:`.losses` — the losses, objects in a registry (``optical``, ``mse``, ``token-uniform``,
  ``token-position``, ``infonce``), composed with the sentence and retrieval terms;
* :mod:`.adversaries` — embedding-space adversarial training (``fgsm``, ``pgd``, ``freelb``);
* :mod:`.policies` — batching policies (``cross-lingual``, ``hybrid``, ``monolingual``);
* :mod:`.augment` — data-space noise: perturbed X sentences, a seeded share per epoch;
* :mod:`.trainer` — the loop, checkpoints and resumption (:func:`distill`);
* :mod:`.evaluators` — validation MAP between epochs.

``python -m optical_ir.distill`` trains one student; ``python -m optical_ir.tune`` many.
"""

from .config import DistillConfig
from .data import training_pairs
from .losses import LOSSES, build_loss
from .trainer import DISTILL_FILE, distill, read_distill_info

__all__ = ["DISTILL_FILE", "LOSSES", "DistillConfig", "build_loss", "distill", "read_distill_info",
           "training_pairs"]
