"""Write measured scores into a reproduction config as its ``expected`` scores.

``python -m optical_ir.reproduce --write-expected`` makes the missing runs, evaluates them
and writes, for each planned condition, an ``expected:`` block holding every measure of the
config for every language it has a result on, four decimals, as Pyserini's 2CR configs hold
theirs. A later ``--check`` then guards those numbers.

The config is edited as text, not dumped again: a YAML dump (PyYAML, or a round-trip
library) would reflow the folded commands and, with PyYAML, drop the comments that say why
a condition is there. Only each condition's ``expected:`` block is replaced (or added at the
end of the condition); every other line stays as it was, and the result is parsed back and
compared with the scores before it is written (atomically).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..files import atomic_write

WIDTH = 118
"""Longest line an ``expected:`` block is wrapped to."""

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[^\s#:][^:]*):(\s|$)")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _blank(line: str) -> bool:
    return not line.strip() or line.lstrip().startswith("#")


def _end(lines: list[str], start: int) -> int:
    """The line after the block whose key is at ``lines[start]`` (its trailing blank and
    comment lines excluded)."""
    level, i = _indent(lines[start]), start + 1
    while i < len(lines) and (_blank(lines[i]) or _indent(lines[i]) > level):
        i += 1
    while i - 1 > start and _blank(lines[i - 1]):
        i -= 1
    return i


def _child(lines: list[str], start: int, key: str) -> int | None:
    """The line of ``key:`` directly under the block at ``lines[start]``."""
    end = _end(lines, start)
    children = [i for i in range(start + 1, end) if not _blank(lines[i])]
    if not children:
        return None
    level = _indent(lines[children[0]])
    for i in children:
        m = _KEY.match(lines[i])
        if m and len(m["indent"]) == level and m["key"].strip() == key:
            return i
    return None


def _block(indent: int, values: Mapping[str, Mapping[str, float]]) -> list[str]:
    pad = " " * indent
    out = [f"{pad}expected:"]
    for measure, by_lang in values.items():
        head = f"{pad}  {measure}: {{"
        # non-breaking spaces keep "lang: value" on one line; textwrap breaks only at ", "
        items = ", ".join(f"{lang}:\xa0{v:.4f}" for lang, v in by_lang.items()) + "}"
        wrapped = textwrap.wrap(items, width=max(40, WIDTH - len(head)), break_long_words=False,
                                break_on_hyphens=False)
        wrapped = [w.replace("\xa0", " ") for w in wrapped]
        out.append(head + wrapped[0])
        out += [" " * len(head) + w for w in wrapped[1:]]
    return out


def set_expected(text: str, scores: Mapping[tuple[str, str], Mapping[str, Mapping[str, float]]]) -> str:
    """``text`` (a reproduction config) with the ``expected:`` block of each
    ``(collection, condition)`` of ``scores`` set to ``{measure: {lang: value}}``.

    Raises
    ------
    ConfigError
        When a collection or condition is not in the config.
    """
    import yaml

    lines = text.split("\n")
    # edits come after this line, so its index holds for every condition
    top = next((i for i, line in enumerate(lines) if line.startswith("collections:")), None)
    for (collection, condition), values in scores.items():
        coll = None if top is None else _child(lines, top, collection)
        conds = None if coll is None else _child(lines, coll, "conditions")
        at = None if conds is None else _child(lines, conds, condition)
        if at is None:
            raise ConfigError(f"no condition {collection}.{condition} in the config to write expected scores into")
        old = _child(lines, at, "expected")
        if old is not None:
            indent, start, stop = _indent(lines[old]), old, _end(lines, old)
        else:
            stop = _end(lines, at)
            indent = _indent(lines[at + 1]) if at + 1 < stop else _indent(lines[at]) + 2
            start = stop
        lines[start:stop] = _block(indent, values)
    new = "\n".join(lines)
    parsed = yaml.safe_load(new)
    for (collection, condition), values in scores.items():
        got = parsed["collections"][collection]["conditions"][condition]["expected"]
        want = {m: {lang: round(v, 4) for lang, v in by.items()} for m, by in values.items()}
        if got != want:  # the text edit went wrong: refuse rather than write a config that says otherwise
            raise ConfigError(f"writing the expected scores of {collection}.{condition} did not round-trip")
    return new


def write_expected(config_path: str | Path, rows: Iterable[Mapping[str, Any]], measures: Iterable[str],
                   pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Write the scores of ``rows`` (``results.csv`` rows) for the ``(collection,
    condition)`` ``pairs`` into the config at ``config_path``, ``measures`` in that order.
    Returns how many languages each condition got."""
    wanted = set(pairs)
    measures = list(measures)
    scores: dict[tuple[str, str], dict[str, dict[str, float]]] = {}
    for r in rows:
        key = (r["collection"], r["condition"])
        if key in wanted and r["measure"] in measures:
            by_measure = scores.setdefault(key, {m: {} for m in measures})
            by_measure[r["measure"]][r["lang"]] = float(r["value"])
    scores = {k: {m: by for m, by in v.items() if by} for k, v in scores.items()}
    path = Path(config_path)
    text = set_expected(path.read_text(encoding="utf-8"), scores)
    with atomic_write(path) as f:
        f.write(text)
    return {k: max(len(by) for by in v.values()) for k, v in scores.items()}
