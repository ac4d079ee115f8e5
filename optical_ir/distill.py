"""Distil a multilingual student *query* encoder from an English teacher, from bitext alone.

For a pair (sentence s in language X, its English translation e), the teacher is frozen and
the student learns to put s where the teacher puts e. ``--method`` picks the loss from the
registry (:mod:`optical_ir.distillation.losses`): ``optical`` (OPTICAL, Huang, Yu and Allan,
WSDM 2023: the optimal-transport token alignment ⟨T*, C⟩), ``mse`` (sentence-level,
Reimers and Gurevych 2020), ``token-uniform`` and ``token-position`` (token-level with a
fixed plan: the ablation), ``infonce`` (supervised retrieval on the NTREX train passages).
Every loss composes with an embedding-space adversary (``--adversary fgsm|pgd|freelb``),
data-space noise (``--augment KIND …``), the InfoNCE term (``--retrieval-weight``) and a
batching policy (``--batching hybrid --alpha 0.5``): docs/training.md. The flags below are generated from
:class:`~optical_ir.distillation.DistillConfig`, whose fields they set.

Command line::

    python -m optical_ir.distill --language sw --method optical --output students/optical.sw \\
        [--teacher multilingual-e5-small] [--student multilingual-e5-small] [--sources ntrex] \\
        [--epochs 3] [--lr 5e-5] [--batch-size 16] [--max-length 64] [--eps 0.05] \\
        [--sinkhorn-iterations 50] [--cost cosine] [--sentence-weight 0] [--train-layers N] \\
        [--adversary fgsm --adv-radius 0.02 [--adv-norm l2] [--adv-steps 1]] [--augment typo diacritics] \\
        [--retrieval-weight 0] [--batching cross-lingual|hybrid|monolingual [--alpha 0.5]] \\
        [--validate [--holdout]] [--seed 13] [--device cpu]

Data-parallel on several processes (CPUs: ``gloo``; GPUs: ``nccl``, one a GPU; several
nodes: the same command on each, with an ``--output`` every node sees), the same flags::

    torchrun --nproc-per-node 2 -m optical_ir.distill --language sw --method optical --output DIR
    torchrun --nnodes 2 --nproc-per-node 8 --rdzv-backend c10d --rdzv-endpoint HOST:29400 \\
        --rdzv-id JOB -m optical_ir.distill --language sw --method optical --device cuda --output DIR

``--batch-size`` is the global batch: each of the N processes takes its share of it, and N
processes train the student one process trains (:mod:`optical_ir.distillation.distributed`).

The output is a model directory that ``python -m optical_ir.search --encoder`` and
Pyserini load. An interrupted run resumes from its last epoch when given the same settings
and refuses, naming the settings that differ, when given others; ``--overwrite`` deletes a
student directory (never another one) and trains again.
"""

from __future__ import annotations

from collections.abc import Sequence

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    from .distillation import DistillConfig

    parser = cli.parser("distill", __doc__)
    parser.add_argument("--output", required=True, help="model directory of the student")
    settings = parser.add_argument_group("distillation settings (saved with the student)")
    cli.add_config_flags(settings, DistillConfig)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--validate", action="store_true", help="MAP on the train-article collection (with "
                        "--holdout: the dev collection) after each epoch; keep the best epoch")
    parser.add_argument("--overwrite", action="store_true", help="train again even if the output holds a student")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    if not args.languages and args.epochs != 0:
        parser.error("the following arguments are required: --language (only --epochs 0 needs none)")
    from .distillation import distill

    config = cli.config_from_args(DistillConfig, args)
    from .distillation.distributed import finish

    try:
        path = distill(config, args.output, args.device, args.validate, args.overwrite)
    finally:
        finish()
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "distill"))
