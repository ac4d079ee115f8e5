import pytest

from optical_ir.analysis import prepare_query, tokenize
from optical_ir.languages import UnknownLanguageError


def test_low_resource_query_is_lowercased_and_tokenized() -> None:
    assert prepare_query("Rais WA Kenya, Uhuru Kenyatta, alisema: 'NAIROBI'!", "sw") == \
        "rais wa kenya uhuru kenyatta alisema nairobi"


def test_yoruba_tone_marks_can_be_stripped() -> None:
    assert tokenize("Àbá yíì", "yo") == ["àbá", "yíì"]
    assert tokenize("Àbá yíì", "yo", strip_accents=True) == ["aba", "yii"]


def test_nfkc_and_scripts_without_spaces() -> None:
    assert prepare_query("ＡＢＣ　威尔士议会", "zh") == "abc 威尔士议会"


def test_punctuation_only_query_is_empty() -> None:
    assert prepare_query(" ... ?! ", "ha") == ""


def test_unknown_language_is_an_error() -> None:
    with pytest.raises(UnknownLanguageError):
        prepare_query("habari", "xx")
