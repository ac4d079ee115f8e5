r"""The comparison across many languages: where each system wins, and whether it holds.

A table of four languages says little about a fifth; over dozens of languages the unit of
evidence is the language. From the per-language MAP of a collection's systems this writes,
into ``runs/<collection>/``:

* ``languages.md`` — a row per language, ordered by the MAP of ``rank_by`` (the zero-shot
  encoder: how well the multilingual model knows the language), with its script and family,
  every system's MAP and the language's winner;
* ``across.md`` — per system: the languages it has runs on, its mean and median MAP, and the
  number of languages on which it is best (among the systems that have runs on every
  language); then, per pair ``(A, B)``, the Wilcoxon signed-rank test over the languages
  both have (:func:`optical_ir.significance.wilcoxon`, Holm over the pairs), with the mean
  and median of :math:`d_l = \mathrm{MAP}_A(l) - \mathrm{MAP}_B(l)` and the wins/losses;
  then, for each ``contests`` pair, what predicts the winner: Spearman's
  :math:`\rho` of :math:`d_l` against ``rank_by``'s MAP (and against the tokenizer
  features below), and :math:`d_l` by script (Latin or not: a Mann-Whitney U test) and by
  family;
* ``across.csv`` — the pair tests; ``ranked.png`` — each system's MAP over the languages in
  ``rank_by`` order;
* with ``reference`` (the languages the settings were chosen on), ``holds.csv`` and a table
  in ``across.md``: each pair's mean difference and wins on the reference languages, and its
  Wilcoxon test on the *other* languages only (Holm over the pairs), with a verdict: the
  conclusion ``holds`` (same sign, significant), ``reverses`` (opposite sign, significant) or
  is ``not significant`` beyond the reference languages.

With ``tokenizer`` (an encoder name), each language also gets two measures of how that
encoder's tokenizer cuts its queries, computed against their English originals (the
collection's queries are translations of the same English sentences, so the two are
comparable across scripts, which tokens per word are not: Burmese and Khmer do not separate
words by spaces):

.. math::

   \mathrm{premium}(l) = \frac{\sum_q |\mathrm{tok}(x^l_q)|}{\sum_q |\mathrm{tok}(e_q)|}, \qquad
   \mathrm{unk}(l) = \frac{\sum_q |\{t \in \mathrm{tok}(x^l_q) : t = \mathtt{<unk>}\}|}
                          {\sum_q |\mathrm{tok}(x^l_q)|}

(the "tokenization premium" of Petrov et al., NeurIPS 2023): a script the vocabulary never
saw comes out as unknown tokens or as single bytes, and the encoder cannot know the words.
Both are columns of ``languages.md`` and predictors of ``rank_by``'s MAP and of each contest.

The settings are the config's ``report.across``::

    across:
      rank_by: dense-zeroshot
      systems: [bm25, bm25-psq, dense-zeroshot, rrf-zeroshot]
      pairs: [[dense-zeroshot, bm25-psq]]
      contests: [[dense-zeroshot, bm25-psq]]
      tokenizer: multilingual-e5-small
"""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Mapping, Sequence, Set
from pathlib import Path
from typing import Any, NamedTuple

from ..files import atomic_write
from ..significance import format_p, holm, wilcoxon
from .report import save_figure

Scores = Mapping[tuple[str, str], float]
Features = Mapping[str, Mapping[str, float]]
"""A numeric property of each language, by name: ``{"premium": {"sw": 1.21, …}, …}``."""

FEATURES = {"premium": "tokens per English token", "unk": "unknown-token share"}
"""The features :func:`tokenization` measures, with what they are called in the tables."""


class PairTest(NamedTuple):
    """System minus baseline over the languages both have runs on."""

    system: str
    baseline: str
    n: int
    mean_difference: float
    median_difference: float
    wins: int
    losses: int
    statistic: float
    p: float
    p_holm: float


class Holds(NamedTuple):
    """A pair on the reference languages, and tested on the others (:attr:`Across.beyond`)."""

    reference_mean: float
    reference_wins: int
    reference_n: int
    others: PairTest
    verdict: str
    """``holds``, ``reverses`` or ``not significant``."""


