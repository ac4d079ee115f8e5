r"""A bilingual lexicon learned from bitext: the eflomal lexical table p(e | f).

1. Both sides of the bitext (:mod:`optical_ir.parallel`) are tokenised like BM25 queries
   (:func:`optical_ir.analysis.tokenize`: NFKC, case folding, Unicode word runs); Chinese
   and Japanese runs are split into characters, as Lucene's standard tokenizer does.
2. eflomal (Östling and Tiedemann, 2016; model 3: IBM-1 → HMM → fertility) aligns the words
   in both directions; every link of either direction counts once.
3. :math:`p(e \mid f) = c(f, e) / \sum_{e'} c(f, e')` over the link counts, then pruned per
   source word: translations with :math:`p <` ``min_prob`` go, at most ``top_k`` stay, and
   the most probable are kept until their mass reaches ``cumulative``; what is left is
   renormalised to sum to 1.

The table is saved as ``table.tsv.gz`` (``f<TAB>e<TAB>p``, gzip) with ``optical_ir-table.json``
(language, sources, settings, pair count, digest) and reused: :func:`learn_table` returns
the saved table when the configuration matches and refuses one made with another.

eflomal seeds its sampler from the operating system (it has no seed option), so two learns
of the same table differ slightly; reuse the saved table for comparable runs.

It sits in the data layer beside the bitext it is learned from. Two query forms use it,
:class:`optical_ir.translation.table.TableTranslator` (1-best word-by-word translation) and
PSQ (:mod:`optical_ir.translation.psq`), and so does code-switching
(:mod:`optical_ir.perturbation`), which puts the 1-best English word in place of a query word.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, DataFormatError, MismatchError, MissingInputError

TABLE_FILE = "table.tsv.gz"
CONFIG_FILE = "optical_ir-table.json"
CHARACTER_LANGS = ("zh", "ja")
_HAN = re.compile(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff])")

# Lucene's English stop words (EnglishAnalyzer.ENGLISH_STOP_WORDS_SET, which Anserini's
# default analyzer removes): a 1-best translation that is one of them matches nothing.
ENGLISH_STOPWORDS = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with".split())


@dataclass(frozen=True)
class TableConfig:
    """How a lexical table is learned and pruned (saved in ``optical_ir-table.json``).

    Parameters
    ----------
    lang
        Source language (canonical code).
    sources
        Bitext sources (``ntrex``, ``tatoeba``, ``mafand``, ``multi30k``; ``all``).
    bitext
        The user's own bitext files instead of ``sources``
        (:func:`optical_ir.parallel.read_bitext`); their content's md5 is part of the digest,
        so an edited file gets a new table.
    min_prob
        Drop translations below this probability.
    top_k
        Keep at most this many translations per source word.
    cumulative
        Keep the most probable translations until their mass reaches this.
    """

    lang: str = field(metadata={"help": "source language"})
    sources: tuple[str, ...] = field(default=("ntrex",), metadata={
        "help": "bitext sources: ntrex tatoeba mafand multi30k, or all"})
    bitext: tuple[str, ...] = field(default=(), metadata={
        "help": "your own bitext instead of --sources: one TSV of x<TAB>english lines, or two line-aligned files "
                "(X side first)"})
    min_prob: float = field(default=0.01, metadata={"help": "drop translations with p(e|f) below this"})
    top_k: int = field(default=10, metadata={"help": "at most this many translations per word"})
    cumulative: float = field(default=0.95, metadata={
        "help": "keep translations until their probability mass reaches this"})

    def __post_init__(self) -> None:
        from .languages import canonical
        from .parallel import resolve_sources

        object.__setattr__(self, "lang", canonical(self.lang))
        if self.lang == "en":
            raise ConfigError("a translation table maps a non-English language into English; got 'en'")
        object.__setattr__(self, "sources", resolve_sources(self.sources))
        object.__setattr__(self, "bitext", tuple(str(b) for b in self.bitext))
        if len(self.bitext) > 2:
            raise ConfigError("--bitext takes one TSV (x<TAB>english) or two line-aligned files")
        if not (0 <= self.min_prob < 1 and self.top_k >= 1 and 0 < self.cumulative <= 1):
            raise ConfigError("need 0 ≤ min_prob < 1, top_k ≥ 1 and 0 < cumulative ≤ 1")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["sources"], d["bitext"] = list(self.sources), list(self.bitext)
        if not self.bitext:
            del d["bitext"]  # tables learned before --bitext existed keep their digest
        return d

    @property
    def digest(self) -> str:
        d = self.to_dict()
        if self.bitext:
            from .mirror import md5sum

            d["bitext_md5"] = [md5sum(Path(p)) if Path(p).is_file() else None for p in self.bitext]
        return hashlib.md5(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]


def tokenize(text: str, lang: str) -> list[str]:
    """Tokens for alignment and translation: the query normalisation, CJK split into characters."""
    from .analysis import tokenize as normalise
    from .languages import canonical

    tokens = normalise(text, lang)
    if canonical(lang).split("-")[0] in CHARACTER_LANGS:
        tokens = [piece for t in tokens for piece in _HAN.split(t) if piece]
    return tokens


def prune(probs: dict[str, float], min_prob: float, top_k: int, cumulative: float) -> dict[str, float]:
    """Prune one source word's distribution (threshold, top-k, cumulative mass) and renormalise.

    The most probable translation always survives. Ties are broken by the English word, so
    the result does not depend on the order of ``probs``.
    """
    ranked = sorted(probs.items(), key=lambda kv: (-kv[1], kv[0]))
    kept: list[tuple[str, float]] = []
    mass = 0.0
    for e, p in ranked:
        if kept and (p < min_prob or len(kept) >= top_k or mass >= cumulative - 1e-12):
            break
        kept.append((e, p))
        mass += p
    total = sum(p for _, p in kept)
    return {e: p / total for e, p in kept}


def table_from_links(pairs: Iterable[tuple[Sequence[str], Sequence[str]]],
                     links: Iterable[Iterable[tuple[int, int]]]) -> dict[str, dict[str, float]]:
    """p(e | f) from link counts: ``links`` holds, per pair, ``(i, j)`` = (source, English) positions."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for (src, en), pair_links in zip(pairs, links, strict=True):
        for i, j in pair_links:
            counts[src[i]][en[j]] += 1
    return {f: {e: c / sum(cs.values()) for e, c in cs.items()} for f, cs in counts.items()}


