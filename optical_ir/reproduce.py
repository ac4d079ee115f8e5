"""Regenerate the TREC runs and MAP tables declared in a reproduction config (Pyserini 2CR style).

The config (``reproduce/conditions.yaml``) lists, per collection, the languages and the
conditions; each condition has the command that makes its run, or a list of commands run
in order (e.g. distil a student, then search with it), and optionally ``device: cuda``
(the device its commands run on, ``{device}`` in them; on a machine without a GPU its
committed runs are evaluated and checked, not remade, unless ``--device cpu`` runs them
on the CPU, which takes hours for the GPU students) and
``requires: [VAR]`` (it runs only when the environment variable is set, e.g. the NMT model;
``{env[VAR]}`` in its commands is the value); ``{lang}``, ``{run}``,
``{condition}``, ``{collection}``, ``{device}``, ``{dataset}``, ``{topics}`` (the collection's ``topics``: a file or a
Pyserini topic set), ``{runs}`` (the collection's run directory) and ``{cache}``
(``$OPTICAL_IR_CACHE``, for models that are never committed) are filled in; and,
optionally, the expected score per language with an absolute tolerance.
For every collection this writes into ``runs/<collection>/``:

* ``<condition>.<lang>.trec`` — the TREC run (run tag = condition; ``run_suffix: .trec.gz`` in
  the config writes and reads them gzip-compressed);
* ``results.csv`` — ``collection,condition,lang,measure,value,n_queries``;
* ``table.md``, ``table.tex``, ``significance.csv``, ``map.png`` — the paper-style tables
  (:mod:`optical_ir.report`): the headline measure, conditions × languages with low/high
  averages, significance markers, improvements and the gap to the English ceiling;
* ``config.yaml`` — the part of the config that produced them.

A run file that exists, made by a condition whose settings have not changed since, is not
made again (``--force`` redoes it); editing one condition remakes that condition's runs
only. Commands of the form ``python -m optical_ir.<verb> …`` run in this process (one JVM
for all); any other command runs as a subprocess.

Command line::

    python -m optical_ir.reproduce --config reproduce/conditions.yaml
        [--collections ntrex] [--conditions bm25] [--list-conditions]
        [--display-commands | --dry-run] [--check] [--force] [--runs-dir runs] [--device cpu]
"""

from __future__ import annotations

import csv
import importlib
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from . import cli
from .evaluate import DEFAULT_MEASURES, evaluate
from .languages import get_language
from .mirror import cache_dir
from .trec import atomic_write

RESULTS_FIELDS = ("collection", "condition", "lang", "measure", "value", "n_queries")


class Job(NamedTuple):
    collection: str
    condition: str
    lang: str
    dataset: str
    run: Path
    command: str
    """One command; several are joined by `` && ``."""
    device: str = "cpu"
    """``cuda``: the command needs a GPU; without one, an existing run is kept and checked."""


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a reproduction config."""
    import yaml

    config = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(config, dict) or not isinstance(config.get("collections"), dict):
        raise ValueError(f"{path}: expected a mapping with a 'collections' mapping")
    for name, coll in config["collections"].items():
        for key in ("languages", "conditions") if "topics" in coll else ("dataset", "languages", "conditions"):
            if key not in coll:
                raise ValueError(f"{path}: collection {name!r} has no {key!r}")
        for lang in _languages(coll):
            get_language(lang)  # unknown codes fail here, with the list of valid ones
        for cname, cond in coll["conditions"].items():
            if "command" not in cond:
                raise ValueError(f"{path}: condition {name}/{cname} has no 'command'")
    return config


def _languages(coll: dict[str, Any], cond: dict[str, Any] | None = None) -> list[str]:
    langs = (cond or {}).get("languages") or coll["languages"]
    if isinstance(langs, dict):
        return [lang for group in langs.values() for lang in group]
    return list(langs)


def missing_requirements(cond: dict[str, Any]) -> list[str]:
    """The environment variables a condition ``requires`` that are not set (it is skipped then);
    their values fill ``{env[NAME]}`` in its commands."""
    return [v for v in cond.get("requires", []) if not os.environ.get(v)]


def plan(config: dict[str, Any], runs_dir: Path, collections: Sequence[str] | None = None,
         conditions: Sequence[str] | None = None, device: str | None = None) -> list[Job]:
    """The jobs (one per condition and language) of the config. ``device`` replaces the
    ``device`` of the conditions that declare one (e.g. ``cpu`` to train GPU students on a CPU)."""
    jobs = []
    for cname, coll in config["collections"].items():
        if collections and cname not in collections:
            continue
        for name, cond in coll["conditions"].items():
            if (conditions and name not in conditions) or missing_requirements(cond):
                continue
            for lang in _languages(coll, cond):
                run = runs_dir / cname / f"{name}.{lang}{config.get('run_suffix', '.trec')}"
                dataset = cond.get("dataset", coll.get("dataset", "")).format(lang=lang)
                topics = str(coll.get("topics", "")).format(lang=lang)
                commands = cond["command"] if isinstance(cond["command"], list) else [cond["command"]]
                on = str((device or cond["device"]) if "device" in cond else "cpu")
                command = " && ".join(" ".join(c.split()).format(
                    lang=lang, run=run, condition=name, collection=cname, dataset=dataset, runs=runs_dir / cname,
                    cache=cache_dir(), env=os.environ, topics=topics, device=on) for c in commands)
                jobs.append(Job(cname, name, lang, dataset, run, command, on))
    return jobs


def execute(command: str) -> None:
    """Run one condition's command(s) (in-process for ``python -m optical_ir.<verb>``)."""
    if " && " in command:
        for part in command.split(" && "):
            execute(part)
        return
    argv = shlex.split(command)
    if len(argv) >= 3 and argv[:2] == ["python", "-m"] and argv[2].startswith("optical_ir."):
        status = importlib.import_module(argv[2]).main(argv[3:])
        if status:
            raise RuntimeError(f"command failed with status {status}: {command}")
    else:
        subprocess.run(argv, check=True)


