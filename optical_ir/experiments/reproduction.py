"""Regenerate the TREC runs and MAP tables declared in a reproduction config (Pyserini 2CR style).

The config (``reproduce/conditions.yaml``; its schema is
:class:`~optical_ir.experiments.schema.ReproductionConfig`) lists, per collection, the
dataset, the languages grouped by resource level, and the conditions. Each condition has
the command that makes its run, or a list of commands run in order (e.g. distil a
student, then search with it); optionally ``device: cuda`` (on a machine without a GPU
its committed runs are evaluated and checked, not remade, unless ``--device cpu`` runs
them on the CPU), ``requires: [VAR]`` (it runs only when the environment variable is set),
and the expected score per measure and language with an absolute ``tolerance``. The
placeholders a command may hold are listed once, in
:data:`~optical_ir.experiments.schema.PLACEHOLDERS`; they are filled into each argument
after the command is split, so a value with spaces or quotes stays one argument.

For every collection this writes into ``runs/<collection>/``:

* ``<condition>.<lang>.trec`` — the TREC run (run tag = condition; ``run_suffix: .trec.gz``
  writes and reads them gzip-compressed). The steps write it under a temporary name; it
  is renamed into place only when all of them succeeded, so a failed condition leaves no
  run that a rerun would take for finished;
* ``results.csv`` — ``collection,condition,lang,measure,value,n_queries``;
* ``table.md``, ``table.tex``, ``significance.csv``, ``map.png`` — the paper-style tables
  (:mod:`optical_ir.experiments.report`); with ``report.across``, the comparison over the
  languages (:mod:`optical_ir.experiments.across`);
* ``config.yaml`` — the part of the config that produced them.

A run file that exists, made by a condition whose settings have not changed since, is not
made again (``force`` redoes it); editing one condition remakes that condition's runs
only, and adding a language to a condition makes that language's runs only (``{languages}``
then stands for the new languages: :func:`schedule`). Commands of
the form ``python -m optical_ir.<verb> …`` run in this process (one JVM for all); any
other command runs as a subprocess. ``check`` compares every expected
entry with the measured value, and one it cannot match is a failure naming its key path.
"""

from __future__ import annotations

import csv
import importlib
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence, Set
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import ConfigError, MismatchError, OpticalIRError, OutputError, StepError
from ..evaluation import evaluate
from ..files import atomic_write
from ..mirror import cache_dir
from .schema import (
    Collection,
    Condition,
    Perturbations,
    ReproductionConfig,
    languages_of,
    load_reproduction,
    placeholders,
    split_variant,
    variant_name,
)

RESULTS_FIELDS = ("collection", "condition", "lang", "measure", "value", "n_queries")


class Config(NamedTuple):
    """A validated reproduction config, with its raw mapping and where it came from."""

    model: ReproductionConfig
    raw: dict[str, Any]
    path: str


