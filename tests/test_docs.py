"""The docs show the results files' numbers: tables are generated, and no number is retyped wrong."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from optical_ir.experiments.docs import generate, loose_numbers, pages, render, update

ROOT = Path(__file__).resolve().parents[1]


def _known_numbers() -> set[str]:
    """Every four-decimal value the committed results and records hold."""
    found: set[str] = set()
    for path in [*ROOT.glob("runs/**/*.csv"), *ROOT.glob("reproduce/**/*.csv")]:
        with open(path, encoding="utf-8") as f:
            for row in csv.reader(f):
                for cell in row:
                    try:
                        found.add(f"{abs(float(cell)):.4f}")  # the docs write a sign apart (−, +)
                    except ValueError:
                        pass
    for path in ROOT.glob("runs/*/table.md"):
        found |= set(re.findall(r"0\.\d{4}", path.read_text(encoding="utf-8")))
    for path in ROOT.glob("benchmarks/*.json"):
        def walk(value: object) -> None:
            if isinstance(value, float):
                found.add(f"{value:.4f}")
            elif isinstance(value, dict):
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)
        walk(json.loads(path.read_text()))
    return found


def test_the_generated_tables_in_the_docs_are_up_to_date() -> None:
    stale = update(pages(ROOT), ROOT, check=True)
    assert not stale, f"run `python -m optical_ir.reproduce --docs`: out of date: {stale}"


def test_every_number_written_in_the_docs_is_in_the_results_files() -> None:
    known = _known_numbers()
    for page in pages(ROOT):
        wrong = [n for n in loose_numbers(page.read_text(encoding="utf-8")) if n not in known]
        assert not wrong, f"{page.name}: {wrong} are in no results file"


def test_the_readme_is_a_hub_and_the_docs_pages_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= 250
    for link in re.findall(r"\]\((docs/[^)#]+)", readme):
        assert (ROOT / link).is_file(), link
    for name in ("install", "data", "search", "translation", "distillation", "reproduction", "robustness", "training",
                 "architecture", "benchmarks", "results"):
        assert (ROOT / "docs" / f"{name}.md").is_file()


def test_include_blocks(tmp_path: Path) -> None:
    (tmp_path / "t.md").write_text("intro\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- one\n\n| c |\n|---|\n")
    (tmp_path / "r.csv").write_text("condition,lang,measure,value\nx,sw,AP,0.1\nx,de,AP,0.2\ny,sw,AP,0.3\n"
                                    "x,sw,R@100,0.9\n")
    assert generate("t.md table=2", tmp_path) == "| c |\n|---|\n"
    assert generate("t.md bullets", tmp_path) == "- one\n"
    (tmp_path / "k.md").write_text("| c | v |\n|---|---|\n| x | 1 |\n| y | 2 |\n| z | 3 |\n")
    assert generate("k.md table=1 keep=z,x", tmp_path) == "| c | v |\n|---|---|\n| x | 1 |\n| z | 3 |\n"
    with pytest.raises(ValueError, match=r"no rows \['w'\]"):
        generate("k.md table=1 keep=x,w", tmp_path)
    assert generate("r.csv rows=condition columns=lang value=value measure=AP", tmp_path) == (
        "| condition | sw | de |\n|---|---|---|\n| x | 0.1 | 0.2 |\n| y | 0.3 | – |\n")
    page = "a\n<!-- include t.md table=1 -->\nold\n<!-- end include -->\nb 0.1234\n"
    assert render(page, tmp_path) == "a\n<!-- include t.md table=1 -->\n| a | b |\n|---|---|\n| 1 | 2 |\n" \
                                     "<!-- end include -->\nb 0.1234\n"
    assert loose_numbers(render(page, tmp_path)) == ["0.1234"]
    with pytest.raises(FileNotFoundError):
        generate("missing.md", tmp_path)
