"""Typed experiment configurations: the reproduction config and the settings-search grid.

Both are validated by a schema (pydantic models that forbid unknown keys) before anything
runs. An error names the file, the key path (``collections.ntrex.conditions.bm25.expectd``)
and, for an unknown key, the keys allowed there. Beyond the types, a reproduction config is
checked for what the engine would otherwise ignore silently: a placeholder the engine does
not fill, a measure in ``expected`` that is not among ``measures``, a language in
``expected`` that the condition does not run, a name that cannot be a file name, a report
setting naming no condition.

:data:`PLACEHOLDERS` is the one list of what ``{…}`` may stand for in a condition's
commands; ``python -m optical_ir.reproduce --list-placeholders`` prints it.
"""

from __future__ import annotations

import os
import re
import string
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import DEVICE_FORMS, DEVICE_PATTERN, ConfigError

NAME = re.compile(r"[A-Za-z0-9._-]+")
"""Collection, condition and variant names: they become file names."""

PLACEHOLDERS: dict[str, str] = {
    "lang": "the query language of the job",
    "languages": "the languages of the condition whose runs this call makes (all of them on a first run or with "
                 "--force), one argument each (the token {languages} alone): for a command that makes what those "
                 "languages need in one call (e.g. tune --languages {languages} --test-languages {lang} trains their "
                 "students in one pool; its later jobs find them made, and adding languages trains the new ones only)",
    "run": "the run file the job writes, <runs-dir>/<collection>/<condition>.<lang><run_suffix>; the steps write "
           "it under a temporary name, renamed into place only when every step has succeeded",
    "condition": "the condition's name (the run tag)",
    "collection": "the collection's name",
    "dataset": "the condition's (else the collection's) dataset id, {lang} filled in",
    "topics": "the collection's topics (a file or a Pyserini topic set), {lang} filled in; in a collection with "
              "perturbations, the job's (perturbed) topics file, made by the engine",
    "variant": "in a collection with perturbations: the query set of the job, clean or <kind>-<rate>",
    "runs": "the collection's run directory, <runs-dir>/<collection> (to read earlier runs)",
    "cache": "$OPTICAL_IR_CACHE (models, students and topics that are never committed)",
    "device": "the device of a condition that declares one (its device:, or --device)",
    "env[NAME]": "the value of the environment variable NAME (list NAME under requires:)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Condition(_Strict):
    """One system: the command(s) that make its run, and the expected scores."""

    description: str = ""
    command: str | list[str]
    languages: list[str] | dict[str, list[str]] | None = None
    dataset: str | None = None
    device: str | None = None
    requires: list[str] = []
    tolerance: float | None = None
    rates: list[float] | None = None
    """With perturbations: only these of the collection's rates (fewer for slow conditions)."""
    expected: dict[str, dict[str, float | dict[str, float]]] = {}
    """measure → language → score; with perturbations, measure → language → variant → score."""

    def commands(self) -> list[str]:
        return self.command if isinstance(self.command, list) else [self.command]


class Perturbations(_Strict):
    """Perturbed query sets of a collection (:mod:`optical_ir.perturbation`): every condition
    runs on the clean queries and on each kind at each rate."""

    kinds: dict[str, list[str] | None]
    """kind → the languages it applies to (``null``: all of the collection's)."""
    rates: list[float] = [0.1, 0.2, 0.4]
    seed: int = 13
    sample: int | None = None
    """A seeded sample of this many queries (clean and perturbed runs alike); default: all."""
    table: str | None = None
    """The eflomal table directory of code-switching, ``{lang}`` filled in (default: the cache's)."""


class Collection(_Strict):
    """A collection: its dataset id (``{lang}`` is the query language), languages and conditions."""

    description: str = ""
    dataset: str | None = None
    topics: str | None = None
    qrels_source: str | None = None
    languages: list[str] | dict[str, list[str]]
    perturbations: Perturbations | None = None
    conditions: dict[str, Condition]


class Improvement(_Strict):
    system: str
    over: list[str]


class Scaling(_Strict):
    """Model-size scaling (:mod:`optical_ir.experiments.scaling`): the condition of each
    student size, per method, and each size's parameters (millions)."""

    parameters: dict[str, float]
    methods: dict[str, dict[str, str]]


class Across(_Strict):
    """The comparison across many languages (:mod:`optical_ir.experiments.across`)."""

    rank_by: str
    """The condition whose MAP orders the languages (the zero-shot encoder: where it knows a language)."""
    systems: list[str]
    pairs: list[tuple[str, str]] = []
    """``[system, baseline]`` pairs tested over languages (Wilcoxon signed-rank on per-language MAP)."""
    contests: list[tuple[str, str]] = []
    """``[a, b]`` pairs: which of the two wins on each language, and what (script, family, ``rank_by``'s
    MAP, the tokenizer's cut of the language) predicts it."""
    reference: list[str] = []
    """The languages the settings were chosen on (the default four): each pair is tested again on
    the other languages, to say whether what held on these holds beyond them."""
    tokenizer: str | None = None
    """An encoder whose tokenizer measures each language's queries against their English originals
    (tokens per English token, share of unknown tokens): candidate predictors of the contests."""
    english: str = "en"
    """The language of the originals (the collection's dataset with this ``{lang}``)."""


class ReportSettings(_Strict):
    """The tables' settings (:mod:`optical_ir.experiments.report`)."""

    baselines: list[str] = []
    alpha: float = 0.05
    ceiling: str | None = None
    improvement: Improvement | None = None
    plot: list[str] | None = None
    pairs: list[tuple[str, str]] | None = None
    """``[system, baseline]`` pairs tested head to head on each language and group (pooled)."""
    scaling: Scaling | None = None
    across: Across | None = None


class ReproductionConfig(_Strict):
    """A reproduction config (``reproduce/conditions.yaml``)."""

    measures: list[str] = ["AP", "nDCG@10", "R@100"]
    headline: str = "AP"
    run_suffix: str = ".trec"
    tolerance: float = 1e-4
    report: ReportSettings = ReportSettings()
    collections: dict[str, Collection]


class TuneGrid(_Strict):
    """A settings-search grid (``reproduce/tune.yaml``): DistillConfig fields shared and per variant."""

    languages: list[str] = []
    base: dict[str, Any] = {}
    variants: dict[str, dict[str, Any] | None] = {}


def _inner(annotation: Any) -> Any:
    """The model (or ``("dict", model)``) a field's annotation leads to, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _inner(arg)
            if found is not None:
                return found
    if origin is dict:
        found = _inner(typing.get_args(annotation)[1])
        return ("dict", found) if found is not None else None
    return None


def _allowed_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping at ``loc`` (below ``model``)."""
    current: Any = model
    for part in loc:
        if isinstance(current, tuple):
            current = current[1]
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)) or part not in current.model_fields:
            return []
        current = _inner(current.model_fields[part].annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _message(path: str | os.PathLike[str], model: type[BaseModel], err: ValidationError) -> str:
    lines = []
    for e in err.errors():
        loc = tuple(p for p in e["loc"] if not (isinstance(p, str) and ("[" in p or p in ("str", "list"))))
        key = ".".join(str(p) for p in loc) or "(top level)"
        if e["type"] == "extra_forbidden":
            allowed = _allowed_at(model, loc[:-1])
            lines.append(f"{key}: unknown key; allowed: {', '.join(allowed)}")
        elif e["type"] == "missing":
            lines.append(f"{key}: missing")
        else:
            lines.append(f"{key}: {e['msg']}")
    return f"{path}: " + "; ".join(dict.fromkeys(lines))


def parse(model: type[BaseModel], data: Any, path: str | os.PathLike[str]) -> Any:
    """``data`` validated as ``model``; :class:`ConfigError` naming the file and key paths."""
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level, not {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_message(path, model, err)) from None


def read_yaml(path: str | os.PathLike[str]) -> Any:
    import yaml

    p = Path(path)
    if not p.is_file():
        from ..errors import MissingInputError

        raise MissingInputError(f"no config file {p}")
    try:
        return yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"{p}: not valid YAML: {err}") from None


