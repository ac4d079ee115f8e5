import pytest

from optical_ir.evaluation import evaluate

QRELS = [("q1", "d1", 1), ("q1", "d3", 2), ("q2", "d9", 1), ("q3", "d5", 0)]


def test_ap_matches_a_hand_computed_value() -> None:
    # q1: relevant d1, d3 at ranks 2 and 4 → AP = (1/2 + 2/4) / 2 = 0.5
    run = {"q1": {"d0": 4.0, "d1": 3.0, "d2": 2.0, "d3": 1.0}, "q2": {"d9": 1.0}}
    ev = evaluate(run, QRELS)
    assert ev.per_query["AP"] == pytest.approx({"q1": 0.5, "q2": 1.0}, abs=1e-9)
    assert ev.aggregates["AP"] == pytest.approx(0.75, abs=1e-9)
    assert set(ev.aggregates) == {"AP", "nDCG@10", "R@100"}
    assert ev.n_queries == 2  # q3 has no relevant document


def test_a_query_missing_from_the_run_scores_zero() -> None:
    ev = evaluate({"q1": {"d1": 1.0}}, QRELS, ["AP"])
    assert ev.missing == ["q2"]
    assert ev.per_query["AP"]["q2"] == 0.0
    assert ev.aggregates["AP"] == pytest.approx(0.25, abs=1e-9)  # q1: (1/1)/2 = 0.5; mean with 0


def test_graded_measure_names_as_ir_measures_prints_them() -> None:
    ev = evaluate({"q1": {"d3": 2.0, "d1": 1.0}, "q2": {}}, QRELS, ["AP(rel=2)", "nDCG@10"])
    assert set(ev.aggregates) == {"AP(rel=2)", "nDCG@10"}
    assert ev.per_query["AP(rel=2)"]["q1"] == pytest.approx(1.0, abs=1e-9)
