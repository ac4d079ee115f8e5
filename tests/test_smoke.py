"""The smoke configuration: every condition of the reproduction runs end to end in a few minutes."""

from __future__ import annotations

from pathlib import Path

import pytest

from optical_ir.experiments.reproduction import load_config, read_results
from optical_ir.reproduce import main

from .conftest import ROOT, needs_mirror
from .test_translate import _tiny_marian

SMOKE = ROOT / "reproduce" / "smoke.yaml"


def test_smoke_exercises_every_condition_of_the_main_config() -> None:
    main_names = set()
    for coll in load_config(ROOT / "reproduce" / "conditions.yaml").model.collections.values():
        main_names |= set(coll.conditions)
    smoke = set(load_config(SMOKE).model.collections["smoke"].conditions)
    required = {"bm25", "bm25-qt", "bm25-psq", "nmt-bm25", "dense-zeroshot", "dense-msekd", "dense-tokkd",
                "dense-optical", "rerank-zeroshot", "rerank-optical", "english"}
    assert required <= smoke <= main_names


@needs_mirror
@pytest.mark.java
def test_smoke_reproduction(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTICAL_IR_NMT_MODEL", str(_tiny_marian(tmp_path / "marian", source_lang="swa")))
    runs = tmp_path / "runs"
    assert main(["--config", str(SMOKE), "--runs-dir", str(runs), "--check"]) == 0
    out = runs / "smoke"
    conditions = load_config(SMOKE).model.collections["smoke"].conditions
    for name, cond in conditions.items():
        for lang in cond.languages or ["sw"]:
            run = out / f"{name}.{lang}.trec"
            assert run.is_file(), run
            if name != "nmt-bm25":  # a random tiny Marian model translates into words BM25 does not find
                assert run.read_text().split("\n", 1)[0].split()[-1] == name  # run tag = condition
    rows = read_results(out / "results.csv")
    assert {(r["condition"], r["measure"]) for r in rows} >= {(c, "AP") for c in conditions}
    for name in ("table.md", "table.tex", "significance.csv", "map.png", "config.yaml"):
        assert (out / name).is_file()
    assert "dense-optical over bm25-qt" in (out / "table.md").read_text()
    # a second run makes nothing again
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.trec")}
    assert main(["--config", str(SMOKE), "--runs-dir", str(runs)]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.trec")} == before
