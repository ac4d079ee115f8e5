"""Choose distillation settings on held-out sentences, then train and test the chosen students.

A grid (YAML; its schema is :class:`~optical_ir.experiments.schema.TuneGrid`) names
variants of the distillation settings and the languages to try them on. Every variant is
trained for every language with the NTREX dev articles held out and validated on
``optical-ir/ntrex/<xx>-en/dev`` after each epoch; per method the best (variant, epoch) is
selected; ``--final`` trains the selected settings on all the bitext and tests them
(:mod:`optical_ir.experiments.tuning`). ``python -m optical_ir.distill`` trains one
student; this verb runs many.

Command line::

    python -m optical_ir.tune --grid reproduce/tune.yaml --output-dir tune [--final] \\
        [--first-stage-dir runs/ntrex] [--device cuda] [--workers 4] [--languages sw de] \\
        [--dataset optical-ir/ntrex/{lang}-en/test] [--no-ceiling] [--selected selected.json] \\
        [--train-layers 9 --precision bf16 --lr-scale 2] [--late-interaction] [--name-suffix=-cpu] \\
        [--methods mse optical] [--test-languages sw]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import cli


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``python -m optical_ir.tune``."""
    parser = cli.parser("tune", __doc__)
    parser.add_argument("--grid", required=True, help="YAML grid of distillation variants")
    parser.add_argument("--output-dir", required=True, help="students, validation.csv, selected.json, runs")
    parser.add_argument("--languages", nargs="+", help="override the grid's languages")
    parser.add_argument("--final", action="store_true", help="also train the selected settings on all the bitext "
                        "and test them")
    parser.add_argument("--selected", help="selected.json of an earlier selection: skip the selection, train and "
                        "test its settings (implies --final)")
    parser.add_argument("--first-stage-dir", help="directory with bm25.<xx>.trec runs to rerank (with --final)")
    parser.add_argument("--run-suffix", default=".trec", choices=[".trec", ".trec.gz"], help="run file names")
    parser.add_argument("--dataset", default="optical-ir/ntrex/{lang}-en/test",
                        help="test collection of the final students ({lang}: the query language; a collection "
                        "without {lang} needs one language)")
    parser.add_argument("--ceiling", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the teacher on the English queries (the collection's en-en form)")
    parser.add_argument("--zeroshot", action=argparse.BooleanOptionalAction, default=True,
                        help="also test the zero-shot student (the teacher's own query side, when it is the "
                        "students' start: dense-zeroshot, maxsim-zeroshot)")
    parser.add_argument("--train-layers", type=int, help="train only the top N transformer layers of every student "
                        "(over the cached output of the frozen ones: the CPU mode; see docs/training.md)")
    parser.add_argument("--precision", choices=["fp32", "bf16"], help="arithmetic of every student's trained "
                        "layers (bf16: autocast, for CPUs with AMX or AVX-512 BF16; see docs/training.md)")
    parser.add_argument("--lr-scale", type=float, default=1.0, help="multiply every variant's learning rate by "
                        "this (the CPU mode: 2 with --train-layers 9)")
    parser.add_argument("--late-interaction", action="store_true", help="also search each final student by MaxSim "
                        "over the teacher's token index (runs maxsim-<condition>)")
    parser.add_argument("--name-suffix", default="", help="append this to the name (file and run tag) of every "
                        "final run, e.g. -cpu: dense-optical-cpu")
    parser.add_argument("--methods", nargs="+", metavar="METHOD",
                        help="train and test only these methods' final students (e.g. mse optical; default: every "
                        "selected method and its ablations)")
    parser.add_argument("--test-languages", nargs="+", metavar="LANG",
                        help="search and test only these of --languages (every language's students are still "
                        "trained, in one pool): a reproduction job per language trains them all once")
    parser.add_argument("--track", nargs="+", default=[], metavar="SPLIT",
                        help="also score every candidate of the selection on these NTREX splits after each epoch "
                        "(e.g. test dev-small), to measure how well dev ranks them (selected.json: rank_agreement); "
                        "never used to select")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--workers", type=int, default=None, help="students trained at once (processes; default: "
                        "4 on a GPU, 1 on a CPU)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads per worker")
    cli.add_data_flags(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    if args.workers is None:
        args.workers = 1 if args.device == "cpu" else 4
    if args.workers < 1 or args.threads < 1:
        parser.error("--workers and --threads must be positive")
    from .errors import MismatchError, check_device
    from .experiments.tuning import final, read_grid, select, training_mode
    from .languages import canonical

    check_device(args.device)
    from .collections.ntrex import SPLITS

    unknown = sorted(set(args.track) - set(SPLITS))
    if unknown:
        parser.error(f"--track {' '.join(unknown)}: not a NTREX split (one of {', '.join(SPLITS)})")
    grid = training_mode(read_grid(args.grid), args.train_layers, args.precision, args.lr_scale)

    languages = [canonical(x) for x in (args.languages or grid.get("languages") or [])]
    if not languages:
        parser.error("no languages: give --languages or list them in the grid")
    tested = [canonical(x) for x in args.test_languages] if args.test_languages else languages
    if "{lang}" not in args.dataset and (len(tested) > 1 or args.ceiling):
        parser.error(f"--dataset {args.dataset} names one collection: put {{lang}} in it, or test one language "
                     f"(--languages or --test-languages) and give --no-ceiling")
    from .files import check_writable

    out = check_writable(args.output_dir, directory=True)
    start = time.time()
    if args.selected:
        selected = json.loads(Path(args.selected).read_text(encoding="utf-8"))["selected"]
        missing = sorted({s["variant"] for s in selected.values()} - set(grid["variants"]))
        if missing:
            raise MismatchError(f"{args.selected} selects variants {missing} that {args.grid} does not define")
    else:
        selected = select(grid, out, languages, args.device, args.workers, args.threads, args.track)
    for method, sel in selected.items():
        print(f"{method}: {sel['variant']} for {sel['epochs']} epochs (dev MAP {sel['val_AP']:.4f})", file=sys.stderr)
    if args.final or args.selected:
        final(grid, selected, out, languages, args.first_stage_dir, args.device, args.workers, args.threads,
              teacher_ceiling=args.ceiling, run_suffix=args.run_suffix, dataset=args.dataset,
              late_interaction=args.late_interaction, name_suffix=args.name_suffix, methods=args.methods,
              test_languages=tested, zeroshot=args.zeroshot)
    print(f"done in {time.time() - start:.0f} s → {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "tune"))
