"""Query perturbations: determinism, scripts, rate 0, nested rates, code-switching, errors,
the derived ir_datasets ids, the robustness gap, and the engine on a tiny config."""

from __future__ import annotations

import csv
import math
import unicodedata
from pathlib import Path

import pytest

from optical_ir.errors import MissingInputError
from optical_ir.perturbation import PerturbationError, get, kinds, perturb_topics
from optical_ir.perturbation.characters import script_of
from optical_ir.perturbation.marks import strip_marks

from .conftest import needs_mirror

TEXTS = {
    "Latin": "Habari za asubuhi, rafiki yangu mpendwa wa Nairobi!",
    "Han": "北京是中华人民共和国的首都和政治中心。",
    "Arabic": "مرحبا بكم في المدينة القديمة الجميلة",
    "Ethiopic": "ሰላም ለሁላችሁ ይሁን በአዲስ አበባ ከተማ",
}
TEXT_FREE = [k for k in kinds() if k not in ("code-switch", "diacritics", "romanise")]


@pytest.mark.parametrize("kind", TEXT_FREE)
@pytest.mark.parametrize("script", list(TEXTS))
def test_every_kind_on_every_script_is_seeded_and_rate_zero_is_the_identity(kind: str, script: str) -> None:
    p, text = get(kind), TEXTS[script]
    once = p.perturb(text, 0.4, seed=13, key="q1")
    assert once == p.perturb(text, 0.4, seed=13, key="q1")  # same seed, same text
    assert once != text
    assert p.perturb(text, 0.0, seed=13, key="q1") == text
    others = {p.perturb(text, 0.4, seed=s, key="q1") for s in range(6)}
    assert len(others) > 1  # the seed matters
    if kind in ("char-keyboard", "char-insert") and script != "Latin":
        new = set(once) - set(text)  # a substitute letter stays in the script of the text
        assert new and all(script_of(ch) == script_of(text[0]) or not ch.isalpha() for ch in new)


def test_character_edits_do_what_they_say() -> None:
    text = "habari rafiki"
    assert sorted(get("char-swap").perturb(text, 1.0, key="q")) == sorted(text)
    assert len(get("char-delete").perturb(text, 1.0, key="q")) == len(text) - 2
    assert len(get("char-insert").perturb(text, 1.0, key="q")) == len(text) + 2
    sub = get("char-keyboard").perturb(text, 1.0, key="q")
    diff = [(a, b) for a, b in zip(text, sub, strict=True) if a != b]
    qwerty = {"h": "bgjnuy", "a": "qswz", "b": "ghnv", "r": "deft", "i": "jkou", "f": "cdgrtv", "k": "ijlmo"}
    assert len(diff) == 2 and all(b in qwerty.get(a, b) for a, b in diff)


def test_word_edits_and_rates_are_nested() -> None:
    text = "moja mbili tatu nne tano sita saba nane tisa kumi"
    dropped = get("word-drop").perturb(text, 0.4, key="q")
    assert len(dropped.split()) == 6 and set(dropped.split()) < set(text.split())
    assert sorted(get("word-swap").perturb(text, 0.4, key="q").split()) == sorted(text.split())
    assert len(get("word-dup").perturb(text, 0.4, key="q").split()) == 14
    assert get("word-drop").perturb("neno", 1.0, key="q") == "neno"  # the last word stays
    words = "Ọjọ́ Ajé ni mo rí i ní ọjà ẹ̀rọ ìgbàlódé tuntun".split()
    at = {r: get("diacritics").perturb(" ".join(words), r, key="q").split() for r in (0.2, 0.4, 0.8)}
    stripped = {r: {i for i, (a, b) in enumerate(zip(words, w, strict=True)) if a != b} for r, w in at.items()}
    assert stripped[0.2] <= stripped[0.4] <= stripped[0.8] and stripped[0.8]


def test_diacritics_and_romanisation_and_their_errors() -> None:
    assert strip_marks("Ọjọ́ Ajé ɓarna ƙasa") == "Ojo Aje barna kasa"
    out = get("diacritics").perturb("Ọjọ́ Ajé", 1.0, key="q")
    assert out == "Ojo Aje" and not any(unicodedata.combining(c) for c in unicodedata.normalize("NFD", out))
    assert get("romanise").perturb("北京", 1.0, key="q") == "bei jing"
    assert get("romanise").perturb("ሰላም", 1.0, key="q") == "selam"
    with pytest.raises(PerturbationError, match="Latin script"):
        perturb_topics([("1", "habari za asubuhi")], get("romanise"), 0.2, lang="sw")
    with pytest.raises(PerturbationError, match="no sw query has a diacritic"):
        perturb_topics([("1", "habari za asubuhi")], get("diacritics"), 0.2, lang="sw")


