import pytest

from optical_ir import languages
from optical_ir.errors import ConfigError
from optical_ir.languages import (
    DEFAULT_PAIRS,
    UndeclaredResourceError,
    UnknownLanguageError,
    canonical,
    dataset_codes,
    declared_languages,
    get_language,
    match,
    resource_level,
)


@pytest.mark.parametrize(
    ("alias", "code"),
    [("swa", "sw"), ("SWA", "sw"), ("swh", "sw"), ("swh_Latn", "sw"), ("cmn", "zh"), ("zho_Hans", "zh"),
     ("zho-TW", "zh-TW"), ("zho_Hant", "zh-Hant"), ("som", "so"), ("hau", "ha"), ("yor", "yo"), ("deu", "de"),
     ("fra", "fr"), ("arb", "ar"), ("pes", "fa"), ("sna-Latn", "sn"), ("srp-Cyrl", "sr"), ("srp-Latn", "sr-Latn"),
     ("aze-Latn", "az"), ("zh", "zh"), ("fil", "fil"), ("tgl", "fil"), ("wol", "wo"), ("xho", "xh")],
)
def test_aliases_resolve_through_langcodes(alias: str, code: str) -> None:
    assert canonical(alias) == code


def test_names_scripts_and_iso639_3_come_from_the_library() -> None:
    lo = get_language("lao")
    assert (lo.code, lo.iso639_3, lo.name, lo.script) == ("lo", "lao", "Lao", "Laoo")
    assert get_language("zh-TW").script == "Hant" and get_language("sr-Latn").script == "Latn"


@pytest.mark.parametrize("bad", ["", "  ", "english", "xx", "zz", "en_XX", "123"])
def test_invalid_codes_are_refused_without_fallback(bad: str) -> None:
    with pytest.raises(UnknownLanguageError, match="not a valid ISO 639"):
        get_language(bad)


def test_any_valid_code_works_without_a_resource_level() -> None:
    ang = get_language("ang")  # Old English: valid ISO 639-3, in Tatoeba, in no resource file
    assert ang.name == "Old English" and ang.resource is None and ang.family is None
    with pytest.raises(UndeclaredResourceError, match="OPTICAL_IR_LANGUAGES") as err:
        resource_level("ang")
    assert "declare('ang', 'low')" in str(err.value)


def test_declaring_a_level_by_call_and_by_file(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(languages, "_declared", {})
    languages.declare("ang", "low", "Indo-European")
    assert resource_level("ang") == "low" and get_language("ang").family == "Indo-European"
    tsv = tmp_path / "levels.tsv"
    tsv.write_text("code\tresource\tfamily\tsource\nkab\thigh\tAfro-Asiatic\tmine\nsw\thigh\tNiger-Congo\tmine\n")
    monkeypatch.setenv(languages.LANGUAGES_ENV, str(tsv))
    assert resource_level("kab") == "high" and resource_level("swh") == "high"  # the file overrides the package
    tsv.write_text("code\tresource\nkab\tmiddle\n")
    languages._from_env.cache_clear()
    with pytest.raises(ConfigError, match="missing column"):
        resource_level("kab")
    with pytest.raises(ConfigError, match="'low' or 'high'"):
        languages.declare("kab", "middle")  # type: ignore[arg-type]
    languages._from_env.cache_clear()


def test_default_pairs_are_four_low_and_three_high() -> None:
    levels = [resource_level(c) for c in DEFAULT_PAIRS]
    assert levels == ["low"] * 4 + ["high"] * 3


def test_the_resource_file_covers_every_ntrex_language() -> None:
    from optical_ir.ntrex_files import ntrex_codes

    declared = {lang.code for lang in declared_languages()}
    assert len(ntrex_codes()) == 115 + 12 + 1  # mirrored references, the not-mirrored ones, the English source
    assert not [c for c in ntrex_codes() if match(c, declared) is None]
    for lang in declared_languages():
        assert lang.family and lang.name and lang.resource in ("low", "high")


def test_dataset_codes_keep_variants_apart() -> None:
    codes = dataset_codes(["eng", "eng-US", "zho-CN", "zho-TW", "por", "por-BR", "srp-Cyrl", "srp-Latn", "dtp", "kzj"])
    assert codes == {"en": "eng", "en-US": "eng-US", "zh": "zho-CN", "zh-TW": "zho-TW", "pt": "por",
                     "pt-BR": "por-BR", "sr": "srp-Cyrl", "sr-Latn": "srp-Latn", "dtp": "dtp", "kzj": "kzj"}
    assert match("zh-CN", codes) == "zh" and match("zh-Hant", codes) == "zh-TW" and match("kzj", codes) == "kzj"
    assert match("de", codes) is None
