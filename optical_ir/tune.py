"""Choose distillation settings on held-out sentences, then train and test the chosen students.

A grid (YAML) names variants of :class:`~optical_ir.distill.DistillConfig` and the
languages to try them on::

    languages: [sw, so, ha, yo, de, fr, zh]
    base: {epochs: 8, lr: 5.0e-5}            # DistillConfig fields shared by every variant
    variants:
      mse:            {method: mse}
      optical-cos:    {method: optical, cost: cosine, eps: 0.05}
      optical-cos-s1: {method: optical, cost: cosine, eps: 0.05, sentence_weight: 1.0}

1. **select** — every variant is trained for every language with ``holdout`` (the NTREX
   dev articles are kept out of the bitext) and validated after each epoch on
   ``optical-ir/ntrex/<xx>-en/dev``. For each method, the (variant, epoch) with the best
   MAP averaged over the languages is selected. Test data is never looked at. A
   token-level ablation (``token-uniform``, ``token-position``) the grid does not tune
   takes OPTICAL's selected setting with only the method replaced.
2. **final** (``--final``) — the selected setting of each method is trained again on all
   the bitext (no holdout) for the selected number of epochs, and tested on
   ``--dataset`` (default ``optical-ir/ntrex/<xx>-en/test``): dense retrieval over the teacher's passage vectors
   (exact inner product, the ranking of Pyserini's ``IndexFlatIP``), and, with
   ``--first-stage-dir``, reranking of the BM25 runs found there (``bm25.<xx>.trec``).

Outputs in ``--output-dir``: ``validation.csv`` (variant, method, language, epoch,
validation MAP), ``selected.json``, the students, ``runs/<condition>.<xx>.trec`` and
``results.csv`` (``condition,lang,measure,value,n_queries``). Jobs run in ``--workers``
processes (several fit on one GPU); a finished student is not trained again, and a run
newer than its student is not made again, so a rerun resumes. ``python -m
optical_ir.distill`` trains one student; this verb runs many.

Command line::

    python -m optical_ir.tune --grid reproduce/tune.yaml --output-dir tune [--final] \\
        [--first-stage-dir runs/ntrex] [--device cuda] [--workers 4] [--languages sw de] \\
        [--dataset optical-ir/ntrex/{lang}-en/test] [--no-ceiling] [--selected selected.json]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from . import cli

CONDITION = {"optical": "optical", "mse": "msekd", "token-uniform": "tokkd", "token-position": "tokkd-position"}
"""Method → condition suffix of its runs (``dense-<suffix>``, ``rerank-<suffix>``)."""


def read_grid(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The grid file, checked: every variant must make a valid :class:`DistillConfig`."""
    import yaml

    from .distill import DistillConfig

    grid = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    unknown = set(grid) - {"languages", "base", "variants"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}; a grid has languages, base and variants")
    if not grid.get("variants"):
        raise ValueError(f"{path}: no variants")
    grid.setdefault("base", {})
    for name, overrides in grid["variants"].items():
        DistillConfig.from_dict({"languages": ["sw"], **grid["base"], **(overrides or {})})  # raises if invalid
        if not name or "/" in name:
            raise ValueError(f"{path}: variant name {name!r} must be a non-empty name without '/'")
    return grid


def _config(grid: dict[str, Any], variant: str, lang: str, **changes: Any) -> Any:
    from .distill import DistillConfig

    return DistillConfig.from_dict({**grid["base"], **(grid["variants"][variant] or {}), "languages": [lang],
                                    **changes})


def _job(config_dict: dict[str, Any], output: str, device: str, validate: bool, threads: int) -> dict[str, Any]:
    """Train one student in a worker process; return its saved training record.

    Validated students (the selection) keep only their metrics; final ones their weights,
    without the resumption checkpoints.
    """
    import shutil

    import torch

    from .distill import DistillConfig, distill, read_distill_info

    torch.set_num_threads(threads)
    distill(DistillConfig.from_dict(config_dict), output, device=device, validate=validate, save_model=not validate)
    shutil.rmtree(Path(output) / "checkpoints", ignore_errors=True)
    return read_distill_info(output) or {}