def _table(tmp_path: Path) -> Path:
    from optical_ir.lexicon import TableConfig, TranslationTable

    probs = {"habari": {"news": 0.7, "the": 0.3}, "rafiki": {"the": 0.6, "friend": 0.4}, "za": {"of": 1.0}}
    return TranslationTable(probs, TableConfig(lang="sw")).save(tmp_path / "sw.table")


def test_code_switching_looks_words_up_in_the_lexicon(tmp_path: Path) -> None:
    switch = get("code-switch", "sw", str(_table(tmp_path)))
    # every known word switched; the stop-word translation gives way to the content word; punctuation stays
    assert switch.perturb("Habari, rafiki yangu!", 1.0, key="q") == "news, friend yangu!"
    assert switch.perturb("Habari, rafiki yangu!", 0.0, key="q") == "Habari, rafiki yangu!"
    with pytest.raises(PerturbationError, match="knows none of the query words"):
        perturb_topics([("1", "yangu mpendwa")], switch, 0.5, lang="sw")
    from optical_ir.errors import ConfigError

    with pytest.raises(ConfigError, match="needs the language"):
        get("code-switch")


@needs_mirror
def test_derived_ids_sample_and_perturb_a_collection() -> None:
    from optical_ir.collections import load
    from optical_ir.topics import load_topics

    sample = load("optical-ir/ntrex/yo-en/test/sample-20")
    qids = [q.query_id for q in sample.queries_iter()]
    assert len(qids) == 20 and {q.query_id for q in sample.qrels_iter()} == set(qids)
    assert sample.docs_count() == 351
    perturbed = load_topics("optical-ir/ntrex/yo-en/test/sample-20/diacritics-0.4")
    full = dict(load_topics("optical-ir/ntrex/yo-en/test/diacritics-0.4"))
    assert [q for q, _ in perturbed] == qids and all(full[q] == t for q, t in perturbed)
    clean = dict(load_topics("optical-ir/ntrex/yo-en/test/sample-20"))
    assert sum(clean[q] != t for q, t in perturbed) >= 15
    assert load_topics("optical-ir/ntrex/yo-en/test/sample-20/typo-0.2-seed7") != load_topics(
        "optical-ir/ntrex/yo-en/test/sample-20/typo-0.2")
    # an ir_datasets id as --topics, slashes and all; a path that is no file is an error
    assert dict(load_topics(None, "optical-ir/ntrex/yo-en/test/sample-20")) == clean
    with pytest.raises(MissingInputError, match="no topics file"):
        load_topics(None, "no/such/topics.tsv")


def test_the_gap_on_a_hand_made_table() -> None:
    from optical_ir.experiments.robustness import Robustness
    from optical_ir.experiments.schema import Collection

    coll = Collection.model_validate({
        "dataset": "x/{lang}", "languages": {"low": ["sw"], "high": ["de"]},
        "perturbations": {"kinds": {"typo": None}, "rates": [0.2]},
        "conditions": {"a": {"command": "true"}, "b": {"command": "true"}}})
    q = [str(i) for i in range(4)]
    ap = {  # MAP clean 0.5 and 0.8; typo-0.2: sw loses half (drop 0.5), de a quarter (0.25) for system a
        ("a", "sw", "clean"): [0.5] * 4, ("a", "sw", "typo-0.2"): [0.25] * 4,
        ("a", "de", "clean"): [0.8] * 4, ("a", "de", "typo-0.2"): [0.6] * 4,
        ("b", "sw", "clean"): [0.5] * 4, ("b", "sw", "typo-0.2"): [0.4] * 4,
        ("b", "de", "clean"): [0.8] * 4, ("b", "de", "typo-0.2"): [0.64] * 4,
    }
    per_query = {k: dict(zip(q, v, strict=True)) for k, v in ap.items()}
    r = Robustness(coll, per_query, {"baselines": ["b"]})
    rows = {row["condition"]: row for row in r.gaps()}
    assert math.isclose(rows["a"]["drop_low"], 0.5) and math.isclose(rows["a"]["drop_high"], 0.25)
    assert math.isclose(rows["a"]["gap"], 0.25) and math.isclose(rows["b"]["gap"], 0.0, abs_tol=1e-9)
    # constant per-query values: every bootstrap replicate is the point value
    assert math.isclose(rows["a"]["gap_lo"], 0.25) and math.isclose(rows["a"]["gap_hi"], 0.25)
    assert math.isclose(rows["a"]["vs_b"], 0.25) and rows["a"]["vs_b_p"] == 0.0
    drops = {(d["condition"], d["lang"]): d for d in r.drops()}
    assert drops[("a", "sw")]["relative_drop"] == 0.5 and drops[("a", "sw")]["clean_AP"] == 0.5
    summary = {(row["group"], row["condition"]): row for row in r.summary()}
    low = summary[("low", "a")]
    assert (low["clean"], low["perturbed"]) == (0.5, 0.25) and summary[("high", "b")]["perturbed"] == 0.64
    assert math.isclose(low["perturbed_vs_b"], -0.15) and low["perturbed_vs_b_p"] == 0.0  # 0.25 − 0.4, always
    assert low["clean_vs_b"] == 0.0 and "clean_vs_b" not in summary[("low", "b")]
    assert "**low** (sw)" in r.summary_table(r.summary())


