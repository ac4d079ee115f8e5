"""Paired t-test and Holm's correction against scipy and hand-computed values."""

from __future__ import annotations

import pytest
from scipy.stats import ttest_rel

from optical_ir.significance import compare, format_p, holm, paired_t

from .conftest import needs_mirror


def test_holm_step_down() -> None:
    # sorted p: 0.01, 0.02, 0.03 → 3×0.01, 2×0.02, 1×0.03 = 0.03, 0.04, 0.04 (monotone)
    assert holm([0.02, 0.01, 0.03]) == pytest.approx([0.04, 0.03, 0.04])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])  # capped at 1
    assert holm([0.04]) == [0.04]


def test_a_p_value_is_never_rounded_onto_the_other_side_of_alpha() -> None:
    # breadth's OPTICAL vs zero-shot dense beyond the four: Holm p = 0.04997, significant
    assert format_p(0.04997213926047873) == "0.04997"
    assert format_p(0.0500004) == "0.05"  # not significant, and "0.05" is not under 0.05
    assert format_p(0.0125) == "0.0125" and format_p(2.4736e-07) == "2.47e-07"
    assert format_p(0.05) == "0.05" and format_p(0.0096, alpha=0.01) == "0.0096"
    assert format_p(0.00999996, alpha=0.01) == "0.00999996"


def test_paired_t_matches_scipy_and_handles_ties() -> None:
    a = {"1": 0.5, "2": 0.7, "3": 0.2, "4": 0.9, "x": 1.0}
    b = {"1": 0.4, "2": 0.6, "3": 0.3, "4": 0.5, "y": 0.0}
    p, n = paired_t(a, b)
    assert n == 4 and p == pytest.approx(ttest_rel([0.5, 0.7, 0.2, 0.9], [0.4, 0.6, 0.3, 0.5]).pvalue)
    assert paired_t(a, a) == (1.0, 5)
    with pytest.raises(ValueError, match="at least 2 common queries"):
        paired_t({"1": 0.1}, {"1": 0.2})


def test_compare_corrects_over_the_systems_of_a_language() -> None:
    qids = [str(i) for i in range(30)]
    base = {q: 0.3 for q in qids}
    better = {q: 0.3 + 0.05 + 0.01 * (i % 4) for i, q in enumerate(qids)}
    same = {q: 0.3 + (0.01 if i % 2 else -0.01) for i, q in enumerate(qids)}
    per_query = {("b", "sw"): base, ("x", "sw"): better, ("y", "sw"): same}
    out = {c.system: c for c in compare(per_query, ["b", "x", "y"], "b", ["sw", "de"])}
    assert set(out) == {"x", "y"}  # the baseline is not compared with itself; no 'de' runs
    assert out["x"].significant() and out["x"].difference > 0
    assert not out["y"].significant()
    assert out["x"].p_holm == pytest.approx(min(1.0, 2 * out["x"].p)) or out["x"].p_holm >= out["x"].p


def test_pairs_are_tested_per_language_and_pooled_over_a_group() -> None:
    from optical_ir.experiments.report import Report
    from optical_ir.significance import compare_pairs

    qids = [str(i) for i in range(20)]
    rise = {q: 0.4 + 0.01 * (i % 5) for i, q in enumerate(qids)}
    flat = {q: 0.4 for q in qids}
    per_query = {("a", "sw"): rise, ("b", "sw"): flat, ("a", "so"): flat, ("b", "so"): rise,
                 ("c", "sw"): flat}
    out = {(c.system, c.baseline, c.lang): c for c in compare_pairs(per_query, [("a", "b"), ("c", "b")],
                                                                    {"low": ["sw", "so"]})}
    x, y = [rise[q] for q in qids], [flat[q] for q in qids]
    assert out[("a", "b", "sw")].p == pytest.approx(ttest_rel(x, y).pvalue)
    assert out[("a", "b", "sw")].p_holm == pytest.approx(min(1.0, 2 * out[("a", "b", "sw")].p))  # 2 pairs on sw
    pooled = out[("a", "b", "low (pooled)")]  # 40 units: the two languages' gains cancel
    assert pooled.n == 40 and pooled.difference == pytest.approx(0.0) and pooled.p == pytest.approx(1.0)
    assert ("c", "b", "so") not in out and ("c", "b", "low (pooled)") not in out  # c has no so run
    coll = {"languages": {"low": ["sw", "so"]}, "conditions": {"a": {}, "b": {}, "c": {}}}
    scores = {(c, lang): sum(v.values()) / len(v) for (c, lang), v in per_query.items()}
    table = Report(coll, scores, per_query, {"pairs": [["a", "b"], ["c", "b"], ["a", "missing"]]}).pairs_markdown()
    assert "| a | b | +0.0200* | -0.0200* | +0.0000 |" in table and "| c | b | +0.0000 | – | – |" in table
    assert "missing" not in table


