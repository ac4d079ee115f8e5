import pytest

from optical_ir.collections import ntrex
from optical_ir.parallel import counts, load_bitext

from .conftest import needs_mirror

pytestmark = needs_mirror


def _test_english() -> set[str]:
    split, english = ntrex.article_split(), ntrex.sentences("en")
    return {english[i] for i, a in enumerate(ntrex.article_of_line()) if split[a] == "test"}


@pytest.mark.parametrize("lang", ["sw", "yo", "de"])
def test_bitext_never_holds_a_test_sentence(lang: str) -> None:
    pairs = load_bitext(lang, "all")
    test = {s.casefold() for s in _test_english()}
    assert pairs and not {p.english.casefold() for p in pairs} & test


def test_default_source_is_ntrex_train_articles() -> None:
    pairs = load_bitext("sw")
    assert counts(pairs) == {"ntrex": 990}
    sources = {(p.source, p.english) for p in pairs}
    assert len(sources) == len(pairs)  # deduplicated


def test_holdout_drops_the_dev_articles_from_every_source() -> None:
    dev = ntrex.dev_english()
    held = load_bitext("sw", "all", holdout=True)
    assert not {p.english.casefold() for p in held} & dev
    assert len(load_bitext("sw", holdout=True)) == 990 - 356


def test_counts_per_source() -> None:
    c = counts(load_bitext("swa", ["ntrex", "tatoeba", "mafand"]))
    assert c["ntrex"] == 990 and c["tatoeba"] > 300 and c["mafand"] > 30000
    assert counts(load_bitext("de", "multi30k"))["multi30k"] > 28000


def test_bad_source_and_english_are_errors() -> None:
    with pytest.raises(ValueError, match="unknown bitext source"):
        load_bitext("sw", ["opus"])
    with pytest.raises(ValueError, match="non-English"):
        load_bitext("en")
