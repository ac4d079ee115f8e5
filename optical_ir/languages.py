"""The one table of languages: codes, names, families, scripts and resource levels.

Every other module asks this one for a language. Canonical codes are ISO 639-1 where one
exists (``sw``, ``de``, ``zh``), otherwise ISO 639-3 (``fil``, ``ckb``); regional or
script variants add a BCP-47 subtag (``zh-TW``, ``sr-Latn``, ``pt-BR``). The codes the
upstream data sets use — ISO 639-3 (``swa``), NTREX file codes (``zho-CN``), Tatoeba codes
(``swh``, ``cmn``), MAFAND codes and NLLB/FLORES-200 codes (``swh_Latn``) — are accepted
as aliases, case-insensitively. An unknown code raises :class:`UnknownLanguageError`,
which lists the valid codes; nothing falls back silently to English.

Resource level follows the spirit of Joshi et al. (ACL 2020, "The State and Fate of
Linguistic Diversity"): ``high`` for their classes 3-5 (languages with sizeable
unlabelled and some labelled data), ``low`` for classes 0-2.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from .errors import ConfigError

Resource = Literal["low", "high"]


class Language(NamedTuple):
    """One language (or regional/script variant) known to the toolkit."""

    code: str
    """Canonical code: ISO 639-1 where one exists, else ISO 639-3, plus a variant subtag."""
    iso639_3: str
    name: str
    family: str
    script: str
    """ISO 15924 script code of the text in the data sets (``Latn``, ``Cyrl``, ``Hans`` …)."""
    resource: Resource
    ntrex: str | None
    """Code in the NTREX-128 file names (``newstest2019-ref.<ntrex>.txt``)."""
    tatoeba: str | None
    """Code in the Tatoeba (LASER v1) file names (``tatoeba.<code>-eng.<code>``)."""
    mafand: str | None
    """Code in the MAFAND-MT (lafand-mt) directory names (``en-<code>``)."""
    nllb: str | None
    """FLORES-200 / NLLB-200 code (``swh_Latn``), for NMT models."""

    @property
    def aliases(self) -> tuple[str, ...]:
        """Every other code that names this language."""
        found = (self.iso639_3, self.ntrex, self.tatoeba, self.mafand, self.nllb)
        return tuple(dict.fromkeys(a for a in found if a and a != self.code))


# code | iso639-3 | ntrex | tatoeba | mafand | nllb | script | resource | family | name
# ("-" means: not in that data set)
_TABLE = """
af     |afr|afr     |afr|-  |afr_Latn|Latn|high|Indo-European|Afrikaans
am     |amh|amh     |amh|amh|amh_Ethi|Ethi|low |Afro-Asiatic|Amharic
ar     |ara|arb     |ara|-  |arb_Arab|Arab|high|Afro-Asiatic|Arabic
az     |aze|aze-Latn|aze|-  |azj_Latn|Latn|high|Turkic|Azerbaijani
ba     |bak|bak     |-  |-  |bak_Cyrl|Cyrl|low |Turkic|Bashkir
be     |bel|bel     |bel|-  |bel_Cyrl|Cyrl|high|Indo-European|Belarusian
bem    |bem|bem     |-  |-  |bem_Latn|Latn|low |Niger-Congo|Bemba
bn     |ben|ben     |ben|-  |ben_Beng|Beng|high|Indo-European|Bengali
bo     |bod|bod     |-  |-  |bod_Tibt|Tibt|low |Sino-Tibetan|Tibetan
bs     |bos|bos     |bos|-  |bos_Latn|Latn|high|Indo-European|Bosnian
bg     |bul|bul     |bul|-  |bul_Cyrl|Cyrl|high|Indo-European|Bulgarian
ca     |cat|cat     |cat|-  |cat_Latn|Latn|high|Indo-European|Catalan
cs     |ces|ces     |ces|-  |ces_Latn|Latn|high|Indo-European|Czech
ckb    |ckb|ckb-Arab|-  |-  |ckb_Arab|Arab|low |Indo-European|Central Kurdish (Sorani)
cy     |cym|cym     |cym|-  |cym_Latn|Latn|low |Indo-European|Welsh
da     |dan|dan     |dan|-  |dan_Latn|Latn|high|Indo-European|Danish
de     |deu|deu     |deu|-  |deu_Latn|Latn|high|Indo-European|German
dv     |div|div     |-  |-  |-       |Thaa|low |Indo-European|Divehi
dz     |dzo|dzo     |-  |-  |dzo_Tibt|Tibt|low |Sino-Tibetan|Dzongkha
el     |ell|ell     |ell|-  |ell_Grek|Grek|high|Indo-European|Greek
en     |eng|eng     |-  |en |eng_Latn|Latn|high|Indo-European|English
en-GB  |eng-GB|eng-GB|- |-  |-       |Latn|high|Indo-European|English (British)
en-IN  |eng-IN|eng-IN|- |-  |-       |Latn|high|Indo-European|English (India)
en-US  |eng-US|eng-US|- |-  |-       |Latn|high|Indo-European|English (US)
et     |est|est     |est|-  |est_Latn|Latn|high|Uralic|Estonian
eu     |eus|eus     |eus|-  |eus_Latn|Latn|high|Isolate|Basque
fo     |fao|fao     |fao|-  |fao_Latn|Latn|low |Indo-European|Faroese
fa     |fas|fas     |pes|-  |pes_Arab|Arab|high|Indo-European|Persian
fj     |fij|fij     |-  |-  |fij_Latn|Latn|low |Austronesian|Fijian
fil    |fil|fil     |tgl|-  |tgl_Latn|Latn|high|Austronesian|Filipino
fi     |fin|fin     |fin|-  |fin_Latn|Latn|high|Uralic|Finnish
fr     |fra|fra     |fra|-  |fra_Latn|Latn|high|Indo-European|French
fr-CA  |fra-CA|fra-CA|- |-  |-       |Latn|high|Indo-European|French (Canada)
fuc    |fuc|fuc     |-  |-  |-       |Latn|low |Niger-Congo|Pulaar
ga     |gle|gle     |gle|-  |gle_Latn|Latn|low |Indo-European|Irish
gl     |glg|glg     |glg|-  |glg_Latn|Latn|high|Indo-European|Galician
gu     |guj|guj     |-  |-  |guj_Gujr|Gujr|low |Indo-European|Gujarati
ha     |hau|hau     |-  |hau|hau_Latn|Latn|low |Afro-Asiatic|Hausa
he     |heb|heb     |heb|-  |heb_Hebr|Hebr|high|Afro-Asiatic|Hebrew
hi     |hin|hin     |hin|-  |hin_Deva|Deva|high|Indo-European|Hindi
hmn    |hmn|hmn     |-  |-  |-       |Latn|low |Hmong-Mien|Hmong
hr     |hrv|hrv     |hrv|-  |hrv_Latn|Latn|high|Indo-European|Croatian
hu     |hun|hun     |hun|-  |hun_Latn|Latn|high|Uralic|Hungarian
hy     |hye|hye     |hye|-  |hye_Armn|Armn|low |Indo-European|Armenian
ig     |ibo|ibo     |-  |ibo|ibo_Latn|Latn|low |Niger-Congo|Igbo
id     |ind|ind     |ind|-  |ind_Latn|Latn|high|Austronesian|Indonesian
is     |isl|isl     |isl|-  |isl_Latn|Latn|low |Indo-European|Icelandic
it     |ita|ita     |ita|-  |ita_Latn|Latn|high|Indo-European|Italian
ja     |jpn|jpn     |jpn|-  |jpn_Jpan|Jpan|high|Japonic|Japanese
kn     |kan|kan     |-  |-  |kan_Knda|Knda|low |Dravidian|Kannada
ka     |kat|kat     |kat|-  |kat_Geor|Geor|low |Kartvelian|Georgian
kk     |kaz|kaz     |kaz|-  |kaz_Cyrl|Cyrl|low |Turkic|Kazakh
km     |khm|khm     |khm|-  |khm_Khmr|Khmr|low |Austroasiatic|Khmer
rw     |kin|kin     |-  |kin|kin_Latn|Latn|low |Niger-Congo|Kinyarwanda
kmr    |kmr|kmr     |kur|-  |kmr_Latn|Latn|low |Indo-European|Northern Kurdish (Kurmanji)
ko     |kor|kor     |kor|-  |kor_Hang|Hang|high|Koreanic|Korean
lv     |lav|lav     |lvs|-  |lvs_Latn|Latn|high|Indo-European|Latvian
lt     |lit|lit     |lit|-  |lit_Latn|Latn|high|Indo-European|Lithuanian
lb     |ltz|ltz     |-  |-  |ltz_Latn|Latn|low |Indo-European|Luxembourgish
lg     |lug|-       |-  |lug|lug_Latn|Latn|low |Niger-Congo|Luganda
luo    |luo|-       |-  |luo|luo_Latn|Latn|low |Nilo-Saharan|Luo
ml     |mal|mal     |mal|-  |mal_Mlym|Mlym|low |Dravidian|Malayalam
mr     |mar|mar     |mar|-  |mar_Deva|Deva|low |Indo-European|Marathi
mey    |mey|mey     |-  |-  |-       |Arab|low |Afro-Asiatic|Hassaniyya Arabic
mk     |mkd|mkd     |mkd|-  |mkd_Cyrl|Cyrl|low |Indo-European|Macedonian
mt     |mlt|mlt     |-  |-  |mlt_Latn|Latn|low |Afro-Asiatic|Maltese
mn     |mon|mon     |mon|-  |khk_Cyrl|Cyrl|low |Mongolic|Mongolian
mi     |mri|mri     |-  |-  |mri_Latn|Latn|low |Austronesian|Maori
ms     |msa|msa     |zsm|-  |zsm_Latn|Latn|high|Austronesian|Malay
my     |mya|mya     |-  |-  |mya_Mymr|Mymr|low |Sino-Tibetan|Burmese
nd     |nde|nde     |-  |-  |-       |Latn|low |Niger-Congo|North Ndebele
ne     |nep|nep     |-  |-  |npi_Deva|Deva|low |Indo-European|Nepali
nl     |nld|nld     |nld|-  |nld_Latn|Latn|high|Indo-European|Dutch
nn     |nno|nno     |nno|-  |nno_Latn|Latn|low |Indo-European|Norwegian Nynorsk
nb     |nob|nob     |nob|-  |nob_Latn|Latn|high|Indo-European|Norwegian Bokmal
nso    |nso|nso     |-  |-  |nso_Latn|Latn|low |Niger-Congo|Northern Sotho
om     |orm|orm     |-  |-  |gaz_Latn|Latn|low |Afro-Asiatic|Oromo
pa     |pan|pan     |-  |-  |pan_Guru|Guru|low |Indo-European|Panjabi
pcm    |pcm|-       |-  |pcm|-       |Latn|low |Creole|Nigerian Pidgin
pl     |pol|pol     |pol|-  |pol_Latn|Latn|high|Indo-European|Polish
pt     |por|por     |por|-  |por_Latn|Latn|high|Indo-European|Portuguese
pt-BR  |por-BR|por-BR|- |-  |-       |Latn|high|Indo-European|Portuguese (Brazil)
prs    |prs|prs     |-  |-  |prs_Arab|Arab|low |Indo-European|Dari
ro     |ron|ron     |ron|-  |ron_Latn|Latn|high|Indo-European|Romanian
ru     |rus|rus     |rus|-  |rus_Cyrl|Cyrl|high|Indo-European|Russian
shi    |shi|shi     |-  |-  |-       |Arab|low |Afro-Asiatic|Tashelhit (Shilha)
si     |sin|sin     |-  |-  |sin_Sinh|Sinh|low |Indo-European|Sinhala
sk     |slk|slk     |slk|-  |slk_Latn|Latn|high|Indo-European|Slovak
sl     |slv|slv     |slv|-  |slv_Latn|Latn|high|Indo-European|Slovenian
sn     |sna|sna-Latn|-  |sna|sna_Latn|Latn|low |Niger-Congo|Shona
sd     |snd|snd-Arab|-  |-  |snd_Arab|Arab|low |Indo-European|Sindhi
so     |som|som     |-  |-  |som_Latn|Latn|low |Afro-Asiatic|Somali
es     |spa|spa     |spa|-  |spa_Latn|Latn|high|Indo-European|Spanish
es-MX  |spa-MX|spa-MX|- |-  |-       |Latn|high|Indo-European|Spanish (Mexico)
sq     |sqi|sqi     |sqi|-  |als_Latn|Latn|low |Indo-European|Albanian
sr     |srp|srp-Cyrl|srp|-  |srp_Cyrl|Cyrl|high|Indo-European|Serbian (Cyrillic)
sr-Latn|srp-Latn|srp-Latn|-|- |-       |Latn|high|Indo-European|Serbian (Latin)
ss     |ssw|ssw     |-  |-  |ssw_Latn|Latn|low |Niger-Congo|Swati
sw     |swa|swa     |swh|swa|swh_Latn|Latn|low |Niger-Congo|Swahili
sv     |swe|swe     |swe|-  |swe_Latn|Latn|high|Indo-European|Swedish
ty     |tah|tah     |-  |-  |-       |Latn|low |Austronesian|Tahitian
ta     |tam|tam     |tam|-  |tam_Taml|Taml|high|Dravidian|Tamil
tt     |tat|tat     |tat|-  |tat_Cyrl|Cyrl|low |Turkic|Tatar
te     |tel|tel     |tel|-  |tel_Telu|Telu|low |Dravidian|Telugu
th     |tha|tha     |tha|-  |tha_Thai|Thai|high|Tai-Kadai|Thai
ti     |tir|tir     |-  |-  |tir_Ethi|Ethi|low |Afro-Asiatic|Tigrinya
to     |ton|ton     |-  |-  |-       |Latn|low |Austronesian|Tongan
tk     |tuk|tuk     |tuk|-  |tuk_Latn|Latn|low |Turkic|Turkmen
tr     |tur|tur     |tur|-  |tur_Latn|Latn|high|Turkic|Turkish
tw     |twi|-       |-  |twi|twi_Latn|Latn|low |Niger-Congo|Twi
uk     |ukr|ukr     |ukr|-  |ukr_Cyrl|Cyrl|high|Indo-European|Ukrainian
ur     |urd|urd     |urd|-  |urd_Arab|Arab|high|Indo-European|Urdu
uz     |uzb|uzb     |uzb|-  |uzn_Latn|Latn|low |Turkic|Uzbek
ve     |ven|ven     |-  |-  |-       |Latn|low |Niger-Congo|Venda
vi     |vie|vie     |vie|-  |vie_Latn|Latn|high|Austroasiatic|Vietnamese
yo     |yor|yor     |-  |yor|yor_Latn|Latn|low |Niger-Congo|Yoruba
yue    |yue|yue     |yue|-  |yue_Hant|Hant|low |Sino-Tibetan|Cantonese
zh     |zho|zho-CN  |cmn|-  |zho_Hans|Hans|high|Sino-Tibetan|Chinese (Simplified)
zh-TW  |zho-TW|zho-TW|- |-  |zho_Hant|Hant|high|Sino-Tibetan|Chinese (Traditional)
zu     |zul|zul     |-  |zul|zul_Latn|Latn|low |Niger-Congo|Zulu
"""


def _parse(table: str) -> tuple[Language, ...]:
    rows = []
    for line in table.strip().splitlines():
        code, iso3, ntrex, tatoeba, mafand, nllb, script, resource, family, name = (
            cell.strip() for cell in line.split("|")
        )
        none = lambda v: None if v == "-" else v  # noqa: E731
        assert resource in ("low", "high"), line
        rows.append(
            Language(code, iso3, name, family, script, resource,  # type: ignore[arg-type]
                     none(ntrex), none(tatoeba), none(mafand), none(nllb))
        )
    return tuple(rows)


LANGUAGES: tuple[Language, ...] = _parse(_TABLE)
"""Every language the toolkit knows, in table order."""

_BY_CODE: dict[str, Language] = {}
for _lang in LANGUAGES:
    for _key in (_lang.code, *_lang.aliases):
        _k = _key.lower()
        if _k in _BY_CODE and _BY_CODE[_k] is not _lang:
            raise AssertionError(f"language code {_key!r} is ambiguous in the table")
        _BY_CODE[_k] = _lang

LOW_RESOURCE_DEFAULT: tuple[str, ...] = ("sw", "so", "ha", "yo")
HIGH_RESOURCE_DEFAULT: tuple[str, ...] = ("de", "fr", "zh")
DEFAULT_PAIRS: tuple[str, ...] = LOW_RESOURCE_DEFAULT + HIGH_RESOURCE_DEFAULT
"""The seven default query languages (X in X→English): four low-, three high-resource."""


class UnknownLanguageError(ConfigError):
    """A language code that the table does not know."""

    def __init__(self, code: str, valid: list[str] | None = None, what: str = "language") -> None:
        valid = sorted(valid if valid is not None else (lang.code for lang in LANGUAGES))
        super().__init__(
            f"unknown {what} code {code!r}. Valid codes (ISO 639-1 where one exists; "
            f"ISO 639-3, NTREX, Tatoeba and NLLB codes are accepted as aliases): "
            f"{', '.join(valid)}"
        )
        self.code = code


def get_language(code: str) -> Language:
    """Return the language named by ``code`` (canonical code or any alias, any case).

    Raises
    ------
    UnknownLanguageError
        If no language of the table has that code; the message lists the valid codes.
    """
    if not isinstance(code, str) or not code.strip():
        raise UnknownLanguageError(repr(code))
    try:
        return _BY_CODE[code.strip().lower()]
    except KeyError:
        raise UnknownLanguageError(code) from None


def canonical(code: str) -> str:
    """Canonical code of ``code`` (``swa`` → ``sw``, ``zho-CN`` → ``zh``)."""
    return get_language(code).code


def languages_with(source: Literal["ntrex", "tatoeba", "mafand", "nllb"]) -> tuple[Language, ...]:
    """The languages that a data set (or model family) covers, in table order."""
    return tuple(lang for lang in LANGUAGES if getattr(lang, source))


def resource_level(code: str) -> Resource:
    """``'low'`` or ``'high'``."""
    return get_language(code).resource