def test_wilcoxon_over_languages_matches_scipy() -> None:
    from scipy.stats import wilcoxon as scipy_wilcoxon

    from optical_ir.significance import wilcoxon

    a = {"sw": 0.50, "so": 0.45, "ha": 0.44, "yo": 0.41, "am": 0.30, "zu": 0.33, "xx": 0.9}
    b = {"sw": 0.46, "so": 0.40, "ha": 0.45, "yo": 0.35, "am": 0.28, "zu": 0.20}
    w, p, n = wilcoxon(a, b)
    d = [a[x] - b[x] for x in sorted(b)]
    assert n == 6 and (w, p) == pytest.approx((scipy_wilcoxon(d).statistic, scipy_wilcoxon(d).pvalue))
    assert wilcoxon(a, a) == (0.0, 1.0, 7)
    with pytest.raises(ValueError, match="at least 2 common units"):
        wilcoxon({"sw": 0.1}, {"sw": 0.2, "so": 0.3})


def test_across_languages_summary_wins_pairs_and_predictors(tmp_path) -> None:
    from optical_ir.experiments.across import write_across

    langs = ["sw", "so", "ha", "yo", "am", "my", "km", "ti"]
    zero = dict(zip(langs, [0.46, 0.37, 0.39, 0.34, 0.20, 0.15, 0.18, 0.10], strict=True))
    # PSQ wins where the encoder knows the language least (the non-Latin scripts here)
    psq = dict(zip(langs, [0.44, 0.40, 0.42, 0.37, 0.30, 0.26, 0.28, 0.25], strict=True))
    student = {"sw": 0.49, "so": 0.45}
    scores = {**{("zero", x): v for x, v in zero.items()}, **{("psq", x): v for x, v in psq.items()},
              **{("student", x): v for x, v in student.items()}}
    settings = {"rank_by": "zero", "systems": ["psq", "zero", "student", "absent"],
                "pairs": [["zero", "psq"], ["student", "zero"], ["absent", "zero"]], "contests": [["zero", "psq"]]}
    across = write_across(langs, scores, settings, tmp_path)
    assert across.systems == ["psq", "zero", "student"] and across.full == ["psq", "zero"]
    assert across.ranked[:2] == ["sw", "ha"] and across.ranked[-1] == "ti"
    assert across.wins("zero") == 1 and across.wins("psq") == 7 and across.wins("student") is None
    zp, sz = across.pairs  # 'absent' has no runs: no test
    assert (zp.n, zp.wins, zp.losses) == (8, 1, 7) and zp.mean_difference == pytest.approx(-0.06625)
    assert sz.n == 2 and sz.p_holm >= sz.p
    pred = across.predictors("zero", "psq")
    assert pred["rho"] > 0.9 and pred["n"] == 8  # the better the encoder knows a language, the less PSQ wins by
    assert len(pred["groups"]["script"]["Latin"]) == 4
    summary = (tmp_path / "across.md").read_text(encoding="utf-8")
    assert "| psq | 8 | 0.3400 | 0.3350 | 7 |" in summary and "| student | 2 | 0.4700 | 0.4700 | – |" in summary
    assert "| zero | psq | 8 | -0.066" in summary and "Spearman" in summary
    assert across.gaps() == [(["student"], ["ha", "yo", "am", "my", "km", "ti"])]
    assert "No run yet of student on 6 languages: ha yo am my km ti\n" in summary
    table = (tmp_path / "languages.md").read_text(encoding="utf-8")
    assert "| 1 | sw | Swahili | Latn | Niger-Congo | 0.4400 | **0.4600** | 0.4900 | zero |" in table
    assert (tmp_path / "ranked.png").stat().st_size > 0 and (tmp_path / "across.csv").is_file()


