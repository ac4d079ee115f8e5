"""The settings search: grid checks, selection on dev only, final runs that re-evaluate to their results."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from optical_ir.evaluation import evaluate
from optical_ir.experiments.tuning import final, read_grid, select, training_mode, with_ablations

from .conftest import needs_mirror, tiny_bert

# MODEL: a random 2-layer BERT as teacher and student (conftest.tiny_bert), quick to train and
# to search with; these tests check the search over settings, not what a model learns
GRID = """
languages: [sw]
base: {teacher: MODEL, student: MODEL, max_pairs: 8, epochs: 2, batch_size: 4,
       max_length: 32, sinkhorn_iterations: 20, lr: 1.0e-4}
variants:
  mse: {method: mse}
  optical-a: {method: optical, eps: 0.05}
  optical-b: {method: optical, eps: 0.1, sentence_weight: 1.0}
"""


def _grid_text(tmp_path: Path) -> str:
    """GRID with a tiny random model made under ``tmp_path``."""
    return GRID.replace("MODEL", str(tiny_bert(tmp_path / "tiny")))


def _grid(tmp_path: Path, text: str | None = None) -> dict:
    path = tmp_path / "grid.yaml"
    path.write_text(_grid_text(tmp_path) if text is None else text)
    return read_grid(path)


def test_bad_grids_are_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no variants"):
        _grid(tmp_path, "languages: [sw]\n")
    with pytest.raises(ValueError, match="unknown method"):
        _grid(tmp_path, "variants:\n  x: {method: ot}\n")
    with pytest.raises(ValueError, match="unknown distillation settings"):
        _grid(tmp_path, "variants:\n  x: {method: mse, learning_rate: 1}\n")
    with pytest.raises(ValueError, match="epochs: unknown key; allowed: languages, base, variants"):
        _grid(tmp_path, "variants:\n  x: {method: mse}\nepochs: 3\n")


def test_ablations_mirror_the_optical_selection() -> None:
    sel = {"optical": {"variant": "v", "epochs": 3, "val_AP": 0.5, "settings": {"method": "optical", "eps": 0.1}}}
    out = with_ablations(sel)
    assert set(out) == {"optical", "token-uniform", "token-position"}
    assert out["token-uniform"]["variant"] == "v" and out["token-uniform"]["epochs"] == 3
    assert out["token-uniform"]["val_AP"] is None and out["token-position"]["mirrors"] == "optical"
    assert with_ablations({"mse": {"variant": "m"}}) == {"mse": {"variant": "m"}}


def test_training_mode_scales_every_learning_rate_and_sets_the_mode(tmp_path: Path) -> None:
    grid = _grid(tmp_path, GRID.replace("MODEL", "all-MiniLM-L6-v2") + "  mse-fast: {method: mse, lr: 3.0e-4}\n")
    cpu = training_mode(grid, train_layers=9, precision="bf16", lr_scale=2)
    assert cpu["base"]["lr"] == pytest.approx(2e-4) and cpu["variants"]["mse-fast"]["lr"] == pytest.approx(6e-4)
    assert cpu["base"]["train_layers"] == 9 and cpu["base"]["precision"] == "bf16"
    assert "lr" not in cpu["variants"]["mse"]  # it takes the scaled base rate
    assert grid["base"]["lr"] == pytest.approx(1e-4) and grid["variants"]["mse-fast"]["lr"] == pytest.approx(3e-4)
    assert training_mode(grid) == grid
    with pytest.raises(ValueError, match="lr_scale must be positive"):
        training_mode(grid, lr_scale=0)


@needs_mirror
@pytest.mark.java
def test_select_on_dev_then_final_runs(tmp_path: Path) -> None:
    grid = _grid(tmp_path)
    selected = select(grid, tmp_path, ["sw"], track=["dev-small"])
    rows = list(csv.DictReader(open(tmp_path / "validation.csv")))
    assert len(rows) == 3 * 2  # variants × epochs
    assert all(0 <= float(r["dev-small_AP"]) <= 1 for r in rows)  # tracked, not selected on
    agreement = json.loads((tmp_path / "selected.json").read_text())["rank_agreement"]
    assert agreement["candidates"] == 6 and -1 <= agreement["dev-small"]["kendall_tau"] <= 1
    best = max((r for r in rows if r["method"] == "optical"), key=lambda r: float(r["val_AP"]))
    assert selected["optical"]["variant"] == best["variant"] and selected["optical"]["epochs"] == int(best["epoch"])
    assert json.loads((tmp_path / "selected.json").read_text())["selected"] == selected
    # tested on the 186 dev-small queries (quick), reranking a BM25 first stage made here
    from optical_ir.indexes import lucene_index
    from optical_ir.retrieval import Bm25Searcher
    from optical_ir.topics import dataset_queries
    from optical_ir.trec import write_run

    dev = "optical-ir/ntrex/{lang}-en/dev-small"
    first_stage = tmp_path / "first-stage"
    sw_dev = dev.format(lang="sw")
    bm25 = Bm25Searcher(lucene_index(sw_dev), "sw").batch_search(dataset_queries(sw_dev), 100)
    write_run(bm25.run, first_stage / "bm25.sw.trec", "bm25")
    results = final(grid, selected, tmp_path, ["sw"], str(first_stage), teacher_ceiling=False, dataset=dev)
    got = {(r["condition"], r["measure"]): float(r["value"]) for r in csv.DictReader(open(results))}
    expected = {"dense-zeroshot", "dense-msekd", "dense-optical", "dense-tokkd", "dense-tokkd-position"}
    expected |= {c.replace("dense", "rerank") for c in expected}
    assert {c for c, _ in got} == expected
    for condition in expected:  # honest: each run re-evaluates to its row
        ev = evaluate(tmp_path / "runs" / f"{condition}.sw.trec", dev.format(lang="sw"))
        assert ev.aggregates["AP"] == pytest.approx(got[(condition, "AP")], abs=1e-4)
    assert (tmp_path / "final" / "optical" / "sw" / "model.safetensors").is_file()
    assert not (tmp_path / "final" / "optical" / "sw" / "checkpoints").exists()


@needs_mirror
def test_tune_cli_trains_the_top_layers_and_searches_by_maxsim(tmp_path: Path) -> None:
    """The CPU mode of the reproduction: --train-layers reaches every student's settings,
    --late-interaction adds a MaxSim run of each student (and of the zero-shot teacher)."""
    from optical_ir.distillation import read_distill_info
    from optical_ir.tune import main

    (tmp_path / "grid.yaml").write_text(_grid_text(tmp_path))
    selected = {"languages": ["sw"], "selected": {
        "mse": {"variant": "mse", "epochs": 1, "val_AP": 0.1, "settings": {"method": "mse"}},
        "optical": {"variant": "optical-a", "epochs": 1, "val_AP": 0.1, "settings": {"method": "optical"}}}}
    (tmp_path / "selected.json").write_text(json.dumps(selected))
    dev = "optical-ir/ntrex/sw-en/dev-small"
    out = tmp_path / "out"
    assert main(["--grid", str(tmp_path / "grid.yaml"), "--selected", str(tmp_path / "selected.json"),
                 "--languages", "sw", "--dataset", dev, "--no-ceiling", "--output-dir", str(out),
                 "--train-layers", "1", "--precision", "bf16", "--lr-scale", "2", "--late-interaction",
                 "--name-suffix=-cpu"]) == 0
    got = {(r["condition"], r["measure"]): float(r["value"]) for r in csv.DictReader(open(out / "results.csv"))}
    suffixes = {"zeroshot", "msekd", "optical", "tokkd", "tokkd-position"}
    assert {c for c, _ in got} == {f"{kind}-{s}-cpu" for kind in ("dense", "maxsim") for s in suffixes}
    for method in ("mse", "optical", "token-uniform", "token-position"):
        config = read_distill_info(out / "final" / method / "sw")["config"]
        assert config["train_layers"] == 1 and config["precision"] == "bf16"
        assert config["lr"] == pytest.approx(2e-4)  # the grid's 1e-4, scaled
    assert json.loads((out / "final.json").read_text())["base"]["train_layers"] == 1
    for condition in ("maxsim-optical-cpu", "maxsim-zeroshot-cpu"):  # each run re-evaluates to its row
        ev = evaluate(out / "runs" / f"{condition}.sw.trec", dev)
        assert open(out / "runs" / f"{condition}.sw.trec").readline().split()[-1] == condition  # the run tag
        assert ev.aggregates["AP"] == pytest.approx(got[(condition, "AP")], abs=1e-4)
    # the dense run reuses the pooled vectors of the MaxSim encoding: the ranking a dense search makes
    from optical_ir.encoders import DenseEncoder
    from optical_ir.retrieval import ExactDenseSearcher
    from optical_ir.topics import dataset_queries
    from optical_ir.trec import read_run

    teacher = DenseEncoder(tmp_path / "tiny")  # the grid's teacher
    student = DenseEncoder(str(out / "final" / "optical" / "sw"))
    searched = ExactDenseSearcher.from_dataset(student, teacher, dev).batch_search(dataset_queries(dev), 100).run
    written = read_run(out / "runs" / "dense-optical-cpu.sw.trec")
    assert written.keys() == searched.keys()
    for qid, hits in searched.items():
        assert written[qid] == pytest.approx(hits, abs=2e-6), qid
    # --no-zeroshot: the students trained above are tested again without the teacher's runs
    assert main(["--grid", str(tmp_path / "grid.yaml"), "--selected", str(tmp_path / "selected.json"),
                 "--languages", "sw", "--dataset", dev, "--no-ceiling", "--output-dir", str(out), "--methods", "mse",
                 "--train-layers", "1", "--precision", "bf16", "--lr-scale", "2", "--late-interaction",
                 "--no-zeroshot", "--name-suffix=-b"]) == 0
    assert {r["condition"] for r in csv.DictReader(open(out / "results.csv"))} == {"dense-msekd-b", "maxsim-msekd-b"}


def test_final_trains_only_the_methods_asked_for(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--methods mse optical (the breadth config's students): the ablations are not trained."""
    from optical_ir.errors import ConfigError
    from optical_ir.experiments import tuning

    grid = _grid(tmp_path)
    selected = {"mse": {"variant": "mse", "epochs": 1, "val_AP": 0.1},
                "optical": {"variant": "optical-a", "epochs": 1, "val_AP": 0.1}}
    trained: list[str] = []

    def jobs(planned, *_args):  # what would be trained, then stop before any training
        trained.extend(config["method"] for config, _, _ in planned)
        raise KeyboardInterrupt

    monkeypatch.setattr(tuning, "_run_jobs", jobs)
    with pytest.raises(KeyboardInterrupt):
        final(grid, selected, tmp_path, ["sw", "so"], methods=["mse", "optical"])
    assert sorted(trained) == ["mse", "mse", "optical", "optical"]
    assert set(json.loads((tmp_path / "final.json").read_text())["trained"]) == {"mse", "optical"}
    with pytest.raises(ConfigError, match=r"--methods infonce: not selected \(the selection has mse, optical, "):
        final(grid, selected, tmp_path, ["sw"], methods=["mse", "infonce"])
    trained.clear()  # --test-languages: every language's students trained in one pool, whatever is tested
    with pytest.raises(KeyboardInterrupt):
        final(grid, selected, tmp_path, ["sw", "so"], methods=["mse"], test_languages=["so"])
    assert trained == ["mse", "mse"]
    with pytest.raises(ConfigError, match="--test-languages yo: not among --languages sw so"):
        final(grid, selected, tmp_path, ["sw", "so"], test_languages=["yo"])