def placeholders(template: str) -> list[str]:
    """The field names of a ``str.format`` template, by their root (``env[X]`` → ``env``)."""
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as err:
        raise ConfigError(f"{template!r}: {err}") from None
    return [re.split(r"[.\[]", f, maxsplit=1)[0] for f in fields]


def variant_name(kind: str, rate: float) -> str:
    """The name of a query set: ``clean`` (kind ``none``, rate 0) or ``<kind>-<rate>``."""
    return "clean" if kind == "none" else f"{kind}-{float(rate):g}"


def split_variant(variant: str) -> tuple[str, float]:
    """``(kind, rate)`` of a query set's name; ``("none", 0.0)`` for ``clean``."""
    if variant == "clean":
        return "none", 0.0
    kind, rate = variant.rsplit("-", 1)
    return kind, float(rate)


def languages_of(langs: list[str] | dict[str, list[str]]) -> list[str]:
    return [x for g in langs.values() for x in g] if isinstance(langs, dict) else list(langs)


def check_reproduction(config: ReproductionConfig, path: str | os.PathLike[str]) -> None:
    """What the types cannot say (see the module text); :class:`ConfigError` naming the key path."""
    from ..evaluation import parse_measures
    from ..languages import get_language

    def fail(key: str, why: str) -> None:
        raise ConfigError(f"{path}: {key}: {why}")

    known = {p.split("[")[0] for p in PLACEHOLDERS}
    try:
        measures = {str(p): m for p, m in zip(parse_measures(config.measures), config.measures, strict=True)}
    except ConfigError as err:
        fail("measures", str(err))
    if config.run_suffix not in (".trec", ".trec.gz"):
        fail("run_suffix", f"{config.run_suffix!r}; choose .trec or .trec.gz")
    if config.headline not in measures.values() and config.headline not in measures:
        fail("headline", f"{config.headline!r} is not one of the measures {config.measures}")
    conditions = set()
    for cname, coll in config.collections.items():
        if not NAME.fullmatch(cname):
            fail(f"collections.{cname}", "a collection name is a file name: letters, digits, '.', '_', '-'")
        if not coll.dataset and not coll.topics:
            fail(f"collections.{cname}", "give a dataset (or topics)")
        for lang in languages_of(coll.languages):
            try:
                get_language(lang)
            except ConfigError as err:
                fail(f"collections.{cname}.languages", str(err).split(". Valid")[0])
        for name, cond in coll.conditions.items():
            key = f"collections.{cname}.conditions.{name}"
            conditions.add(name)
            if not NAME.fullmatch(name):
                fail(key, "a condition name is a file name: letters, digits, '.', '_', '-'")
            for i, command in enumerate(cond.commands()):
                for field in placeholders(command):
                    if field not in known:
                        fail(f"{key}.command" + (f"[{i}]" if isinstance(cond.command, list) else ""),
                             f"unknown placeholder {{{field}}}; the engine fills {', '.join(PLACEHOLDERS)}")
            if cond.rates is not None and (not coll.perturbations or set(cond.rates) - set(coll.perturbations.rates)):
                fail(f"{key}.rates", "a condition's rates must be among its collection's perturbations.rates")
            if "variant" in {f for c in cond.commands() for f in placeholders(c)} and not coll.perturbations:
                fail(f"{key}.command", "{variant} is filled only in a collection with perturbations")
            if cond.device is not None and not re.fullmatch(DEVICE_PATTERN, cond.device):
                fail(f"{key}.device", f"{cond.device!r} is not a device ({DEVICE_FORMS})")
            langs = set(languages_of(cond.languages if cond.languages is not None else coll.languages))
            for measure, per_lang in cond.expected.items():
                if measure not in measures:
                    fail(f"{key}.expected.{measure}",
                         f"not one of the measures {', '.join(measures)} (ir-measures names)")
                for lang, value in per_lang.items():
                    if str(lang) not in langs:
                        fail(f"{key}.expected.{measure}.{lang}",
                             f"the condition does not run {lang!r} (its languages: {', '.join(sorted(langs))})")
                    if isinstance(value, dict) != bool(coll.perturbations):
                        fail(f"{key}.expected.{measure}.{lang}", "with perturbations, give a score per variant "
                             "(clean, <kind>-<rate>); without, one score")
        if coll.perturbations:
            check_perturbations(coll.perturbations, languages_of(coll.languages), f"collections.{cname}", fail)
    report = config.report
    named = list(report.baselines) + ([report.ceiling] if report.ceiling else []) + (report.plot or [])
    if report.improvement:
        named += [report.improvement.system, *report.improvement.over]
    for name in named:
        if name not in conditions:
            fail("report", f"{name!r} is not a condition of any collection")
    if report.scaling:
        for method, by_size in report.scaling.methods.items():
            for size, name in by_size.items():
                if size not in report.scaling.parameters:
                    fail(f"report.scaling.methods.{method}.{size}",
                         f"no parameter count for size {size!r} in report.scaling.parameters")
                if name not in conditions:
                    fail(f"report.scaling.methods.{method}.{size}", f"{name!r} is not a condition of any collection")
        for cname, coll in config.collections.items():
            if not isinstance(coll.languages, dict) or not ({"low", "high"} <= set(coll.languages)
                                                            or set(coll.languages) == {"by-resource"}):
                fail(f"collections.{cname}.languages", "report.scaling needs the groups low and high (or by-resource)")