def _config_text(config: dict[str, Any], collection: str) -> str:
    import yaml

    coll = dict(config["collections"][collection])
    # what makes the runs; the expected scores do not, so editing them remakes nothing
    coll["conditions"] = {name: {k: v for k, v in cond.items() if k != "expected"}
                          for name, cond in coll["conditions"].items()}
    part = {"measures": config.get("measures", list(DEFAULT_MEASURES)), "collections": {collection: coll}}
    return yaml.safe_dump(part, sort_keys=False, allow_unicode=True)


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _stale_conditions(saved: Path, text: str, collection: str, force: bool) -> set[str]:
    """Conditions whose runs must be remade: all with ``force`` or without a saved config;
    else those whose settings (or the collection's dataset and measures) changed since."""
    import yaml

    now = yaml.safe_load(text)
    names = set(now["collections"][collection]["conditions"])
    if force or not saved.is_file():
        return names
    before = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
    old = (before.get("collections") or {}).get(collection) or {}
    new = now["collections"][collection]
    if before.get("measures") != now.get("measures") or old.get("dataset") != new.get("dataset"):
        return names
    return {n for n in names if (old.get("conditions") or {}).get(n) != new["conditions"][n]}


def run_all(config: dict[str, Any], runs_dir: Path, jobs: Sequence[Job], force: bool = False) -> list[dict[str, Any]]:
    """Make the missing runs; then evaluate every run of the collections, write results.csv,
    the tables (``optical_ir.report``) and config.yaml."""
    for collection in dict.fromkeys(j.collection for j in jobs):
        out = runs_dir / collection
        text = _config_text(config, collection)
        saved = out / "config.yaml"
        stale = _stale_conditions(saved, text, collection, force)
        out.mkdir(parents=True, exist_ok=True)
        for job in (j for j in jobs if j.collection == collection):
            if job.device.startswith("cuda") and not _has_cuda():
                state = "kept (made on a GPU)" if job.run.is_file() else "MISSING: it needs a GPU (device: cuda)"
                print(f"[gpu] {job.run} {state}", file=sys.stderr)
                continue
            if job.condition in stale or not job.run.is_file():
                start = time.time()
                print(f"[run] {job.condition}.{job.lang}: {job.command}", file=sys.stderr)
                execute(job.command)
                print(f"[run] {job.condition}.{job.lang} done in {time.time() - start:.1f}s", file=sys.stderr)
            else:
                print(f"[skip] {job.run} exists", file=sys.stderr)
        with atomic_write(saved) as f:
            f.write(text)
    rows: list[dict[str, Any]] = []
    for collection in dict.fromkeys(j.collection for j in jobs):
        rows += report_collection(config, runs_dir, collection)
    return rows