def test_rank_agreement_is_kendalls_tau_over_the_candidates(tmp_path: Path) -> None:
    from scipy.stats import kendalltau

    from optical_ir.experiments.tuning import rank_agreement

    path = tmp_path / "validation.csv"
    # three candidates on two languages: dev ranks them a > b > c, test ranks them b > a > c
    lines = ["variant,method,lang,epoch,val_AP,loss,seconds,test_AP"]
    for variant, epoch, dev, test in (("a", 1, 0.6, 0.5), ("b", 1, 0.5, 0.7), ("c", 2, 0.1, 0.2)):
        lines += [f"{variant},mse,sw,{epoch},{dev},0,0,{test}", f"{variant},mse,so,{epoch},{dev + 0.1},0,0,{test}"]
    lines.append("d,mse,sw,1,0.9,0,0,0.9")  # a candidate on one language only: not comparable, left out
    path.write_text("\n".join(lines) + "\n")
    out = rank_agreement(path, ["sw", "so"])
    assert out["candidates"] == 3
    assert out["test"]["kendall_tau"] == pytest.approx(kendalltau([0.65, 0.55, 0.15], [0.5, 0.7, 0.2])[0], abs=1e-4)
    assert out["test"]["top_agrees"] is False and out["test"]["best_on_val"] == ["a", 1, 0.5]
    assert out["test"]["best_on_split"] == ["b", 1, 0.7]