@needs_mirror
def test_tokenization_features_measure_the_queries_against_their_english_originals(tmp_path) -> None:
    """The premium is the ratio of token counts to the English queries' and unk the share of
    unknown tokens: Dzongkha's script is missing from the e5 vocabulary, Swahili's is not.
    Both become columns of languages.md and predictors of the contests."""
    from transformers import AutoTokenizer

    from optical_ir.encoders.embedded import resolve
    from optical_ir.experiments.across import tokenization, write_across
    from optical_ir.topics import load_topics

    dataset = "optical-ir/ntrex/{lang}-en/test"
    features = tokenization(["sw", "dz", "yo"], dataset, "multilingual-e5-small")
    tok = AutoTokenizer.from_pretrained(resolve("multilingual-e5-small"))

    def count(lang: str) -> int:
        topics = load_topics(dataset.format(lang=lang))
        return sum(len(tok(t, add_special_tokens=False)["input_ids"]) for _, t in topics)

    assert features["premium"]["sw"] == pytest.approx(count("sw") / count("en"))
    assert features["unk"]["sw"] == 0 and features["unk"]["dz"] > 0.3
    scores = {**{("zero", x): v for x, v in {"sw": 0.46, "dz": 0.03, "yo": 0.34}.items()},
              **{("psq", x): v for x, v in {"sw": 0.45, "dz": 0.06, "yo": 0.38}.items()}}
    settings = {"rank_by": "zero", "systems": ["psq", "zero"], "contests": [["zero", "psq"]],
                "tokenizer": "multilingual-e5-small"}
    across = write_across(["sw", "dz", "yo"], scores, settings, tmp_path, dataset=dataset)
    assert across.features["unk"] == features["unk"]
    assert across.predictors("zero", "psq")["features"]["premium"][2] == 3
    table = (tmp_path / "languages.md").read_text(encoding="utf-8")
    assert "| # | lang | name | script | family | premium | unk | psq | zero | best |" in table
    assert f"| {features['premium']['sw']:.2f} | 0.0% |" in table
    summary = (tmp_path / "across.md").read_text(encoding="utf-8")
    assert "What predicts zero's AP: Spearman's ρ with the tokenizer's tokens per English token" in summary
    assert "with unknown-token share ρ = " in summary


def test_across_says_whether_a_pair_holds_beyond_the_reference_languages(tmp_path) -> None:
    """A pair is tested again on the languages outside ``reference``: the same sign and
    significant holds, the opposite sign reverses, a mix is not significant."""
    from optical_ir.experiments.across import write_across

    reference, others = ["sw", "so"], ["ha", "yo", "am", "my", "km", "ti", "ig", "zu"]
    langs = reference + others
    base = {x: 0.30 + 0.01 * i for i, x in enumerate(langs)}
    up = {x: v + (0.05 + 0.001 * i) for i, (x, v) in enumerate(base.items())}  # better everywhere
    flip = {x: v + (0.02 if x in reference else -0.03 - 0.001 * i) for i, (x, v) in enumerate(base.items())}
    mixed = {x: v + (0.02 if x in reference else (-0.01 if i % 2 else 0.01)) for i, (x, v) in enumerate(base.items())}
    scores = {(name, x): v for name, values in {"base": base, "up": up, "flip": flip, "mixed": mixed}.items()
              for x, v in values.items()}
    settings = {"rank_by": "base", "systems": ["base", "up", "flip", "mixed"], "reference": reference,
                "pairs": [["up", "base"], ["flip", "base"], ["mixed", "base"]]}
    across = write_across(langs, scores, settings, tmp_path)
    verdicts = {(h.others.system, h.others.baseline): h for h in across.beyond}
    assert {k: h.verdict for k, h in verdicts.items()} == {
        ("up", "base"): "holds", ("flip", "base"): "reverses", ("mixed", "base"): "not significant"}
    flip_holds = verdicts[("flip", "base")]
    assert flip_holds.reference_n == 2 and flip_holds.reference_wins == 2 and flip_holds.others.n == 8
    assert flip_holds.reference_mean == pytest.approx(0.02) and flip_holds.others.losses == 8
    summary = (tmp_path / "across.md").read_text(encoding="utf-8")
    assert "Does it hold beyond sw, so (the languages the settings were chosen on)?" in summary
    assert "| flip | base | +0.0200 | 2/2 | 8 |" in summary and "| reverses |" in summary
    assert (tmp_path / "holds.csv").read_text().count("\n") == 4