def report_collection(config: dict[str, Any], runs_dir: Path, collection: str) -> list[dict[str, Any]]:
    """Evaluate every run of the collection's conditions that exists; write results.csv and
    the tables. Returns the result rows."""
    from .report import Report, write_all

    measures = config.get("measures", list(DEFAULT_MEASURES))
    headline = config.get("headline", "AP")
    coll = config["collections"][collection]
    out = runs_dir / collection
    rows: list[dict[str, Any]] = []
    per_query: dict[tuple[str, str], dict[str, float]] = {}
    for job in plan(config, runs_dir, [collection]):
        if not job.run.is_file():
            continue
        judged = str(coll.get("qrels_source", "")).format(lang=job.lang) or job.dataset
        ev = evaluate(job.run, judged, measures)
        rows += [{"collection": collection, "condition": job.condition, "lang": job.lang,
                  "measure": m, "value": round(v, 4), "n_queries": ev.n_queries} for m, v in ev.aggregates.items()]
        if headline in ev.per_query:
            per_query[(job.condition, job.lang)] = ev.per_query[headline]
    write_results(rows, out / "results.csv")
    scores = {(r["condition"], r["lang"]): r["value"] for r in rows if r["measure"] == headline}
    write_all(Report(coll, scores, per_query, config.get("report"), headline), out)
    return rows


def write_results(rows: Sequence[dict[str, Any]], path: Path) -> None:
    with atomic_write(path) as f:
        w = csv.DictWriter(f, RESULTS_FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def read_results(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [{**r, "value": float(r["value"]), "n_queries": int(r["n_queries"])} for r in csv.DictReader(f)]


def check(config: dict[str, Any], rows: Sequence[dict[str, Any]]) -> bool:
    """Compare measured scores with the config's expected ones; print [OK] / [FAIL]."""
    ok = True
    measured = {(r["collection"], r["condition"], r["lang"], r["measure"]): r["value"] for r in rows}
    for cname, coll in config["collections"].items():
        for name, cond in coll["conditions"].items():
            tol = float(cond.get("tolerance", config.get("tolerance", 1e-4)))
            for measure, per_lang in (cond.get("expected") or {}).items():
                for lang, want in per_lang.items():
                    got = measured.get((cname, name, str(lang), measure))
                    if got is None:
                        continue
                    good = abs(got - float(want)) <= tol
                    ok &= good
                    print(f"[{'OK' if good else 'FAIL'}] {cname} {name} {lang} {measure}: "
                          f"expected {float(want):.4f}, got {got:.4f} (diff {got - float(want):+.4f}, tol {tol})")
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("reproduce", __doc__)
    parser.add_argument("--config", default="reproduce/conditions.yaml", help="reproduction config")
    parser.add_argument("--runs-dir", default="runs", help="where runs and tables go")
    parser.add_argument("--collections", nargs="+", help="only these collections of the config")
    parser.add_argument("--conditions", nargs="+", help="only these conditions")
    parser.add_argument("--list-conditions", action="store_true", help="list collections and conditions")
    parser.add_argument("--display-commands", "--dry-run", action="store_true", dest="dry_run",
                        help="print the commands, run nothing")
    parser.add_argument("--check", action="store_true", help="compare with the expected scores")
    parser.add_argument("--force", action="store_true", help="remake runs that exist")
    parser.add_argument("--device", help="run the conditions that declare a device (device: cuda) on this one "
                        "instead, e.g. cpu (the GPU students then take hours)")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    config = load_config(args.config)
    if args.list_conditions:
        for cname, coll in config["collections"].items():
            for name, cond in coll["conditions"].items():
                print(f"{cname}\t{name}\t{','.join(_languages(coll, cond))}\t{cond.get('description', '')}")
        return 0
    for cname, coll in config["collections"].items():
        for name, cond in coll["conditions"].items():
            missing = missing_requirements(cond)
            if missing and (not args.collections or cname in args.collections):
                print(f"[skip] {cname} {name}: set {', '.join(missing)} to run it", file=sys.stderr)
    jobs = plan(config, Path(args.runs_dir), args.collections, args.conditions, args.device)
    if args.dry_run:
        for job in jobs:
            print(job.command)
        return 0
    start = time.time()
    rows = run_all(config, Path(args.runs_dir), jobs, args.force)
    for collection in dict.fromkeys(j.collection for j in jobs):
        print(f"\n## {collection}\n")
        print((Path(args.runs_dir) / collection / "table.md").read_text(encoding="utf-8"))
    print(f"finished in {time.time() - start:.0f}s", file=sys.stderr)
    if args.check and not check(config, rows):
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "reproduce"))