class Job(NamedTuple):
    collection: str
    condition: str
    lang: str
    dataset: str
    run: Path
    templates: tuple[str, ...]
    values: dict[str, Any]
    """Placeholder values, except ``run``."""
    device: str = "cpu"
    """``cuda``: the command needs a GPU; without one, an existing run is kept and checked."""
    variant: str = ""
    """In a collection with perturbations: ``clean`` or ``<kind>-<rate>`` (the run is
    ``<condition>.<lang>.<variant>``)."""

    @property
    def stem(self) -> str:
        """The run's name without its suffix."""
        return ".".join(x for x in (self.condition, self.lang, self.variant) if x)

    @property
    def label(self) -> str:
        """Collection, condition, language (and variant), for messages."""
        return " ".join(x for x in (self.collection, self.condition, self.lang, self.variant) if x)

    def argvs(self, run: Path | None = None) -> list[list[str]]:
        """Each step's argument list, the placeholders filled in after splitting (``run``: where to write)."""
        values = {**self.values, "run": str(run or self.run)}

        def fill(token: str) -> list[str]:
            if token == "{languages}":  # the one placeholder that stands for several arguments
                return list(values["languages"])
            if "languages" in placeholders(token):
                raise ConfigError(f"condition {self.condition}: {{languages}} must be an argument of its own "
                                  f"(it stands for one argument per language), not part of {token!r}")
            return [token.format(**values)]

        try:
            return [[arg for token in shlex.split(" ".join(t.split())) for arg in fill(token)] for t in self.templates]
        except (KeyError, IndexError, ValueError) as err:
            raise ConfigError(f"condition {self.condition} ({self.lang}): cannot fill {err} in its command") from None

    @property
    def command(self) -> str:
        """The steps as one shell-quoted line (`` && `` between steps)."""
        return " && ".join(shlex.join(argv) for argv in self.argvs())


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate a reproduction config (:func:`~optical_ir.experiments.schema.load_reproduction`)."""
    model, raw = load_reproduction(path)
    return Config(model, raw, str(path))


def missing_requirements(cond: Condition) -> list[str]:
    """The environment variables a condition ``requires`` that are not set (it is skipped then);
    their values fill ``{env[NAME]}`` in its commands."""
    return [v for v in cond.requires if not os.environ.get(v)]


def condition_languages(coll: Collection, cond: Condition) -> list[str]:
    return languages_of(cond.languages if cond.languages is not None else coll.languages)


def selected(config: Config, collections: Sequence[str] | None = None,
             conditions: Sequence[str] | None = None) -> Iterator[tuple[str, Collection, str, Condition]]:
    """``(collection name, collection, condition name, condition)`` of the chosen collections and
    conditions (all by default) whose required environment variables are set."""
    for cname, coll in config.model.collections.items():
        if collections and cname not in collections:
            continue
        for name, cond in coll.conditions.items():
            if (conditions and name not in conditions) or missing_requirements(cond):
                continue
            yield cname, coll, name, cond


def plan(config: Config, runs_dir: Path, collections: Sequence[str] | None = None,
         conditions: Sequence[str] | None = None, device: str | None = None) -> list[Job]:
    """The jobs (one per condition and language) of the config. ``device`` replaces the
    ``device`` of the conditions that declare one (e.g. ``cpu`` to train GPU students on a CPU).
    ``{languages}`` is every language of the condition here; :func:`schedule` narrows it to
    those whose runs a call makes."""
    jobs = []
    root = runs_dir.resolve()
    for cname, coll, name, cond in selected(config, collections, conditions):
        languages = condition_languages(coll, cond)
        for lang in languages:
            dataset = (cond.dataset or coll.dataset or "").format(lang=lang)
            on = str((device or cond.device) if cond.device else "cpu")
            values = {"lang": lang, "languages": tuple(languages), "condition": name, "collection": cname,
                      "dataset": dataset, "runs": str(runs_dir / cname), "cache": str(cache_dir()), "env": os.environ,
                      "topics": (coll.topics or "").format(lang=lang), "device": on}
            spec = coll.perturbations
            for variant in variants(spec, lang, cond.rates) if spec else [""]:
                job = Job(cname, name, lang, dataset, Path(), tuple(cond.commands()), values, on, variant)
                run = runs_dir / cname / f"{job.stem}{config.model.run_suffix}"
                if root not in run.resolve().parents:
                    raise OutputError(f"{config.path}: the run of {cname}/{job.stem} would be written to {run}, "
                                      f"outside --runs-dir {runs_dir}")
                if spec:
                    sampled = sample_dataset(dataset, spec)
                    job = job._replace(dataset=sampled, values={
                        **values, "dataset": sampled, "variant": variant,
                        "topics": str(topics_file(runs_dir, cname, lang, variant))})
                jobs.append(job._replace(run=run))
    return jobs


def variants(spec: Perturbations, lang: str, rates: Sequence[float] | None = None) -> list[str]:
    """The query sets of a language: ``clean``, then ``<kind>-<rate>`` for each kind that
    applies to it and each rate (``rates``: a condition's subset)."""
    return ["clean"] + [variant_name(kind, rate) for kind, langs in spec.kinds.items() if langs is None or lang in langs
                        for rate in spec.rates if rates is None or rate in rates]


def sample_dataset(dataset: str, spec: Perturbations) -> str:
    """The dataset id of the collection's query sample (the dataset itself without one)."""
    from ..collections.derived import sample_id

    return dataset if spec.sample is None else sample_id(dataset, spec.sample, spec.seed)


def topics_file(runs_dir: Path, collection: str, lang: str, variant: str) -> Path:
    return runs_dir / collection / "topics" / f"{lang}.{variant}.tsv"


def make_topics(config: Config, runs_dir: Path, jobs: Sequence[Job]) -> None:
    """Write the (perturbed) topics files the jobs read, each once, with their provenance;
    files made before with the same provenance are kept (:func:`optical_ir.topics.write_derived`)."""
    from ..perturbation import get, perturb_topics, provenance
    from ..topics import load_topics, write_derived

    done: set[Path] = set()
    sources: dict[str, list[tuple[str, str]]] = {}  # the (sampled) queries of a dataset, loaded once
    for job in jobs:
        path = Path(job.values["topics"])
        if path in done:
            continue
        done.add(path)
        spec = config.model.collections[job.collection].perturbations
        assert spec is not None
        topics = sources.setdefault(job.dataset, load_topics(job.dataset))
        kind, rate = split_variant(job.variant)
        perturbation = None
        if kind != "none":
            table = spec.table.format(lang=job.lang) if spec.table and kind == "code-switch" else None
            print(f"[topics] python -m optical_ir.perturb --dataset {job.dataset} --kind {kind} --rate {rate:g} "
                  f"--seed {spec.seed}{f' --table {table}' if table else ''} --output {path}", file=sys.stderr)
            perturbation = get(kind, job.lang, table)
        texts = perturb_topics(topics, perturbation, rate, spec.seed, job.lang) if perturbation else topics
        write_derived(texts, provenance(perturbation, rate, spec.seed, job.lang, job.dataset, topics, texts), path)


def _step(argv: list[str]) -> None:
    """One step: in this process for ``python -m optical_ir.<verb>``, else a subprocess."""
    if len(argv) >= 3 and argv[:2] == ["python", "-m"] and argv[2].startswith("optical_ir."):
        try:
            status = importlib.import_module(argv[2]).main(argv[3:])
        except SystemExit as stop:  # argparse rejected the flags
            status = stop.code if isinstance(stop.code, int) else 2
        if status:
            raise StepError(f"exit status {status}")
    else:
        try:
            subprocess.run(argv, check=True)
        except (OSError, subprocess.CalledProcessError) as err:
            raise StepError(str(err)) from None


def execute(job: Job) -> None:
    """Run a job's steps, writing its run under a temporary name that becomes the run only
    when every step has succeeded."""
    suffix = job.run.name[len(job.stem):]  # the run suffix: .trec or .trec.gz
    tmp = job.run.with_name(f".{job.stem}.partial-{os.getpid()}{suffix}")
    job.run.parent.mkdir(parents=True, exist_ok=True)
    try:
        for i, argv in enumerate(job.argvs(tmp), 1):
            try:
                _step(argv)
            except OpticalIRError as err:
                raise StepError(f"{job.label}: step {i} of {len(job.templates)} "
                                f"failed ({err}): {shlex.join(argv)}") from None
        if not tmp.is_file():
            raise StepError(f"{job.label}: its steps wrote no run (the command "
                            f"must write {{run}})")
        os.replace(tmp, job.run)
    finally:
        if tmp.exists():
            tmp.unlink()


@cache
def _plain_dumper() -> Any:
    import yaml

    class PlainDumper(yaml.SafeDumper):
        """Writes a list the config shares by a YAML alias (``&students`` … ``*students``) in
        full at each place: the saved config reads alone, and its text does not depend on how
        the config spells it."""

        def ignore_aliases(self, data: Any) -> bool:
            return True

    return PlainDumper


def _config_text(raw: dict[str, Any], collection: str, leave_out: Set[str] = frozenset()) -> str:
    """The part of the config that makes the collection's runs, as saved with them; without the
    conditions ``leave_out`` (stale ones a run did not remake, so that they stay stale)."""
    import yaml

    coll = dict(raw["collections"][collection])
    # what makes the runs; the expected scores do not, so editing them remakes nothing
    coll["conditions"] = {name: {k: v for k, v in cond.items() if k != "expected"}
                          for name, cond in coll["conditions"].items() if name not in leave_out}
    part = {"measures": raw.get("measures", list(ReproductionConfig.model_fields["measures"].default)),
            "collections": {collection: coll}}
    return yaml.dump(part, Dumper=_plain_dumper(), sort_keys=False, allow_unicode=True)


def _has_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _stale_conditions(saved: Path, text: str, collection: str, force: bool) -> set[str]:
    """Conditions whose runs must be remade: all with ``force`` or without a saved config;
    else those whose settings (or the collection's dataset and measures) changed since. A
    condition's ``languages`` are not a setting of its runs: adding a language makes that
    language's run (it is missing) and keeps the others."""
    import yaml

    now = yaml.safe_load(text)
    names = set(now["collections"][collection]["conditions"])
    if force or not saved.is_file():
        return names
    before = yaml.safe_load(saved.read_text(encoding="utf-8")) or {}
    old = (before.get("collections") or {}).get(collection) or {}
    new = now["collections"][collection]
    if before.get("measures") != now.get("measures") or any(old.get(k) != new.get(k)
                                                            for k in ("dataset", "perturbations")):
        return names
    def settings(cond: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if cond is None else {k: v for k, v in cond.items() if k != "languages"}

    return {n for n in names if settings((old.get("conditions") or {}).get(n)) != settings(new["conditions"][n])}


class Plan(NamedTuple):
    """What a run of some jobs does to one collection (:func:`schedule`)."""

    collection: str
    outdated: set[str]
    """Conditions whose settings changed since the saved config.yaml."""
    saved_text: str
    """The config.yaml to save once the jobs have run: without the outdated conditions not planned."""
    actions: list[tuple[Job, str]]
    """Each job with ``make`` (its run is made), ``skip`` (it exists and is current) or ``gpu``
    (it needs a GPU this machine lacks); a job to make has ``{languages}`` narrowed to the
    languages of its condition whose runs are made."""


def schedule(config: Config, runs_dir: Path, jobs: Sequence[Job], force: bool = False) -> list[Plan]:
    """Decide, per collection, which jobs make their run: those of a condition that is stale
    (its settings changed, or ``force``) and those whose run is missing.

    ``{languages}`` of a job that makes its run stands for the languages of its condition
    whose runs this call makes, not for all of them: adding languages to a condition whose
    command pools its languages (``tune --languages {languages} --test-languages {lang}``)
    trains the new languages' students only. That is what the staleness rule already
    assumes: a condition's ``languages`` are not a setting of its runs, so a command must
    make each language's run independently of which others it makes alongside.
    """
    plans = []
    for collection in dict.fromkeys(j.collection for j in jobs):
        saved = runs_dir / collection / "config.yaml"
        # changed since the saved config; force is not a change
        outdated = _stale_conditions(saved, _config_text(config.raw, collection), collection, False)
        stale = set(config.raw["collections"][collection]["conditions"]) if force else outdated
        mine = [j for j in jobs if j.collection == collection]
        actions = []
        for job in mine:
            if job.device.startswith("cuda") and not _has_cuda():
                actions.append((job, "gpu"))
            else:
                actions.append((job, "make" if job.condition in stale or not job.run.is_file() else "skip"))
        making: dict[str, tuple[str, ...]] = {}
        for job, action in actions:
            if action == "make":
                making[job.condition] = tuple(dict.fromkeys((*making.get(job.condition, ()), job.lang)))
        actions = [(job._replace(values={**job.values, "languages": making[job.condition]}) if action == "make"
                    else job, action) for job, action in actions]
        planned = {j.condition for j in mine}
        plans.append(Plan(collection, outdated & planned if saved.is_file() else set(),
                          _config_text(config.raw, collection, leave_out=outdated - planned), actions))
    return plans


def run_all(config: Config, runs_dir: Path, jobs: Sequence[Job], force: bool = False) -> list[dict[str, Any]]:
    """Make the runs :func:`schedule` says to make; then evaluate every run of the collections,
    write results.csv, the tables (:mod:`optical_ir.experiments.report`) and config.yaml."""
    from ..files import check_writable

    check_writable(runs_dir, directory=True)
    for todo in schedule(config, runs_dir, jobs, force):
        out = runs_dir / todo.collection
        if todo.outdated:
            print(f"[stale] {todo.collection}: the settings of {', '.join(sorted(todo.outdated))} changed since "
                  f"{out / 'config.yaml'} was written; their runs are remade (--display-commands shows how)",
                  file=sys.stderr)
        out.mkdir(parents=True, exist_ok=True)
        if config.model.collections[todo.collection].perturbations:
            make_topics(config, runs_dir, [job for job, _ in todo.actions])
        for job, action in todo.actions:
            if action == "gpu":
                state = "kept (made on a GPU)" if job.run.is_file() else "MISSING: it needs a GPU (device: cuda)"
                print(f"[gpu] {job.run} {state}", file=sys.stderr)
            elif action == "make":
                start = time.time()
                print(f"[run] {job.stem}: {job.command}", file=sys.stderr)
                execute(job)
                print(f"[run] {job.stem} done in {time.time() - start:.1f}s", file=sys.stderr)
            else:
                print(f"[skip] {job.run} exists", file=sys.stderr)
        with atomic_write(out / "config.yaml") as f:
            f.write(todo.saved_text)
    rows: list[dict[str, Any]] = []
    for collection in dict.fromkeys(j.collection for j in jobs):
        rows += report_collection(config, runs_dir, collection)
    return rows


def report_collection(config: Config, runs_dir: Path, collection: str) -> list[dict[str, Any]]:
    """Evaluate every run of the collection's conditions that exists; write results.csv and
    the tables. Returns the result rows."""
    from .report import Report, write_all

    measures = config.model.measures
    headline = config.model.headline
    coll = config.model.collections[collection]
    out = runs_dir / collection
    rows: list[dict[str, Any]] = []
    per_query: dict[tuple[str, ...], dict[str, float]] = {}
    for job in plan(config, runs_dir, [collection]):
        if not job.run.is_file():
            continue
        judged = (coll.qrels_source or "").format(lang=job.lang) or job.dataset
        ev = evaluate(job.run, judged, measures)
        warning = ev.overlap_warning()
        if warning and ev.shared == 0:
            raise MismatchError(f"{job.run}: {warning} ({judged})")
        if warning:
            print(f"warning: {job.run}: {warning}", file=sys.stderr)
        extra = variant_columns(job.variant) if coll.perturbations else {}
        rows += [{"collection": collection, "condition": job.condition, "lang": job.lang,
                  "measure": m, "value": round(v, 4), "n_queries": ev.n_queries, **extra}
                 for m, v in ev.aggregates.items()]
        if headline in ev.per_query:
            per_query[(job.condition, job.lang, job.variant) if coll.perturbations else
                      (job.condition, job.lang)] = ev.per_query[headline]
    if coll.perturbations:
        from .robustness import write_robustness

        write_results(rows, out / "results.csv", RESULTS_FIELDS + ("perturbation", "rate"))
        write_robustness(coll, rows, per_query, config.model.report.model_dump(exclude_none=True), headline, out)
        return rows
    write_results(rows, out / "results.csv")
    scores = {(r["condition"], r["lang"]): r["value"] for r in rows if r["measure"] == headline}
    report = Report(coll.model_dump(), scores, per_query, config.model.report.model_dump(exclude_none=True), headline)
    write_all(report, out)
    if config.model.report.scaling:
        from .scaling import write_scaling

        write_scaling(report.groups, per_query, config.model.report.scaling.model_dump(), out)
    if config.model.report.across:
        from .across import write_across

        write_across(report.languages, scores, config.model.report.across.model_dump(), out, headline,
                     config.model.report.alpha, coll.dataset)
    return rows


def variant_columns(variant: str) -> dict[str, Any]:
    """``perturbation`` and ``rate`` of a variant (``none`` and 0 for the clean queries)."""
    kind, rate = split_variant(variant)
    return {"perturbation": kind, "rate": rate}


def write_results(rows: Sequence[dict[str, Any]], path: Path, columns: Sequence[str] = RESULTS_FIELDS) -> None:
    with atomic_write(path) as f:
        w = csv.DictWriter(f, columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def read_results(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as f:
        return [{**r, "value": float(r["value"]), "n_queries": int(r["n_queries"]),
                 **({"rate": float(r["rate"])} if "rate" in r else {})} for r in csv.DictReader(f)]


def check(config: Config, rows: Sequence[dict[str, Any]], collections: Sequence[str] | None = None,
          conditions: Sequence[str] | None = None) -> bool:
    """Compare measured scores with the config's expected ones; print [OK] / [FAIL].

    An expected entry without a measured value (its run is missing, or was not evaluated)
    is a [FAIL] naming its key path. ``collections`` and ``conditions`` restrict the check
    to those that were run.
    """
    ok = True
    measured = {(r["collection"], r["condition"], r["lang"],
                 variant_name(r["perturbation"], r["rate"]) if "perturbation" in r else "", r["measure"]): r["value"]
                for r in rows}
    for cname, _, name, cond in selected(config, collections, conditions):
        tol = cond.tolerance if cond.tolerance is not None else config.model.tolerance
        for measure, per_lang in cond.expected.items():
            for lang, value in per_lang.items():
                for variant, want in (value.items() if isinstance(value, dict) else [("", value)]):
                    where = " ".join(x for x in (cname, name, str(lang), variant, measure) if x)
                    key = ".".join(x for x in (measure, str(lang), variant) if x)
                    got = measured.get((cname, name, str(lang), variant, measure))
                    if got is None:
                        ok = False
                        print(f"[FAIL] {where}: expected {want:.4f}, but there is no result "
                              f"(collections.{cname}.conditions.{name}.expected.{key}: is the run missing?)")
                        continue
                    good = abs(got - float(want)) <= tol
                    ok &= good
                    print(f"[{'OK' if good else 'FAIL'}] {where}: "
                          f"expected {float(want):.4f}, got {got:.4f} (diff {got - float(want):+.4f}, tol {tol})")
    return ok