@needs_mirror
def test_the_engine_runs_a_tiny_robustness_config(tmp_path: Path) -> None:
    import yaml

    from optical_ir.experiments.reproduction import load_config, plan, read_results, run_all

    config = {
        "measures": ["AP", "nDCG@10"], "run_suffix": ".trec.gz",
        "collections": {"ntrex": {
            "dataset": "optical-ir/ntrex/{lang}-en/test", "languages": {"low": ["yo"], "high": ["de"]},
            "perturbations": {"sample": 12, "rates": [0.2, 0.4], "kinds": {"typo": None, "diacritics": ["yo", "de"]}},
            "conditions": {"bm25": {"command": "python -m optical_ir.search --dataset {dataset} --topics {topics} "
                                               "--output {run} --hits 20 --run-tag {condition}"}}}}}
    path = tmp_path / "robustness.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    cfg = load_config(path)
    runs = tmp_path / "runs"
    jobs = plan(cfg, runs)
    assert [j.variant for j in jobs if j.lang == "yo"] == ["clean", "typo-0.2", "typo-0.4", "diacritics-0.2",
                                                           "diacritics-0.4"]
    run_all(cfg, runs, jobs)
    out = runs / "ntrex"
    for name in ("results.csv", "map.md", "drop.csv", "gap.md", "gap.csv", "robustness.png", "summary.md",
                 "summary.csv", "clean-perturbed.png",
                 "topics/yo.typo-0.4.tsv", "topics/yo.typo-0.4.tsv.json", "bm25.de.diacritics-0.2.trec.gz"):
        assert (out / name).is_file(), name
    rows = read_results(out / "results.csv")
    assert {(r["perturbation"], r["rate"]) for r in rows} == {("none", 0.0), ("typo", 0.2), ("typo", 0.4),
                                                               ("diacritics", 0.2), ("diacritics", 0.4)}
    assert {r["n_queries"] for r in rows} == {12}
    with open(out / "gap.csv", encoding="utf-8") as f:
        gap = next(csv.DictReader(f))
    assert gap["condition"] == "bm25" and float(gap["gap_lo"]) <= float(gap["gap"]) <= float(gap["gap_hi"])
    before = (out / "bm25.yo.typo-0.2.trec.gz").stat().st_mtime_ns
    run_all(cfg, runs, jobs)  # a rerun skips the finished runs and topics
    assert (out / "bm25.yo.typo-0.2.trec.gz").stat().st_mtime_ns == before