class Across:
    """Per-language MAP of several systems, summarised and tested over the languages."""

    def __init__(self, languages: Sequence[str], scores: Scores, settings: Mapping[str, Any],
                 measure: str = "AP", alpha: float = 0.05, features: Features | None = None) -> None:
        self.languages, self.scores, self.measure, self.alpha = list(languages), scores, measure, alpha
        self.features: Features = features or {}
        self.rank_by: str = settings["rank_by"]
        self.systems = [s for s in settings["systems"] if self.covered(s)]
        ranked = sorted((lang for lang in self.languages if (self.rank_by, lang) in scores),
                        key=lambda lang: (-scores[(self.rank_by, lang)], lang))
        self.ranked = ranked + [lang for lang in self.languages if lang not in ranked]
        self.full = [s for s in self.systems if len(self.covered(s)) == len(self.languages)]
        """The systems with a run on every language: the ones a language's winner is chosen from."""
        self.pairs = self._tests([(a, b) for a, b in settings.get("pairs") or [] if len(self.differences(a, b)) >= 2])
        self.contests: list[tuple[str, str]] = [(a, b) for a, b in settings.get("contests") or []
                                                if len(self.differences(a, b)) >= 2]
        self.reference = [x for x in settings.get("reference") or [] if x in self.languages]
        self.beyond = self._beyond() if self.reference else []

    def covered(self, system: str) -> list[str]:
        """The languages ``system`` has a score on."""
        return [lang for lang in self.languages if (system, lang) in self.scores]

    def gaps(self) -> list[tuple[list[str], list[str]]]:
        """The languages still without a run: (systems, languages) for each set of languages
        that the same systems lack, in the order of :attr:`systems`."""
        lacking: dict[tuple[str, ...], list[str]] = {}
        for system in self.systems:
            gap = tuple(lang for lang in self.languages if (system, lang) not in self.scores)
            if gap:
                lacking.setdefault(gap, []).append(system)
        return [(systems, list(gap)) for gap, systems in lacking.items()]

    def values(self, system: str) -> dict[str, float]:
        return {lang: self.scores[(system, lang)] for lang in self.covered(system)}

    def winner(self, lang: str) -> str | None:
        """The system of :attr:`full` with the highest MAP on ``lang`` (ties: the first listed)."""
        return max(self.full, key=lambda s: self.scores[(s, lang)]) if self.full else None

    def wins(self, system: str) -> int | None:
        if system not in self.full:
            return None
        return sum(self.winner(lang) == system for lang in self.languages)

    def _tests(self, pairs: Sequence[tuple[str, str]], only: Set[str] | None = None) -> list[PairTest]:
        """Each pair's Wilcoxon test over the languages both have (``only``: of these), Holm over the pairs."""
        def keep(values: Mapping[str, float]) -> dict[str, float]:
            return {x: v for x, v in values.items() if only is None or x in only}

        raw = []
        for a, b in pairs:
            d = list(keep(self.differences(a, b)).values())
            w, p, n = wilcoxon(keep(self.values(a)), keep(self.values(b)))
            raw.append((a, b, n, statistics.fmean(d), statistics.median(d), sum(x > 0 for x in d),
                        sum(x < 0 for x in d), w, p))
        adjusted = holm([r[-1] for r in raw])
        return [PairTest(*r, p_adj) for r, p_adj in zip(raw, adjusted, strict=True)]

    def _beyond(self) -> list[Holds]:
        """Each pair with a difference on the reference languages, tested on the other languages."""
        others = set(self.languages) - set(self.reference)
        pairs, reference = [], []
        for t in self.pairs:
            d = self.differences(t.system, t.baseline)
            ref = [v for x, v in d.items() if x in self.reference]
            if ref and sum(x in others for x in d) >= 2:
                pairs.append((t.system, t.baseline))
                reference.append(ref)
        out = []
        for ref, t in zip(reference, self._tests(pairs, others), strict=True):
            mean = statistics.fmean(ref)
            verdict = ("not significant" if t.p_holm >= self.alpha else
                       "holds" if (mean > 0) == (t.mean_difference > 0) else "reverses")
            out.append(Holds(mean, sum(v > 0 for v in ref), len(ref), t, verdict))
        return out

    # -- predictors of a contest -----------------------------------------------------------------
    def differences(self, a: str, b: str) -> dict[str, float]:
        """:math:`d_l = \\mathrm{MAP}_a(l) - \\mathrm{MAP}_b(l)` on each language both have."""
        va, vb = self.values(a), self.values(b)
        return {x: va[x] - vb[x] for x in self.languages if x in va and x in vb}

    def predictors(self, a: str, b: str) -> dict[str, Any]:
        """Spearman's rho of :math:`d_l` (``a`` minus ``b``) against ``rank_by``'s MAP, and
        :math:`d_l` by script (Latin or not, Mann-Whitney U) and by family."""
        from scipy.stats import mannwhitneyu

        from ..languages import get_language

        d = self.differences(a, b)
        rho, rho_p, n = self.correlation(d, self.values(self.rank_by))
        by_feature = {name: self.correlation(d, values) for name, values in self.features.items()}
        groups: dict[str, dict[str, list[float]]] = {"script": {}, "family": {}}
        for x, v in d.items():
            lang = get_language(x)
            groups["script"].setdefault("Latin" if lang.script == "Latn" else "other scripts", []).append(v)
            groups["family"].setdefault(lang.family or "unknown", []).append(v)
        latin, other = groups["script"].get("Latin", []), groups["script"].get("other scripts", [])
        u_p = float(mannwhitneyu(latin, other).pvalue) if len(latin) >= 2 and len(other) >= 2 else None
        return {"rho": rho, "rho_p": rho_p, "n": n, "groups": groups, "script_p": u_p, "features": by_feature}

    @staticmethod
    def correlation(x: Mapping[str, float], y: Mapping[str, float]) -> tuple[float, float, int]:
        """Spearman's rho of ``x`` and ``y`` over the languages both have, its p-value and their number."""
        from scipy.stats import spearmanr

        common = [lang for lang in x if lang in y]
        if len(common) < 3:
            return float("nan"), float("nan"), len(common)
        rho = spearmanr([x[lang] for lang in common], [y[lang] for lang in common])
        return float(rho.statistic), float(rho.pvalue), len(common)

    # -- Markdown -------------------------------------------------------------------------------
    def languages_markdown(self) -> str:
        from ..languages import get_language

        buf = io.StringIO()
        buf.write(f"{self.measure} per language, ordered by {self.rank_by}; best: the highest of the systems with "
                  f"a run on every language ({', '.join(self.full)})")
        if self.features:
            buf.write("; " + ", ".join(f"{name}: {FEATURES.get(name, name)}" for name in self.features)
                      + " (of the language's queries, against their English originals)")
        buf.write("\n\n")
        header = ["#", "lang", "name", "script", "family", *self.features, *self.systems, "best"]
        buf.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for i, x in enumerate(self.ranked, 1):
            lang = get_language(x)
            cells = [str(i), x, lang.name, lang.script, lang.family or "–"]
            cells += [_feature(name, values.get(x)) for name, values in self.features.items()]
            best = self.winner(x)
            for s in self.systems:
                v = self.scores.get((s, x))
                cells.append("–" if v is None else (f"**{v:.4f}**" if s == best else f"{v:.4f}"))
            cells.append(best or "–")
            buf.write("| " + " | ".join(cells) + " |\n")
        return buf.getvalue()

    def summary_markdown(self) -> str:
        buf = io.StringIO()
        n = len(self.languages)
        buf.write(f"{self.measure} over {n} languages: mean, median, and on how many languages each system is best "
                  f"(among those with a run on all {n})\n\n")
        buf.write("| system | languages | mean | median | best on |\n|---|---|---|---|---|\n")
        for s in self.systems:
            v = list(self.values(s).values())
            wins = self.wins(s)
            buf.write(f"| {s} | {len(v)} | {statistics.fmean(v):.4f} | {statistics.median(v):.4f} | "
                      f"{'–' if wins is None else wins} |\n")
        for systems, gap in self.gaps():
            buf.write(f"\nNo run yet of {', '.join(systems)} on {len(gap)} languages: {' '.join(gap)}\n")
        if self.pairs:
            buf.write(f"\nPaired over languages: {self.measure} of system minus baseline on the languages both have "
                      f"(mean, median, wins/losses); Wilcoxon signed-rank test, Holm over the {len(self.pairs)} "
                      f"pairs; * p < {self.alpha}\n\n")
            buf.write("| system | baseline | languages | mean diff | median diff | wins | losses | W | p | Holm p |\n")
            buf.write("|---|---|---|---|---|---|---|---|---|---|\n")
            for t in self.pairs:
                star = "*" if t.p_holm < self.alpha else ""
                buf.write(f"| {t.system} | {t.baseline} | {t.n} | {t.mean_difference:+.4f} | "
                          f"{t.median_difference:+.4f} | {t.wins} | {t.losses} | {t.statistic:g} | "
                          f"{format_p(t.p, self.alpha)} | {format_p(t.p_holm, self.alpha)}{star} |\n")
        if self.beyond:
            buf.write(f"\nDoes it hold beyond {', '.join(self.reference)} (the languages the settings were chosen "
                      f"on)? Each pair there (mean difference, wins) and on the other languages both have "
                      f"(Wilcoxon signed-rank, Holm over the {len(self.beyond)} pairs); holds / reverses: the same / "
                      f"the opposite sign, p < {self.alpha}\n\n")
            buf.write("| system | baseline | reference mean diff | reference wins | other languages | mean diff | "
                      "median diff | wins | losses | Holm p | verdict |\n" + "|---" * 11 + "|\n")
            for h in self.beyond:
                t = h.others
                buf.write(f"| {t.system} | {t.baseline} | {h.reference_mean:+.4f} | "
                          f"{h.reference_wins}/{h.reference_n} | {t.n} | {t.mean_difference:+.4f} | "
                          f"{t.median_difference:+.4f} | {t.wins} | {t.losses} | "
                          f"{format_p(t.p_holm, self.alpha)} | {h.verdict} |\n")
        if self.features:
            rank = self.values(self.rank_by)
            parts = []
            for name, values in self.features.items():
                rho, p, k = self.correlation(rank, values)
                parts.append(f"{FEATURES.get(name, name)} ({name}) ρ = {rho:+.3f} (p = {p:.3g}, {k} languages)")
            buf.write(f"\nWhat predicts {self.rank_by}'s {self.measure}: Spearman's ρ with the tokenizer's "
                      f"{'; '.join(parts)}\n")
        for a, b in self.contests:
            buf.write("\n" + self.predictors_markdown(a, b))
        return buf.getvalue()

    def predictors_markdown(self, a: str, b: str) -> str:
        pred = self.predictors(a, b)
        buf = io.StringIO()
        buf.write(f"What predicts whether {a} beats {b} (d = {a} − {b}): Spearman's ρ of d with {self.rank_by}'s "
                  f"{self.measure} over {pred['n']} languages = {pred['rho']:+.3f} (p = {pred['rho_p']:.3g})")
        for name, (rho, p, _) in pred["features"].items():
            buf.write(f"; with {FEATURES.get(name, name)} ρ = {rho:+.3f} (p = {p:.3g})")
        if pred["script_p"] is not None:
            buf.write(f"; Latin script or not, Mann-Whitney U p = {pred['script_p']:.3g}")
        buf.write("\n\n| by | group | languages | mean d | wins of " + a + " |\n|---|---|---|---|---|\n")
        for by in ("script", "family"):
            for g, vals in sorted(pred["groups"][by].items(), key=lambda kv: (-len(kv[1]), kv[0])):
                buf.write(f"| {by} | {g} | {len(vals)} | {statistics.fmean(vals):+.4f} | "
                          f"{sum(v > 0 for v in vals)} |\n")
        return buf.getvalue()

    # -- plot -----------------------------------------------------------------------------------
    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(max(8.0, 0.22 * len(self.ranked) + 2), 4.6))
        xs = range(len(self.ranked))
        for s in self.systems:
            pts = [(i, self.scores[(s, x)]) for i, x in enumerate(self.ranked) if (s, x) in self.scores]
            style = dict(marker="o", markersize=3, linewidth=1.2 if s == self.rank_by else 0.8)
            if len(pts) < len(self.ranked):
                style.update(linestyle="none", marker="D", markersize=5)
            ax.plot([p[0] for p in pts], [p[1] for p in pts], label=s, **style)
        ax.set_xticks(list(xs), self.ranked, rotation=90, fontsize=7)
        ax.set_xlim(-0.6, len(self.ranked) - 0.4)
        ax.set_ylabel(self.measure)
        ax.set_xlabel(f"languages, by {self.rank_by} {self.measure}")
        ax.grid(axis="y", linewidth=0.3)
        ax.legend(fontsize=7, ncol=3, loc="upper right")
        return save_figure(fig, path)


