"""The bad-input probe of issue 14: each finding that gave a wrong result with exit 0, lost data,
or ended in a traceback, reproduced; now each is refused with a message that says what to fix."""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

import pytest
import yaml

from optical_ir import cli
from optical_ir.errors import ConfigError, DataFormatError, MismatchError, OutputError, StepError

from .conftest import interrupt_after_first_checkpoint, needs_mirror


def _verb(module: str, argv: list[str], capsys: pytest.CaptureFixture[str],
          monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """Run a verb as its command line would (one-line errors, exit 2); return (status, stderr)."""
    import importlib

    monkeypatch.delenv("OPTICAL_IR_DEBUG", raising=False)
    main = importlib.import_module(f"optical_ir.{module}").main
    status = cli.run(lambda: main(argv), module)
    return status, capsys.readouterr().err


# 1. resume ignored changed settings -------------------------------------------------------

def _tiny_config(**changes: object):  # noqa: ANN202
    from optical_ir.distillation import DistillConfig

    base = dict(languages=("sw",), method="mse", teacher="all-MiniLM-L6-v2", student="all-MiniLM-L6-v2",
                max_pairs=8, epochs=2, batch_size=4, max_length=16, lr=1e-4)
    return DistillConfig(**{**base, **changes})  # type: ignore[arg-type]


@needs_mirror
def test_1_resume_with_other_settings_is_refused_naming_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optical_ir.distillation import distill

    interrupt_after_first_checkpoint(monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        distill(_tiny_config(), tmp_path / "s")
    with pytest.raises(MismatchError, match=r"interrupted run of another configuration \(lr: 0.0001 there, 0.0002 "
                                            r"now\)"):
        distill(_tiny_config(lr=2e-4), tmp_path / "s")
    assert distill(_tiny_config(), tmp_path / "s") == tmp_path / "s"  # the same settings resume
    with pytest.raises(MismatchError, match=r"another configuration \(epochs: 2 there, 3 now"):
        distill(_tiny_config(epochs=3), tmp_path / "s")


# 2. --overwrite deleted any directory ------------------------------------------------------

@needs_mirror
def test_2_overwrite_deletes_only_the_toolkits_own_outputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optical_ir.distillation import distill
    from optical_ir.indexes.lucene import build_lucene_index

    precious = tmp_path / "d"
    precious.mkdir()
    (precious / "important.txt").write_text("x")
    with pytest.raises(OutputError, match="not a student directory.*never deleted"):
        distill(_tiny_config(), precious, overwrite=True)
    with pytest.raises(OutputError, match="not a student directory"):
        distill(_tiny_config(), precious)  # nor written into
    with pytest.raises(OutputError, match="not an optical_ir index"):
        build_lucene_index("optical-ir/ntrex/sw-en/test", precious, overwrite=True)
    assert (precious / "important.txt").read_text() == "x"
    monkeypatch.chdir(precious)
    with pytest.raises(OutputError, match="working directory"):
        distill(_tiny_config(), ".", overwrite=True)
    assert (precious / "important.txt").is_file()


# 3. --check passed without checking ---------------------------------------------------------

def _config(tmp_path: Path, condition: dict, top: dict | None = None) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({**(top or {}), "collections": {"c": {
        "dataset": "optical-ir/ntrex/{lang}-en/test", "languages": {"low": ["sw"]},
        "conditions": {"x": {"command": "touch {run}", **condition}}}}}))
    return path


def test_3_expected_entries_that_cannot_match_are_refused(tmp_path: Path) -> None:
    from optical_ir.experiments.reproduction import check, load_config

    with pytest.raises(ConfigError, match=r"collections\.c\.conditions\.x\.expectd: unknown key; allowed: "
                                          r"description, command, languages"):
        load_config(_config(tmp_path, {"expectd": {"AP": {"sw": 0.3}}}))
    with pytest.raises(ConfigError, match=r"conditions\.x\.expected\.MAP: not one of the measures AP, nDCG@10"):
        load_config(_config(tmp_path, {"expected": {"MAP": {"sw": 0.3}}}))
    with pytest.raises(ConfigError, match=r"expected\.AP\.de: the condition does not run 'de'"):
        load_config(_config(tmp_path, {"expected": {"AP": {"de": 0.3}}}))
    with pytest.raises(ConfigError, match=r"mesures: unknown key; allowed: measures, headline"):
        load_config(_config(tmp_path, {}, {"mesures": ["AP"]}))
    config = load_config(_config(tmp_path, {"expected": {"AP": {"sw": 0.3}}}))
    assert not check(config, [])  # no result for an expected entry: a failure, not silence
    assert check(config, [{"collection": "c", "condition": "x", "lang": "sw", "measure": "AP", "value": 0.3}])


# 4. a UTF-8 byte-order mark changed query ids -------------------------------------------------

def test_4_a_leading_bom_is_dropped_by_every_reader(tmp_path: Path) -> None:
    from optical_ir.retrieval import fuse_files
    from optical_ir.trec import read_qrels, read_run, read_topics

    bom = "\ufeff"
    (tmp_path / "t.tsv").write_text(f"{bom}1\tKenya\n2\tLagos\n", encoding="utf-8")
    assert [q for q, _ in read_topics(tmp_path / "t.tsv")] == ["1", "2"]
    (tmp_path / "r.trec").write_text(f"{bom}1 Q0 d1 1 2.0 x\n1 Q0 d2 2 1.0 x\n", encoding="utf-8")
    assert list(read_run(tmp_path / "r.trec")) == ["1"]
    with gzip.open(tmp_path / "r.trec.gz", "wt", encoding="utf-8") as f:
        f.write(f"{bom}1 Q0 d3 1 2.0 y\n")
    assert list(read_run(tmp_path / "r.trec.gz")) == ["1"]
    (tmp_path / "q.txt").write_text(f"{bom}1 0 d1 1\n", encoding="utf-8")
    assert [q.query_id for q in read_qrels(tmp_path / "q.txt")] == ["1"]
    fuse_files([tmp_path / "r.trec", tmp_path / "r.trec.gz"], tmp_path / "f.trec")
    assert {line.split()[0] for line in (tmp_path / "f.trec").read_text().splitlines()} == {"1"}


def test_4_decoding_and_gzip_errors_name_the_file_and_line(tmp_path: Path) -> None:
    from optical_ir.trec import read_run, read_topics

    (tmp_path / "bad.tsv").write_bytes(b"1\tfine\n2\tbad \xff byte\n")
    with pytest.raises(DataFormatError, match=r"bad\.tsv, line 2: not valid UTF-8"):
        read_topics(tmp_path / "bad.tsv")
    # far into a file (text is decoded in blocks): the lines before are read, the error names its line
    lines = b"".join(b"q%d Q0 d 1 1.0 x\n" % i for i in range(1, 5001))
    (tmp_path / "late.trec.gz").write_bytes(gzip.compress(lines + b"q5001 Q0 d\xe9 1 1.0 x\n" + lines))
    from optical_ir.files import iter_lines

    read: list[int] = []
    with pytest.raises(DataFormatError, match=r"late\.trec\.gz, line 5001: not valid UTF-8"):
        read.extend(n for n, _ in iter_lines(tmp_path / "late.trec.gz"))
    assert read == list(range(1, len(read) + 1)) and 4000 < len(read) <= 5000
    with pytest.raises(DataFormatError, match=r"line 5001: not valid UTF-8"):
        read_run(tmp_path / "late.trec.gz")
    whole = gzip.compress(b"".join(b"1 Q0 d%d %d 1.0 x\n" % (i, i) for i in range(1, 2000)))
    (tmp_path / "cut.trec.gz").write_bytes(whole[: len(whole) // 2])
    with pytest.raises(DataFormatError, match=r"cut\.trec\.gz: a truncated or corrupt gzip file"):
        read_run(tmp_path / "cut.trec.gz")


# 5. placeholders were spliced into the command before it was split ----------------------------

def test_5_placeholders_fill_arguments_and_names_are_file_names(tmp_path: Path) -> None:
    from optical_ir.experiments.reproduction import load_config, plan

    with pytest.raises(ConfigError, match=r"conditions\.it's: a condition name is a file name"):
        path = tmp_path / "q.yaml"
        path.write_text(yaml.safe_dump({"collections": {"c": {"dataset": "d/{lang}", "languages": ["sw"],
                                                              "conditions": {"it's": {"command": "touch {run}"}}}}}))
        load_config(path)
    path.write_text(yaml.safe_dump({"collections": {"c": {"dataset": "d/{lang}", "languages": ["sw"], "conditions": {
        "../../x": {"command": "touch {run}"}}}}}))
    with pytest.raises(ConfigError, match="a condition name is a file name"):
        load_config(path)
    config = load_config(_config(tmp_path, {"command": "python -m optical_ir.search --output {run} --run-tag "
                                                       "{condition}"}))
    [job] = plan(config, tmp_path / "my runs")
    [argv] = job.argvs()
    assert argv[argv.index("--output") + 1] == str(tmp_path / "my runs" / "c" / "x.sw.trec")  # one argument
    assert argv[-2:] == ["--run-tag", "x"]


# 6. conflicting duplicate qrels --------------------------------------------------------------

def test_6_conflicting_duplicate_judgements_are_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from optical_ir.trec import read_qrels

    (tmp_path / "q.txt").write_text("1 0 d1 1\n1 0 d2 2\n\n1 0 d1 0\n")
    with pytest.raises(DataFormatError, match="query 1 document d1 is judged 1 on line 1 and 0 on line 4"):
        read_qrels(tmp_path / "q.txt")
    (tmp_path / "q.txt").write_text("1 0 d1 1\n1 0 d1 1\n")
    assert len(read_qrels(tmp_path / "q.txt")) == 1
    assert "1 repeated identical judgements counted once" in capsys.readouterr().err


# 7. an index of another model with the same dimension was searched -----------------------------

@pytest.mark.java
def test_7_an_index_of_another_model_is_refused(tmp_path: Path) -> None:
    from optical_ir import jvm

    jvm.start()
    from optical_ir.encoders import DenseEncoder, embedded_dir
    from optical_ir.indexes import IndexMismatchError
    from optical_ir.indexes.faiss import build_faiss_index, check_index

    from .test_bm25 import TINY

    minilm = DenseEncoder("all-MiniLM-L6-v2")
    other_dir = tmp_path / "another-384d-model"
    shutil.copytree(embedded_dir("all-MiniLM-L6-v2"), other_dir)
    other = DenseEncoder(other_dir)
    assert other.dim == minilm.dim
    index = build_faiss_index(TINY, minilm, tmp_path / "faiss")
    check_index(index, minilm)  # the model that made it
    with pytest.raises(IndexMismatchError, match=r"holds the passage vectors of all-MiniLM-L6-v2, not of the query "
                                                 r"encoder .*another-384d-model.*--doc-encoder all-MiniLM-L6-v2"):
        check_index(index, other)
    check_index(index, other, doc_encoder=minilm)  # a student of the index's model, declared
    with pytest.raises(IndexMismatchError, match="did not make"):
        check_index(index, minilm, doc_encoder=other)


# 8. qrels of another collection gave AP 0 without a word ----------------------------------------

def test_8_a_run_and_qrels_that_share_no_query_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from optical_ir.evaluation import evaluate

    (tmp_path / "q.txt").write_text("1 0 d1 1\n2 0 d2 1\n")
    (tmp_path / "r.trec").write_text("7 Q0 d1 1 1.0 x\n8 Q0 d2 1 1.0 x\n")
    ev = evaluate(tmp_path / "r.trec", tmp_path / "q.txt")
    assert ev.shared == 0 and "none of the run's 2 query ids occur among the 2 judged queries" in ev.overlap_warning()
    with pytest.raises(MismatchError, match="another collection"):
        evaluate(tmp_path / "r.trec", tmp_path / "q.txt", strict=True)
    status, err = _verb("evaluate", ["--run", str(tmp_path / "r.trec"), "--qrels", str(tmp_path / "q.txt")], capsys,
                        monkeypatch)
    assert status == 0 and "warning:" in err and "none of the run's 2 query ids" in err
    status, err = _verb("evaluate", ["--run", str(tmp_path / "r.trec"), "--qrels", str(tmp_path / "q.txt"),
                                     "--strict"], capsys, monkeypatch)
    assert status == 2 and err.count("\n") == 1 and "another collection" in err


# 9. tracebacks instead of one-line errors ----------------------------------------------------------

def test_9_bad_input_is_one_line_with_exit_status_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "q.txt").write_text("1 0 d1 1\n")
    whole = gzip.compress(b"".join(b"1 Q0 d%d %d 1.0 x\n" % (i, i) for i in range(1, 2000)))
    (tmp_path / "cut.trec.gz").write_bytes(whole[:300])
    (tmp_path / "bin.trec").write_bytes(b"1 Q0 d1 1 1.0 x\n1 Q0 \xe9 2 0.5 x\n")
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    cases = [
        ("evaluate", ["--run", str(tmp_path / "cut.trec.gz"), "--qrels", str(tmp_path / "q.txt")],
         "cut.trec.gz: a truncated or corrupt gzip file"),
        ("evaluate", ["--run", str(tmp_path / "bin.trec"), "--qrels", str(tmp_path / "q.txt")],
         "bin.trec, line 2: not valid UTF-8"),
        ("search", ["--dataset", "optical-ir/ntrex/sw-en/test", "--output", str(tmp_path / "r.trec"),
                    "--encoder", "all-MiniLM-L6-v2", "--device", "cdua"], "--device 'cdua' is not a device"),
        ("search", ["--dataset", "optical-ir/ntrex/sw-en/test", "--output", str(a_file / "r.trec")],
         "cannot create the directory"),
    ]
    import torch

    if not torch.cuda.is_available():
        cases.append(("search", ["--dataset", "optical-ir/ntrex/sw-en/test", "--output", str(tmp_path / "r.trec"),
                                 "--encoder", "all-MiniLM-L6-v2", "--device", "cuda"], "torch sees no CUDA device"))
    config = _config(tmp_path, {"command": "touch {run} --tag {conditon}"})
    cases.append(("reproduce", ["--config", str(config), "--runs-dir", str(tmp_path / "runs")],
                  r"conditions.x.command: unknown placeholder {conditon}"))
    for verb, argv, message in cases:
        status, err = _verb(verb, argv, capsys, monkeypatch)
        assert status == 2 and err.count("\n") == 1 and message in err and "Traceback" not in err, (verb, err)
    assert not (tmp_path / "runs").exists()


def test_9_the_encoder_config_error_names_flags_that_exist(tmp_path: Path) -> None:
    from optical_ir.encoders import EncoderConfig, EncoderConfigError

    with pytest.raises(EncoderConfigError) as err:
        EncoderConfig.load(tmp_path)
    assert "optical_ir.encode " not in str(err.value) and "--pooling mean|cls" in str(err.value)


def test_9_a_programming_error_keeps_its_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTICAL_IR_DEBUG", raising=False)

    def bug() -> int:
        raise ValueError("a bug, not bad input")

    with pytest.raises(ValueError, match="a bug"):
        cli.run(bug, "search")


# 10. a multi-step condition left its run behind when a later step failed -------------------------------

def test_10_a_run_exists_only_when_every_step_succeeded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    from optical_ir.experiments import reproduction
    from optical_ir.experiments.reproduction import load_config, plan, run_all

    monkeypatch.setattr(reproduction, "report_collection", lambda *a: [])  # no evaluation of these toy runs
    runs = tmp_path / "runs"
    failing = load_config(_config(tmp_path, {"command": ["touch {run}", "false"]}))
    with pytest.raises(StepError, match=r"c x sw: step 2 of 2 failed .*: false"):
        run_all(failing, runs, plan(failing, runs))
    assert not (runs / "c" / "x.sw.trec").exists() and not list((runs / "c").glob(".*partial*"))
    fixed = load_config(_config(tmp_path, {"command": ["touch {run}"]}))
    run_all(fixed, runs, plan(fixed, runs))  # the rerun makes the run: it was not left for finished
    assert (runs / "c" / "x.sw.trec").is_file() and "[run] x.sw" in capsys.readouterr().err


# 11. index replacement was not atomic -------------------------------------------------------------------

def test_11_a_replaced_directory_is_never_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from optical_ir import files

    target, new = tmp_path / "index", tmp_path / ".index.tmp"
    target.mkdir()
    (target / "v").write_text("old")
    new.mkdir()
    (new / "v").write_text("new")
    seen = []
    real_rmtree = shutil.rmtree
    real_replace = os.replace

    def replace(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> None:
        seen.append(("replace", Path(b).name, None))
        real_replace(a, b)

    def rmtree(path: str | os.PathLike[str], *args: object, **kwargs: object) -> None:
        if Path(path).exists():
            seen.append(("delete", Path(path).name, (target / "v").read_text() if target.exists() else None))
        real_rmtree(path, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(files.os, "replace", replace)
    monkeypatch.setattr(files.shutil, "rmtree", rmtree)
    files.replace_dir(new, target)
    assert (target / "v").read_text() == "new" and not new.exists()
    deletions = [s for s in seen if s[0] == "delete" and s[1].startswith(".index.old")]
    assert deletions and all(content == "new" for _, _, content in deletions)  # the old one goes last
