from pathlib import Path

import pytest

from optical_ir.trec import (
    TrecFormatError,
    atomic_write,
    read_run,
    read_topics,
    write_run,
)


def test_run_round_trip_sorted_by_score(tmp_path: Path) -> None:
    path = tmp_path / "r.trec"
    write_run({"q1": {"a": 1.0, "b": 3.0, "c": 2.0}}, path, "tag")
    lines = path.read_text().splitlines()
    assert lines[0] == "q1 Q0 b 1 3.000000 tag"
    assert [line.split()[2] for line in lines] == ["b", "c", "a"]
    assert read_run(path) == {"q1": {"b": 3.0, "c": 2.0, "a": 1.0}}


@pytest.mark.parametrize(
    ("bad", "why"),
    [("q1 Q0 d1 1 0.5", "expected 6 columns"), ("q1 Q0 d1 x 0.5 t", "rank"), ("q1 Q0 d1 1 abc t", "score"),
     ("q1 Q0 d1 1 nan t", "score .nan. is not finite")],
)
def test_malformed_run_line_gives_the_line_number(tmp_path: Path, bad: str, why: str) -> None:
    path = tmp_path / "r.trec"
    path.write_text("q1 Q0 d0 1 1.0 t\n\n" + bad + "\n")
    with pytest.raises(TrecFormatError, match=rf"line 3: {why}"):
        read_run(path)


def test_malformed_qrels_line_gives_the_line_number(tmp_path: Path) -> None:
    from optical_ir.evaluation import load_qrels

    path = tmp_path / "qrels.txt"
    path.write_text("q1 0 d1 1\nq1 0 d2 high\n")
    with pytest.raises(TrecFormatError, match="line 2: relevance 'high'"):
        load_qrels(path)


def test_topics_tsv_errors(tmp_path: Path) -> None:
    path = tmp_path / "topics.tsv"
    path.write_text("1\thabari\n2 no tab here\n")
    with pytest.raises(TrecFormatError, match="line 2: expected 'qid<TAB>query text'"):
        read_topics(path)
    path.write_text("1\thabari\n2\t\n")
    assert read_topics(path) == [("1", "habari"), ("2", "")]


def test_atomic_write_keeps_the_old_file_on_failure(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old\n")
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write("partial")
        raise RuntimeError("crash")
    assert path.read_text() == "old\n"
    assert list(tmp_path.iterdir()) == [path]


def test_gzip_runs_round_trip_and_are_reproducible(tmp_path: Path) -> None:
    run = {"q1": {"d1": 2.5, "d2": 1.0}, "q2": {"d3": 0.25}}
    write_run(run, tmp_path / "a.trec.gz", "tag")
    first = (tmp_path / "a.trec.gz").read_bytes()
    assert first[:2] == b"\x1f\x8b"  # gzip
    assert read_run(tmp_path / "a.trec.gz") == run
    write_run(run, tmp_path / "a.trec.gz", "tag")
    assert (tmp_path / "a.trec.gz").read_bytes() == first  # no time stamp: same bytes
    write_run(run, tmp_path / "a.trec", "tag")
    assert read_run(tmp_path / "a.trec") == run