def check_perturbations(spec: Perturbations, languages: list[str], key: str, fail: Any) -> None:
    """Known kinds, rates in (0, 1], languages of the collection, a positive sample."""
    from ..perturbation import kinds

    for kind, langs in spec.kinds.items():
        if kind not in kinds():
            fail(f"{key}.perturbations.kinds.{kind}", f"unknown perturbation; choose from {', '.join(kinds())}")
        for lang in langs or []:
            if lang not in languages:
                fail(f"{key}.perturbations.kinds.{kind}", f"{lang!r} is not a language of the collection")
    if not spec.rates or any(not 0 < r <= 1 for r in spec.rates):
        fail(f"{key}.perturbations.rates", "give rates in (0, 1] (the clean queries are always run)")
    if spec.sample is not None and spec.sample < 1:
        fail(f"{key}.perturbations.sample", "a sample size is positive")


def load_reproduction(path: str | os.PathLike[str]) -> tuple[ReproductionConfig, dict[str, Any]]:
    """The validated config and the raw mapping (whose text decides which runs are stale)."""
    raw = read_yaml(path)
    if isinstance(raw, dict):  # top-level x-… keys hold YAML anchors (shared commands), as in compose files
        raw = {k: v for k, v in raw.items() if not str(k).startswith("x-")}
    config = parse(ReproductionConfig, raw, path)
    check_reproduction(config, path)
    return config, raw


def load_grid(path: str | os.PathLike[str]) -> TuneGrid:
    """A validated tune grid: every variant must make a valid DistillConfig."""
    from ..distillation import DistillConfig

    grid = parse(TuneGrid, read_yaml(path) or {}, path)
    if not grid.variants:
        raise ConfigError(f"{path}: variants: no variants")
    for name, overrides in grid.variants.items():
        if not NAME.fullmatch(name):
            raise ConfigError(f"{path}: variants.{name}: a variant name is a directory name: letters, digits, "
                              f"'.', '_', '-'")
        DistillConfig.from_dict({"languages": ["sw"], **grid.base, **(overrides or {})},
                                where=f"{path}: variants.{name}")
    return grid
