import pytest

from optical_ir.languages import (
    DEFAULT_PAIRS,
    LANGUAGES,
    UnknownLanguageError,
    canonical,
    get_language,
    resource_level,
)


@pytest.mark.parametrize(
    ("alias", "code"),
    [("swa", "sw"), ("SWA", "sw"), ("swh", "sw"), ("swh_Latn", "sw"), ("zho-CN", "zh"), ("cmn", "zh"),
     ("zho-TW", "zh-TW"), ("som", "so"), ("hau", "ha"), ("yor", "yo"), ("deu", "de"), ("fra", "fr"),
     ("arb", "ar"), ("sna-Latn", "sn"), ("zh", "zh"), ("fil", "fil")],
)
def test_aliases_resolve_to_the_canonical_code(alias: str, code: str) -> None:
    assert canonical(alias) == code


def test_unknown_code_lists_the_valid_ones() -> None:
    with pytest.raises(UnknownLanguageError) as err:
        get_language("xx")
    message = str(err.value)
    assert "'xx'" in message and "sw" in message and "zh" in message and "yo" in message


@pytest.mark.parametrize("bad", ["", "  ", "english", "en_XX"])
def test_no_silent_fallback_to_english(bad: str) -> None:
    with pytest.raises(UnknownLanguageError):
        get_language(bad)


def test_default_pairs_are_four_low_and_three_high() -> None:
    levels = [resource_level(c) for c in DEFAULT_PAIRS]
    assert levels == ["low"] * 4 + ["high"] * 3


def test_table_codes_are_unique_and_complete() -> None:
    codes = [lang.code for lang in LANGUAGES]
    assert len(codes) == len(set(codes))
    for lang in LANGUAGES:
        assert lang.family and lang.script and lang.name and lang.resource in ("low", "high")
        for alias in lang.aliases:
            assert get_language(alias) is lang