def _read_links(path: Path) -> list[list[tuple[int, int]]]:
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.append([(int(a), int(b)) for a, b in (x.split("-") for x in line.split())])
    return out


def align(pairs: Sequence[tuple[Sequence[str], Sequence[str]]]) -> list[list[tuple[int, int]]]:
    """eflomal links of both directions (forward and reverse, each counted) per pair."""
    import tempfile

    try:
        from eflomal import Aligner
    except ImportError as err:  # pragma: no cover - a dependency of the package
        raise ImportError("learning a translation table needs eflomal: pip install eflomal") from err

    with tempfile.TemporaryDirectory(prefix="optical_ir-eflomal-") as tmp:
        fwd, rev = Path(tmp) / "fwd", Path(tmp) / "rev"
        Aligner().align([" ".join(s) for s, _ in pairs], [" ".join(e) for _, e in pairs],
                        links_filename_fwd=str(fwd), links_filename_rev=str(rev), quiet=True)
        forward, reverse = _read_links(fwd), _read_links(rev)
    return [a + b for a, b in zip(forward, reverse, strict=True)]


class TranslationTable:
    """A pruned lexical translation table ``f → {e: p(e|f)}`` with its configuration."""

    def __init__(self, probs: dict[str, dict[str, float]], config: TableConfig, n_pairs: int = 0) -> None:
        self.probs, self.config, self.n_pairs = probs, config, n_pairs

    def __len__(self) -> int:
        return len(self.probs)

    def __contains__(self, word: object) -> bool:
        return word in self.probs

    def translations(self, word: str) -> dict[str, float]:
        return self.probs.get(word, {})

    def best(self, word: str, content_min: float = 0.2) -> str | None:
        """The most probable English translation of ``word`` (``None`` if the table lacks it).

        When that is an English stop word (which the index drops), the best content word with
        :math:`p \\ge` ``content_min`` is taken instead, if there is one.
        """
        options = self.translations(word)
        if not options:
            return None
        ranked = sorted(options.items(), key=lambda kv: (-kv[1], kv[0]))
        if ranked[0][0] in ENGLISH_STOPWORDS:
            content = [e for e, p in ranked if e not in ENGLISH_STOPWORDS and p >= content_min]
            if content:
                return content[0]
        return ranked[0][0]

    @property
    def digest(self) -> str:
        """md5 of the table's content: names the table in the translation cache."""
        h = hashlib.md5()
        for f in sorted(self.probs):
            for e, p in sorted(self.probs[f].items()):
                h.update(f"{f}\t{e}\t{p:.6g}\n".encode())
        return h.hexdigest()[:12]

    def save(self, directory: str | os.PathLike[str]) -> Path:
        from .files import atomic_text, atomic_write

        out = Path(directory)
        with atomic_text(out / TABLE_FILE) as f:
            for src in sorted(self.probs):
                for e, p in sorted(self.probs[src].items(), key=lambda kv: (-kv[1], kv[0])):
                    f.write(f"{src}\t{e}\t{p:.6g}\n")
        with atomic_write(out / CONFIG_FILE) as f:
            json.dump({"config": self.config.to_dict(), "pairs": self.n_pairs, "source_words": len(self.probs),
                       "digest": self.digest}, f, indent=2, ensure_ascii=False)
            f.write("\n")
        return out

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> TranslationTable:
        """Read a saved table; a malformed line is an error with its line number."""
        d = Path(directory)
        if not (d / TABLE_FILE).is_file() or not (d / CONFIG_FILE).is_file():
            raise MissingInputError(f"{d} holds no translation table ({TABLE_FILE} and {CONFIG_FILE}); learn one "
                                    f"with python -m optical_ir.translate --method table")
        meta = json.loads((d / CONFIG_FILE).read_text(encoding="utf-8"))
        config = TableConfig(**{**meta["config"], "sources": tuple(meta["config"]["sources"]),
                                "bitext": tuple(meta["config"].get("bitext", ()))})
        from .files import iter_lines

        probs: dict[str, dict[str, float]] = defaultdict(dict)
        for lineno, line in iter_lines(d / TABLE_FILE):
            parts = line.rstrip("\n").split("\t")
            try:
                src, e, p = parts
                prob = float(p)
                if not 0 < prob <= 1:
                    raise ValueError
            except ValueError:
                raise DataFormatError(d / TABLE_FILE, "expected 'source<TAB>english<TAB>p' with 0 < p ≤ 1", lineno,
                                      line) from None
            probs[src][e] = prob
        return cls(dict(probs), config, meta.get("pairs", 0))