def _run_jobs(jobs: list[tuple[dict[str, Any], str, bool]], device: str, workers: int,
              threads: int) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    if workers <= 1:
        return [_job(c, o, device, v, threads) for c, o, v in tqdm(jobs, desc="students", unit="student")]
    import multiprocessing

    out: list[dict[str, Any]] = [{} for _ in jobs]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_job, c, o, device, v, threads): i for i, (c, o, v) in enumerate(jobs)}
        for f in tqdm(as_completed(futures), total=len(jobs), desc="students", unit="student"):
            out[futures[f]] = f.result()
    return out


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from .trec import atomic_write

    with atomic_write(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def select(grid: dict[str, Any], output_dir: Path, languages: Sequence[str], device: str = "cpu",
           workers: int = 1, threads: int = 2) -> dict[str, Any]:
    """Train every variant with holdout and validation; return the selection per method."""
    names = [(v, lang) for v in grid["variants"] for lang in languages]
    jobs = [(_config(grid, v, lang, holdout=True).to_dict(), str(output_dir / "select" / v / lang), True)
            for v, lang in names]
    infos = _run_jobs(jobs, device, workers, threads)
    rows = []
    for (variant, lang), info in zip(names, infos, strict=True):
        method = (grid["variants"][variant] or {}).get("method", grid["base"].get("method", "optical"))
        for h in info.get("history", []):
            rows.append([variant, method, lang, h["epoch"], h.get("val_AP"), round(h["loss"], 6), h["seconds"]])
    _write_csv(output_dir / "validation.csv", ["variant", "method", "lang", "epoch", "val_AP", "loss", "seconds"],
               rows)
    mean: dict[tuple[str, str, int], list[float]] = {}
    for variant, method, _, epoch, val, _, _ in rows:
        mean.setdefault((method, variant, epoch), []).append(val)
    selected: dict[str, Any] = {}
    for (method, variant, epoch), vals in sorted(mean.items()):
        if len(vals) != len(languages):
            continue
        score = sum(vals) / len(vals)
        if method not in selected or score > selected[method]["val_AP"]:
            selected[method] = {"variant": variant, "epochs": epoch, "val_AP": round(score, 4),
                                "settings": grid["variants"][variant]}
    from .trec import atomic_write

    with atomic_write(output_dir / "selected.json") as f:
        json.dump({"languages": list(languages), "base": grid["base"], "selected": selected}, f, indent=2)
        f.write("\n")
    return selected


ABLATIONS = ("token-uniform", "token-position")


def with_ablations(selected: dict[str, Any]) -> dict[str, Any]:
    """Add the token-level ablations that the selection lacks: OPTICAL's selected setting
    with the method (the transport plan) replaced, so only the alignment differs."""
    out = dict(selected)
    if "optical" in selected:
        for method in ABLATIONS:
            out.setdefault(method, {**selected["optical"], "method": method, "mirrors": "optical", "val_AP": None})
    return out


TEST_DATASET = "optical-ir/ntrex/{lang}-en/test"
"""Where the final students are tested by default (``{lang}``: the query language)."""


def final(grid: dict[str, Any], selected: dict[str, Any], output_dir: Path, languages: Sequence[str],
          first_stage_dir: str | None = None, device: str = "cpu", workers: int = 1, threads: int = 2,
          teacher_ceiling: bool = True, run_suffix: str = ".trec", dataset: str = TEST_DATASET) -> Path:
    """Train each method's selected setting on all the bitext; write test runs and results.csv.

    ``dataset`` is the test collection (``{lang}`` is filled in). A run that exists and is
    newer than its student is evaluated, not made again, so that a rerun (one call per
    condition in ``reproduce/conditions.yaml``) encodes each student's queries once.
    """
    from .collections import load
    from .dense import exact_search, rerank_vectors
    from .distill import _passage_vectors
    from .encoders import DenseEncoder
    from .evaluate import evaluate
    from .trec import atomic_write, read_run, write_run

    selected = with_ablations(selected)
    with atomic_write(output_dir / "final.json") as f:
        json.dump({"languages": list(languages), "base": grid["base"], "trained": selected}, f, indent=2)
        f.write("\n")
    jobs, names = [], []
    for method, sel in sorted(selected.items()):
        for lang in languages:
            config = _config(grid, sel["variant"], lang, holdout=False, epochs=sel["epochs"], method=method)
            jobs.append((config.to_dict(), str(output_dir / "final" / method / lang), False))
            names.append((method, lang))
    _run_jobs(jobs, device, workers, threads)

    runs_dir = output_dir / "runs"
    rows = []
    from .distill import DistillConfig

    teacher_name = grid["base"].get("teacher", DistillConfig.teacher)
    teacher = DenseEncoder(teacher_name, device=device)

    def path_of(condition: str, lang: str) -> Path:
        return runs_dir / f"{condition}.{lang}{run_suffix}"

    def score(run: dict[str, dict[str, float]] | None, condition: str, lang: str, dataset: str) -> None:
        path = path_of(condition, lang)
        if run is not None:
            write_run(run, path, condition)
        ev = evaluate(path, dataset)  # the run as written (scores at 6 decimals), as anyone re-evaluating it
        rows.extend([condition, lang, m, round(v, 4), ev.n_queries] for m, v in ev.aggregates.items())

    def done(paths: Sequence[Path], model: str) -> bool:
        """The runs exist and are newer than the model (a student retrained since is run again)."""
        info = Path(model, "optical_ir-distill.json")
        made = info.stat().st_mtime if info.is_file() else 0.0
        return all(p.is_file() and p.stat().st_mtime >= made for p in paths)

    students: dict[tuple[str, str], str] = {name: out for name, (_, out, _) in zip(names, jobs, strict=True)}
    for lang in languages:
        test = dataset.format(lang=lang)
        topics = [(q.query_id, q.default_text()) for q in load(test).queries_iter()]
        qids = [q for q, _ in topics]
        first = None
        for name in (f"bm25.{lang}.trec", f"bm25.{lang}.trec.gz"):
            if first_stage_dir and Path(first_stage_dir, name).is_file():
                first = read_run(Path(first_stage_dir, name))
        # zero-shot: the teacher's own query side, when the teacher is the multilingual student's start
        same = teacher_name == grid["base"].get("student", DistillConfig.student)
        models = [("zeroshot", teacher_name)] if same else []
        models += [(CONDITION[m], students[(m, lang)]) for m, _ in sorted(selected.items())]
        for suffix, model in models:
            conditions = [f"dense-{suffix}"] + ([f"rerank-{suffix}"] if first is not None else [])
            if done([path_of(c, lang) for c in conditions], model):
                for condition in conditions:
                    score(None, condition, lang, test)
                continue
            docids, docs = _passage_vectors(teacher, test)  # encoded once per process
            encoder = teacher if model == teacher_name else DenseEncoder(model, device=device)
            queries = encoder.encode([t for _, t in topics], "query")
            score(exact_search(qids, queries, docids, docs, hits=100), f"dense-{suffix}", lang, test)
            if first is not None:
                score(rerank_vectors(first, qids, queries, docids, docs, 100), f"rerank-{suffix}", lang, test)
    if teacher_ceiling:
        test = dataset.format(lang="en")
        docids, docs = _passage_vectors(teacher, test)
        topics = [(q.query_id, q.default_text()) for q in load(test).queries_iter()]
        queries = teacher.encode([t for _, t in topics], "query")
        score(exact_search([q for q, _ in topics], queries, docids, docs, hits=100), "english", "en", test)
    _write_csv(output_dir / "results.csv", ["condition", "lang", "measure", "value", "n_queries"], rows)
    return output_dir / "results.csv"


def main(argv: Sequence[str] | None = None) -> int:
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
    parser.add_argument("--dataset", default=TEST_DATASET, help="test collection of the final students ({lang}: the "
                        "query language; a collection without {lang} needs one language)")
    parser.add_argument("--ceiling", action=argparse.BooleanOptionalAction, default=True,
                        help="also run the teacher on the English queries (the collection's en-en form)")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--workers", type=int, default=None, help="students trained at once (processes; default: "
                        "4 on a GPU, 1 on a CPU)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads per worker")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    if args.workers is None:
        args.workers = 1 if args.device == "cpu" else 4
    if args.workers < 1 or args.threads < 1:
        parser.error("--workers and --threads must be positive")
    grid = read_grid(args.grid)
    from .languages import canonical

    languages = [canonical(x) for x in (args.languages or grid.get("languages") or [])]
    if not languages:
        parser.error("no languages: give --languages or list them in the grid")
    if "{lang}" not in args.dataset and (len(languages) > 1 or args.ceiling):
        parser.error(f"--dataset {args.dataset} names one collection: put {{lang}} in it, or give one language "
                     f"and --no-ceiling")
    out = Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    start = time.time()
    if args.selected:
        selected = json.loads(Path(args.selected).read_text(encoding="utf-8"))["selected"]
        missing = sorted({s["variant"] for s in selected.values()} - set(grid["variants"]))
        if missing:
            raise ValueError(f"{args.selected} selects variants {missing} that {args.grid} does not define")
    else:
        selected = select(grid, out, languages, args.device, args.workers, args.threads)
    for method, sel in selected.items():
        print(f"{method}: {sel['variant']} for {sel['epochs']} epochs (dev MAP {sel['val_AP']:.4f})", file=sys.stderr)
    if args.final or args.selected:
        final(grid, selected, out, languages, args.first_stage_dir, args.device, args.workers, args.threads,
              teacher_ceiling=args.ceiling, run_suffix=args.run_suffix, dataset=args.dataset)
    print(f"done in {time.time() - start:.0f} s → {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "tune"))
