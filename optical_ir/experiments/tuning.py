"""Choose distillation settings on held-out sentences, then train and test the chosen students.

A grid (YAML) names variants of :class:`~optical_ir.distillation.DistillConfig` and the
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
newer than its student is not made again, so a rerun resumes. The methods, the names of
their conditions (``dense-<condition>``) and which of them are ablations of another come
from the loss registry (:data:`optical_ir.distillation.LOSSES`); the test runs come from
the same searchers as every other run (:mod:`optical_ir.retrieval`).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from ..errors import ConfigError


def condition_of(method: str) -> str:
    """The condition suffix of a method's runs (``dense-<suffix>``, ``rerank-<suffix>``)."""
    from ..distillation import LOSSES

    return LOSSES[method].condition


def read_grid(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The grid file, checked (:func:`~optical_ir.experiments.schema.load_grid`), as a mapping."""
    from .schema import load_grid

    return load_grid(path).model_dump()


def training_mode(grid: dict[str, Any], train_layers: int | None = None, precision: str | None = None,
                  lr_scale: float = 1.0) -> dict[str, Any]:
    """The grid with every student trained in another mode: only the top ``train_layers``
    layers, in ``precision``, each variant's learning rate times ``lr_scale``.

    The CPU mode of the reproduction is ``train_layers=9, precision="bf16", lr_scale=2``:
    fewer trained parameters take a larger step (docs/training.md gives the measurements).
    """
    if not lr_scale > 0:
        raise ConfigError(f"lr_scale must be positive, not {lr_scale}")
    base = dict(grid["base"])
    if train_layers is not None:
        base["train_layers"] = train_layers
    if precision is not None:
        base["precision"] = precision
    variants = {name: dict(v or {}) for name, v in grid["variants"].items()}
    if lr_scale != 1.0:
        from ..distillation import DistillConfig

        base["lr"] = base.get("lr", DistillConfig.lr) * lr_scale
        for settings in variants.values():
            if "lr" in settings:
                settings["lr"] *= lr_scale
    return {**grid, "base": base, "variants": variants}


def _config(grid: dict[str, Any], variant: str, lang: str, **changes: Any) -> Any:
    from ..distillation import DistillConfig

    return DistillConfig.from_dict({**grid["base"], **(grid["variants"][variant] or {}), "languages": [lang],
                                    **changes})


def _job(config_dict: dict[str, Any], output: str, device: str, validate: bool, threads: int,
         track: Sequence[str] = ()) -> dict[str, Any]:
    """Train one student in a worker process; return its saved training record.

    Validated students (the selection) keep only their metrics; final ones their weights,
    without the resumption checkpoints.
    """
    import shutil

    import torch

    from ..distillation import DistillConfig, distill, read_distill_info

    torch.set_num_threads(threads)
    distill(DistillConfig.from_dict(config_dict), output, device=device, validate=validate, save_model=not validate,
            track=track)
    shutil.rmtree(Path(output) / "checkpoints", ignore_errors=True)
    return read_distill_info(output) or {}


def _run_jobs(jobs: list[tuple[dict[str, Any], str, bool]], device: str, workers: int,
              threads: int, track: Sequence[str] = ()) -> list[dict[str, Any]]:
    from tqdm.auto import tqdm

    if workers <= 1:
        return [_job(c, o, device, v, threads, track) for c, o, v in tqdm(jobs, desc="students", unit="student")]
    import multiprocessing

    out: list[dict[str, Any]] = [{} for _ in jobs]
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = {pool.submit(_job, c, o, device, v, threads, track): i for i, (c, o, v) in enumerate(jobs)}
        for f in tqdm(as_completed(futures), total=len(jobs), desc="students", unit="student"):
            out[futures[f]] = f.result()
    return out


def _write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from ..files import atomic_write

    with atomic_write(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        w.writerows(rows)


def select(grid: dict[str, Any], output_dir: Path, languages: Sequence[str], device: str = "cpu",
           workers: int = 1, threads: int = 2, track: Sequence[str] = ()) -> dict[str, Any]:
    """Train every variant with holdout and validation; return the selection per method.

    ``track`` names more NTREX splits (e.g. ``test``, ``dev-small``) that every candidate
    is scored on after each epoch too, for :func:`rank_agreement` alone: the selection reads
    the validation split only.
    """
    names = [(v, lang) for v in grid["variants"] for lang in languages]
    jobs = [(_config(grid, v, lang, holdout=True).to_dict(), str(output_dir / "select" / v / lang), True)
            for v, lang in names]
    infos = _run_jobs(jobs, device, workers, threads, track)
    rows = []
    for (variant, lang), info in zip(names, infos, strict=True):
        method = _config(grid, variant, lang).method
        for h in info.get("history", []):
            rows.append([variant, method, lang, h["epoch"], h.get("val_AP"), round(h["loss"], 6), h["seconds"],
                         *(h.get(f"{name}_AP") for name in track)])
    _write_csv(output_dir / "validation.csv", ["variant", "method", "lang", "epoch", "val_AP", "loss", "seconds",
                                               *(f"{name}_AP" for name in track)], rows)
    mean: dict[tuple[str, str, int], list[float]] = {}
    for variant, method, _, epoch, val, *_ in rows:
        mean.setdefault((method, variant, epoch), []).append(val)
    selected: dict[str, Any] = {}
    for (method, variant, epoch), vals in sorted(mean.items()):
        if len(vals) != len(languages):
            continue
        score = sum(vals) / len(vals)
        if method not in selected or score > selected[method]["val_AP"]:
            selected[method] = {"variant": variant, "epochs": epoch, "val_AP": round(score, 4),
                                "settings": grid["variants"][variant]}
    from ..files import atomic_write

    record: dict[str, Any] = {"languages": list(languages), "base": grid["base"], "selected": selected}
    if track:
        record["rank_agreement"] = rank_agreement(output_dir / "validation.csv", languages)
    with atomic_write(output_dir / "selected.json") as f:
        json.dump(record, f, indent=2)
        f.write("\n")
    return selected


def rank_agreement(validation_csv: str | os.PathLike[str], languages: Sequence[str]) -> dict[str, Any]:
    r"""How well the validation split ranks the candidates as each tracked split does.

    A candidate is a (variant, epoch); its score on a split is its MAP averaged over
    ``languages``. For each tracked split (a ``<split>_AP`` column of ``validation.csv``),
    Kendall's :math:`\tau_b` between the candidates' validation and tracked scores (scipy),
    its p-value, and whether the candidate best on validation is the best on the tracked
    split (``top_agrees``), with the tracked score of each split's own best.
    """
    from scipy.stats import kendalltau

    with open(validation_csv, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    splits = [c[: -len("_AP")] for c in (rows[0] if rows else {}) if c.endswith("_AP") and c != "val_AP"]
    columns = ["val", *splits]
    scores: dict[tuple[str, int], dict[str, list[float]]] = {}
    for r in rows:
        if r["lang"] in languages and r["val_AP"]:
            cell = scores.setdefault((r["variant"], int(r["epoch"])), {c: [] for c in columns})
            for c in columns:
                cell[c].append(float(r[f"{c}_AP"]))
    mean = {k: {c: sum(v) / len(v) for c, v in cols.items()} for k, cols in scores.items()
            if all(len(v) == len(languages) for v in cols.values())}
    out: dict[str, Any] = {"candidates": len(mean)}
    keys = sorted(mean)
    for split in splits:
        val, tracked = [mean[k]["val"] for k in keys], [mean[k][split] for k in keys]
        tau, p = kendalltau(val, tracked) if len(keys) > 1 else (float("nan"), float("nan"))
        by_val, by_tracked = max(keys, key=lambda k: mean[k]["val"]), max(keys, key=lambda k: mean[k][split])
        out[split] = {"kendall_tau": round(float(tau), 4), "p": float(p), "top_agrees": by_val == by_tracked,
                      "best_on_val": [by_val[0], by_val[1], round(mean[by_val][split], 4)],
                      "best_on_split": [by_tracked[0], by_tracked[1], round(mean[by_tracked][split], 4)]}
    return out


def with_ablations(selected: dict[str, Any]) -> dict[str, Any]:
    """Add the ablations that the selection lacks (the losses whose ``ablation_of`` names a
    selected method): that method's selected setting with only the method replaced, so only
    the alignment differs."""
    from ..distillation import LOSSES

    out = dict(selected)
    for method, cls in LOSSES.items():
        if cls.ablation_of in selected:
            out.setdefault(method, {**selected[cls.ablation_of], "method": method, "mirrors": cls.ablation_of,
                                    "val_AP": None})
    return out


TEST_DATASET = "optical-ir/ntrex/{lang}-en/test"
"""Where the final students are tested by default (``{lang}``: the query language)."""


def final(grid: dict[str, Any], selected: dict[str, Any], output_dir: Path, languages: Sequence[str],
          first_stage_dir: str | None = None, device: str = "cpu", workers: int = 1, threads: int = 2,
          teacher_ceiling: bool = True, run_suffix: str = ".trec", dataset: str = TEST_DATASET,
          late_interaction: bool = False, name_suffix: str = "", methods: Sequence[str] | None = None,
          test_languages: Sequence[str] | None = None, zeroshot: bool = True) -> Path:
    """Train each method's selected setting on all the bitext; write test runs and results.csv.

    ``dataset`` is the test collection (``{lang}`` is filled in). With ``late_interaction``
    each student (and the zero-shot teacher) also searches the teacher's token index of the
    collection by MaxSim (``maxsim-<condition>``, :mod:`optical_ir.retrieval.late`).
    ``name_suffix`` is appended to every condition's name (its runs' files and tags, e.g.
    ``dense-optical-cpu``), for students of another training mode. A run that exists and is
    newer than its student is evaluated, not made again, so that a rerun (one call per
    condition in ``reproduce/conditions.yaml``) encodes each student's queries once.
    ``methods`` keeps only those methods' students (default: every selected method and its
    ablations). ``test_languages`` (a subset of ``languages``) are the languages tested by
    this call: every language's students are trained (in one pool of ``workers``, which
    packs better than a call per language), only these are searched, so that a
    reproduction job per language trains them all once and searches its own. With
    ``late_interaction`` each model encodes the queries once, for its dense run (the pooled
    vectors) and its MaxSim run (the token vectors). ``zeroshot=False`` leaves out the
    zero-shot runs (the teacher's own query side; a reproduction makes them elsewhere).
    """
    from ..distillation import DistillConfig
    from ..encoders import DenseEncoder
    from ..evaluation import evaluate
    from ..files import atomic_write
    from ..retrieval import ExactDenseSearcher, LateInteractionSearcher, RerankSearcher
    from ..topics import dataset_queries, split_empty
    from ..trec import read_run, write_run

    selected = with_ablations(selected)
    unknown = sorted(set(test_languages or ()) - set(languages))
    if unknown:
        raise ConfigError(f"--test-languages {' '.join(unknown)}: not among --languages {' '.join(languages)}")
    if methods is not None:
        unknown = sorted(set(methods) - set(selected))
        if unknown:
            raise ConfigError(f"--methods {' '.join(unknown)}: not selected (the selection has "
                              f"{', '.join(sorted(selected))})")
        selected = {m: s for m, s in selected.items() if m in methods}
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
    teacher_name = grid["base"].get("teacher", DistillConfig.teacher)
    teacher = DenseEncoder(teacher_name, device=device)

    def path_of(condition: str, lang: str) -> Path:
        return runs_dir / f"{condition}{name_suffix}.{lang}{run_suffix}"

    def score(run: dict[str, dict[str, float]] | None, condition: str, lang: str, dataset: str) -> None:
        path = path_of(condition, lang)
        condition += name_suffix
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

    token_indexes: dict[str, Any] = {}

    def late(test: str, encoder: DenseEncoder) -> LateInteractionSearcher:
        """MaxSim of ``encoder``'s query tokens over the teacher's token index of ``test``."""
        if test not in token_indexes:
            from ..indexes import token_index
            from ..indexes.tokens import TokenIndex

            token_indexes[test] = TokenIndex(token_index(test, teacher))
        return LateInteractionSearcher(encoder, token_indexes[test])

    for lang in test_languages or languages:
        test = dataset.format(lang=lang)
        topics = dataset_queries(test) or []
        first = None
        for name in (f"bm25.{lang}.trec", f"bm25.{lang}.trec.gz"):
            if first_stage_dir and Path(first_stage_dir, name).is_file():
                first = read_run(Path(first_stage_dir, name))
        # zero-shot: the teacher's own query side, when the teacher is the multilingual student's start
        same = teacher_name == grid["base"].get("student", DistillConfig.student)
        models = [("zeroshot", teacher_name)] if same and zeroshot else []
        models += [(condition_of(m), students[(m, lang)]) for m, _ in sorted(selected.items())]
        for suffix, model in models:
            conditions = [f"dense-{suffix}"] + ([f"rerank-{suffix}"] if first is not None else []) \
                + ([f"maxsim-{suffix}"] if late_interaction else [])
            if done([path_of(c, lang) for c in conditions], model):
                for condition in conditions:
                    score(None, condition, lang, test)
                continue
            encoder = teacher if model == teacher_name else DenseEncoder(model, device=device)
            dense = ExactDenseSearcher.from_dataset(encoder, teacher, test)
            if late_interaction:  # one encoding of the queries: pooled vectors for dense, tokens for MaxSim
                todo, _ = split_empty(topics)
                qids = [q for q, _ in todo]
                query_tokens, pooled = encoder.encode_tokens([t for _, t in todo], "query", progress=True)
                score(dense.search_vectors(qids, pooled, 100), f"dense-{suffix}", lang, test)
            else:
                score(dense.batch_search(topics, 100).run, f"dense-{suffix}", lang, test)
            if first is not None:
                rerank = RerankSearcher(first, encoder, dense.docids, dense.vectors, depth=100)
                score(rerank.batch_search(topics).run, f"rerank-{suffix}", lang, test)
            if late_interaction:
                maxsim = late(test, encoder).search_tokens(qids, query_tokens, pooled, 100)
                score(maxsim, f"maxsim-{suffix}", lang, test)
    if teacher_ceiling:
        test = dataset.format(lang="en")
        english = ExactDenseSearcher.from_dataset(teacher, teacher, test)
        score(english.batch_search(dataset_queries(test) or [], 100).run, "english", "en", test)
    _write_csv(output_dir / "results.csv", ["condition", "lang", "measure", "value", "n_queries"], rows)
    return output_dir / "results.csv"
