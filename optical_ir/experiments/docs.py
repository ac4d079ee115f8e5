"""Result tables in the documentation, generated from the results files, never retyped.

A Markdown page marks where a generated block goes::

    <!-- include runs/ntrex/table.md table=1 -->
    (generated: the first table of runs/ntrex/table.md)
    <!-- end include -->

    <!-- include reproduce/tune/h100/results.csv rows=condition columns=lang value=value measure=AP -->
    (generated: a pivot of the CSV, filtered on measure=AP)
    <!-- end include -->

The source ``placeholders`` gives the table of
:data:`~optical_ir.experiments.schema.PLACEHOLDERS`. A ``.md`` source gives its
``table=N``-th Markdown table (1-based; ``keep=a,b`` keeps only the rows whose first
cell is ``a`` or ``b``), its ``bullets`` (the lines that start with
``- ``), or the whole file; a ``.csv`` source gives a pivot table:
``rows`` and ``columns`` name columns of the CSV, ``value`` the cell, and every other
``key=value`` keeps the rows where that column has that value. :func:`render` fills every
block of a page; ``python -m optical_ir.reproduce --docs`` does it for the README and
``docs/``, and ``--docs --check`` (run by the tests) fails when a page is out of date.
:func:`loose_numbers` finds the four-decimal numbers written outside the blocks, which the
tests compare with the results files.
"""

from __future__ import annotations

import csv
import re
import shlex
from collections.abc import Iterable
from pathlib import Path

from ..errors import ConfigError, MissingInputError

BLOCK = re.compile(r"(<!-- include (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- end include -->)", re.S)
NUMBER = re.compile(r"(?<![\d.])0\.\d{4}(?!\d)")


def _tables(text: str) -> list[str]:
    tables, current = [], []
    for line in text.splitlines():
        if line.startswith("|"):
            current.append(line)
        elif current:
            tables.append("\n".join(current) + "\n")
            current = []
    if current:
        tables.append("\n".join(current) + "\n")
    return tables


def _pivot(path: Path, options: dict[str, str]) -> str:
    rows_key, cols_key, value_key = options.pop("rows"), options.pop("columns"), options.pop("value")
    with open(path, encoding="utf-8") as f:
        records = [r for r in csv.DictReader(f) if all(r.get(k) == v for k, v in options.items())]
    if not records:
        raise ConfigError(f"{path}: no rows where {options}")
    rows = list(dict.fromkeys(r[rows_key] for r in records))
    cols = list(dict.fromkeys(r[cols_key] for r in records))
    cell = {(r[rows_key], r[cols_key]): r[value_key] for r in records}
    out = ["| " + " | ".join([rows_key, *cols]) + " |", "|" + "---|" * (len(cols) + 1)]
    out += ["| " + " | ".join([row, *(cell.get((row, c), "–") for c in cols)]) + " |" for row in rows]
    return "\n".join(out) + "\n"


def generate(spec: str, root: Path) -> str:
    """The text of one include block (see the module text)."""
    words = shlex.split(spec)
    if not words:
        raise ConfigError("an include block names no file")
    if words[0] == "placeholders":  # the engine's own list (experiments.schema.PLACEHOLDERS)
        from .schema import PLACEHOLDERS

        rows = [f"| `{{{name}}}` | {what.replace('|', '/')} |" for name, what in PLACEHOLDERS.items()]
        return "\n".join(["| placeholder | stands for |", "|---|---|", *rows]) + "\n"
    path = root / words[0]
    if not path.is_file():
        raise MissingInputError(f"include: no file {path}")
    options = dict(w.split("=", 1) for w in words[1:] if "=" in w)
    flags = {w for w in words[1:] if "=" not in w}
    if path.suffix == ".csv":
        return _pivot(path, options)
    text = path.read_text(encoding="utf-8")
    if "table" in options:
        tables = _tables(text)
        n = int(options["table"])
        if not 1 <= n <= len(tables):
            raise ConfigError(f"include: {path} has {len(tables)} tables, not {n}")
        table = tables[n - 1]
        if "keep" in options:  # only these rows (by their first cell), in the table's order, under its header
            keep = set(options["keep"].split(","))
            lines = table.splitlines()
            found = {line.split("|")[1].strip() for line in lines[2:]}
            if keep - found:
                raise ConfigError(f"include: table {n} of {path} has no rows {sorted(keep - found)}")
            table = "\n".join(lines[:2] + [x for x in lines[2:] if x.split("|")[1].strip() in keep]) + "\n"
        return table
    if "bullets" in flags:
        return "".join(line + "\n" for line in text.splitlines() if line.startswith("- "))
    return text if text.endswith("\n") else text + "\n"


def render(text: str, root: Path) -> str:
    """``text`` with every include block filled from its source."""
    return BLOCK.sub(lambda m: m.group(1) + generate(m.group("spec"), root) + m.group(4), text)


def update(pages: Iterable[Path], root: Path, check: bool = False) -> list[Path]:
    """Fill the blocks of ``pages``; return those that changed (with ``check``: that would change)."""
    changed = []
    for page in pages:
        old = page.read_text(encoding="utf-8")
        new = render(old, root)
        if new != old:
            changed.append(page)
            if not check:
                page.write_text(new, encoding="utf-8")
    return changed


def loose_numbers(text: str) -> list[str]:
    """Four-decimal numbers (``0.4259``) written outside the include blocks."""
    return NUMBER.findall(BLOCK.sub("", text))


def pages(root: Path) -> list[Path]:
    """The README and the pages of ``docs/``."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]