def _feature(name: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{100 * value:.1f}%" if name == "unk" else f"{value:.2f}"


def tokenization(languages: Sequence[str], dataset: str, tokenizer: str,
                 english: str = "en") -> dict[str, dict[str, float]]:
    """How ``tokenizer`` (an encoder name or directory) cuts each language's queries of
    ``dataset`` (an id with ``{lang}``) against the ``english`` ones with the same ids:
    ``premium`` (tokens per English token) and ``unk`` (the share of unknown tokens)."""
    from transformers import AutoTokenizer

    from ..encoders.embedded import resolve
    from ..topics import load_topics

    tok = AutoTokenizer.from_pretrained(resolve(tokenizer))

    def cut(lang: str) -> dict[str, list[int]]:
        qids, texts = zip(*load_topics(dataset.format(lang=lang)), strict=True)
        return dict(zip(qids, tok(list(texts), add_special_tokens=False)["input_ids"], strict=True))

    reference = cut(english)
    unk_id = tok.unk_token_id  # a property that looks the token up: read once
    premium, unk = {}, {}
    for lang in languages:
        ids = cut(lang)
        common = [q for q in ids if q in reference]
        n = sum(len(ids[q]) for q in common)
        premium[lang] = n / sum(len(reference[q]) for q in common)
        unk[lang] = sum(ids[q].count(unk_id) for q in common) / n
    return {"premium": premium, "unk": unk}


def write_across(languages: Sequence[str], scores: Scores, settings: Mapping[str, Any], out_dir: str | Path,
                 measure: str = "AP", alpha: float = 0.05, dataset: str | None = None) -> Across:
    """``languages.md``, ``across.md``, ``across.csv`` and ``ranked.png`` into ``out_dir``;
    with ``settings["tokenizer"]``, the tokenizer features of ``dataset``'s queries too."""
    out = Path(out_dir)
    features = None
    if settings.get("tokenizer") and dataset:
        features = tokenization(languages, dataset, settings["tokenizer"], settings.get("english", "en"))
    across = Across(languages, scores, settings, measure, alpha, features)
    if not across.systems:
        return across
    with atomic_write(out / "languages.md") as f:
        f.write(across.languages_markdown())
    with atomic_write(out / "across.md") as f:
        f.write(across.summary_markdown())
    with atomic_write(out / "across.csv") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["system", "baseline", "languages", "mean_difference", "median_difference", "wins", "losses",
                    "W", "p", "p_holm"])
        for t in across.pairs:
            w.writerow([t.system, t.baseline, t.n, f"{t.mean_difference:+.4f}", f"{t.median_difference:+.4f}",
                        t.wins, t.losses, f"{t.statistic:g}", format_p(t.p, alpha), format_p(t.p_holm, alpha)])
    if across.beyond:
        with atomic_write(out / "holds.csv") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(["system", "baseline", "reference_mean_difference", "reference_wins", "reference_languages",
                        "languages", "mean_difference", "median_difference", "wins", "losses", "W", "p", "p_holm",
                        "verdict"])
            for h in across.beyond:
                t = h.others
                w.writerow([t.system, t.baseline, f"{h.reference_mean:+.4f}", h.reference_wins, h.reference_n, t.n,
                            f"{t.mean_difference:+.4f}", f"{t.median_difference:+.4f}", t.wins, t.losses,
                            f"{t.statistic:g}", format_p(t.p, alpha), format_p(t.p_holm, alpha), h.verdict])
    across.plot(out / "ranked.png")
    return across