def default_table_dir(config: TableConfig) -> Path:
    from .mirror import cache_dir

    return cache_dir() / "translation" / "tables" / f"{config.lang}.{'+'.join(config.sources)}.{config.digest}"


def learn_table(config: TableConfig, directory: str | os.PathLike[str] | None = None,
                relearn: bool = False) -> TranslationTable:
    """Learn (or reuse) the lexical table of ``config`` in ``directory`` (default: the cache)."""
    from .parallel import bitext_origin, load_bitext

    out = Path(directory) if directory else default_table_dir(config)
    if (out / CONFIG_FILE).is_file() and not relearn:
        table = TranslationTable.load(out)
        if table.config != config:
            raise MismatchError(f"{out} holds a table learned with {table.config.to_dict()}, not "
                             f"{config.to_dict()}; pass --relearn or another --table")
        return table
    bitext = load_bitext(config.lang, config.sources, files=config.bitext or None)
    pairs = [(tokenize(p.source, config.lang), tokenize(p.english, "en")) for p in bitext]
    pairs = [(s, e) for s, e in pairs if s and e]
    if not pairs:
        where = bitext_origin(config.sources, config.bitext)
        raise ConfigError(f"no {config.lang}–English bitext in {where}: nothing to learn a table from; choose other "
                          f"--sources or give --bitext")
    raw = table_from_links(pairs, align(pairs))
    probs = {f: prune(ps, config.min_prob, config.top_k, config.cumulative) for f, ps in raw.items()}
    TranslationTable(probs, config, len(pairs)).save(out)
    # the saved table, probabilities at the precision of the file: a table used right after
    # learning must translate exactly as the same table read back later
    return TranslationTable.load(out)