def test_a_perturbation_that_cannot_apply_is_a_config_error(tmp_path: Path) -> None:
    import yaml

    from optical_ir.errors import ConfigError
    from optical_ir.experiments.reproduction import load_config

    config = {"collections": {"c": {"dataset": "optical-ir/ntrex/{lang}-en/test", "languages": ["sw"],
                                    "perturbations": {"kinds": {"romanise": ["zh"]}},
                                    "conditions": {"bm25": {"command": "x {variant}"}}}}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(ConfigError, match="perturbations.kinds.romanise: 'zh' is not a language of the collection"):
        load_config(path)


ROBUSTNESS = Path(__file__).resolve().parents[1] / "runs" / "robustness"


@needs_mirror
@pytest.mark.parametrize("condition", ["bm25", "bm25-psq", "bm25-psq-all", "dense-zeroshot", "rrf-zeroshot"])
def test_the_clean_robustness_runs_equal_the_main_runs_on_the_sampled_queries(condition: str) -> None:
    """The rate-0 rows use a sample of the queries; on that sample they are the main table's runs."""
    from optical_ir.evaluation import evaluate
    from optical_ir.experiments.reproduction import read_results
    from optical_ir.trec import read_run

    for lang in ("sw", "yo", "de", "zh"):
        clean = ROBUSTNESS / "ntrex" / f"{condition}.{lang}.clean.trec.gz"
        main = ROBUSTNESS.parent / "ntrex" / f"{condition}.{lang}.trec.gz"
        assert clean.is_file() and main.is_file(), "the committed runs of both configs"
        sampled, full = read_run(clean), read_run(main)
        for qid, hits in sampled.items():
            # the same scores at every rank (dense queries encoded in other batches may swap two
            # passages whose scores differ in the last bits), and the same score for each passage
            mine, theirs = sorted(hits.values(), reverse=True)[:10], sorted(full[qid].values(), reverse=True)[:10]
            assert all(abs(a - b) < 1e-4 for a, b in zip(mine, theirs, strict=True)), (condition, lang, qid)
            if condition != "rrf-zeroshot":  # a fused score is a rank's: a swap moves it by 1/(60+r)²
                assert all(abs(score - full[qid][d]) < 1e-4 for d, score in hits.items() if d in full[qid])
        # so the clean row of results.csv is the main run's MAP on those queries
        restricted = {qid: full[qid] for qid in sampled}
        want = evaluate(restricted, f"optical-ir/ntrex/{lang}-en/test/sample-150", ["AP"]).aggregates["AP"]
        rows = read_results(ROBUSTNESS / "ntrex" / "results.csv")
        got = next(r["value"] for r in rows if (r["condition"], r["lang"], r["perturbation"], r["measure"])
                   == (condition, lang, "none", "AP"))
        assert abs(got - want) < 1e-4


@pytest.mark.parametrize("name,collections", [("robustness", {"ntrex", "multi30k"}),
                                              ("training", {"ntrex", "multi30k", "xquad-r"})])
def test_the_config_is_valid_and_every_planned_run_is_committed(name: str, collections: set[str]) -> None:
    from optical_ir.experiments.reproduction import load_config, plan
    from optical_ir.experiments.schema import split_variant

    root = Path(__file__).resolve().parents[1]
    config = load_config(root / "reproduce" / f"{name}.yaml")
    runs = root / "runs" / name
    jobs = plan(config, runs)
    assert {j.collection for j in jobs} == collections
    missing = [str(j.run) for j in jobs if not j.run.is_file()]
    assert not missing, missing[:5]
    perturbed = [j for j in jobs if config.model.collections[j.collection].perturbations]
    assert all(Path(j.values["topics"]).is_file() for j in perturbed)
    # every condition × language × query set of the config has its rows in results.csv, and an expected score
    for collection in collections:
        with open(runs / collection / "results.csv", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        have = {(r["condition"], r["lang"], r.get("perturbation", "none"), float(r.get("rate") or 0)) for r in rows}
        for j in (j for j in jobs if j.collection == collection):
            variant = split_variant(j.variant) if config.model.collections[collection].perturbations else ("none", 0.0)
            assert (j.condition, j.lang, *variant) in have, j.stem
            expected = config.model.collections[collection].conditions[j.condition].expected["AP"][j.lang]
            assert (expected[j.variant] if isinstance(expected, dict) else expected) is not None


@pytest.mark.parametrize("collection,systems,at_least", [
    ("ntrex", {"dense-zeroshot", "dense-msekd", "dense-optical"}, 250),  # 3 systems × 7 languages × 4–5 sets × 3
    ("multi30k", {"dense-zeroshot"}, 30)])  # the robustness config has no students there: 2 languages × 5 sets × 3
def test_the_training_config_repeats_the_robustness_runs_it_shares(collection: str, systems: set[str],
                                                                    at_least: int) -> None:
    """dense-zeroshot, dense-msekd and dense-optical of reproduce/training.yaml are the robustness
    config's systems (the same students, retrained from the same seed): the same MAP on every
    query set both configs have."""
    def rows(root: Path) -> dict[tuple[str, ...], float]:
        with open(root / collection / "results.csv", encoding="utf-8") as f:
            return {(r["condition"], r["lang"], r["perturbation"], r["rate"], r["measure"]): float(r["value"])
                    for r in csv.DictReader(f) if r["condition"] in ("dense-zeroshot", "dense-msekd", "dense-optical")}

    training, robustness = rows(ROBUSTNESS.parent / "training"), rows(ROBUSTNESS)
    shared = set(training) & set(robustness)
    assert len(shared) >= at_least
    assert {k[0] for k in shared} == systems
    # within the configs' tolerance (1e-4): a remade dense run may swap passages whose scores tie to 1e-6
    differ = {k: (training[k], robustness[k]) for k in shared if abs(training[k] - robustness[k]) > 1e-4 + 1e-9}
    assert not differ, sorted(differ.items())[:5]
