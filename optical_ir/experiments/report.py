"""Paper-style tables of a collection's runs: Markdown, LaTeX, significance, gaps, a plot.

From the evaluated runs of one collection (``runs/<collection>/``) this writes

* ``table.md`` and ``table.tex`` — rows are systems (conditions), columns the languages
  grouped by resource level with each group's average, and the English ceiling; the
  headline measure (MAP), with significance markers against the configured baselines
  (paired t-test on per-query values, Holm-corrected over the systems on each language);
  then the relative improvement of the configured system over the translate-then-search
  baselines on each group's average, and the gap of every system to the English ceiling;
* ``significance.csv`` — every comparison: system, baseline, language, means, p, Holm p;
* ``map.png`` — the headline measure per language and system, with the ceiling.

The report settings live in the reproduction config (``report:``)::

    report:
      baselines: [bm25-qt, dense-zeroshot]   # markers † ‡ (better), ▾† ▾‡ (worse)
      alpha: 0.05
      ceiling: english                       # the condition whose 'en' run is the ceiling
      improvement: {system: dense-optical, over: [bm25-qt, bm25-psq]}
      plot: [bm25, bm25-psq, dense-zeroshot, dense-optical]   # default: every multilingual condition
      pairs: [[dense-optical, dense-msekd]]   # head to head: per language and per group (pooled)
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..significance import Comparison, compare, compare_pairs, format_p

SYMBOLS = ("†", "‡", "§", "¶")
LATEX_SYMBOLS = ("\\dag", "\\ddag", "\\S", "\\P")

Scores = Mapping[tuple[str, str], float]
"""(condition, language) → aggregate value of the headline measure."""


BY_RESOURCE = "by-resource"
"""``languages: {by-resource: [...]}``: the groups come from the languages' declared resource levels."""


def groups_of(coll: Mapping[str, Any]) -> dict[str, list[str]]:
    """The language groups of a collection: as written, or ``low``/``high`` from the declared
    levels (:func:`optical_ir.languages.group_by_resource`, an error naming how to declare a
    missing one)."""
    langs = coll["languages"]
    if isinstance(langs, dict) and set(langs) == {BY_RESOURCE}:
        from ..languages import group_by_resource

        return group_by_resource(langs[BY_RESOURCE])
    return {str(k): list(v) for k, v in langs.items()} if isinstance(langs, dict) else {"": list(langs)}


class Report:
    """The tables of one collection, from aggregate scores and per-query values."""

    def __init__(self, coll: Mapping[str, Any], scores: Scores,
                 per_query: Mapping[tuple[str, str], Mapping[str, float]], settings: Mapping[str, Any] | None = None,
                 measure: str = "AP") -> None:
        self.coll, self.scores, self.per_query = coll, scores, per_query
        self.settings = dict(settings or {})
        self.measure = measure
        self.groups = groups_of(coll)
        self.languages = [x for g in self.groups.values() for x in g]
        self.conditions = [c for c in coll["conditions"] if any(k[0] == c for k in scores)]
        self.extra = sorted({lang for _, lang in scores} - set(self.languages))
        self.baselines = [b for b in self.settings.get("baselines", []) if b in self.conditions]
        self.alpha = float(self.settings.get("alpha", 0.05))
        self.comparisons: list[Comparison] = []
        for baseline in self.baselines:
            self.comparisons += compare(per_query, self.conditions, baseline, self.languages)
        self._sig = {(c.system, c.baseline, c.lang): c for c in self.comparisons}
        pairs = [(a, b) for a, b in self.settings.get("pairs") or [] if a in self.conditions and b in self.conditions]
        self.pairs = compare_pairs(per_query, pairs, self.groups)

    # -- numbers ----------------------------------------------------------------------------
    def average(self, condition: str, group: str) -> float | None:
        vals = [self.scores.get((condition, lang)) for lang in self.groups[group]]
        return sum(vals) / len(vals) if vals and all(v is not None for v in vals) else None  # type: ignore[misc]

    def ceiling(self) -> float | None:
        name = self.settings.get("ceiling")
        return self.scores.get((name, "en")) if name else None

    def markers(self, condition: str, lang: str) -> list[tuple[int, bool]]:
        """(baseline index, better?) for each baseline this cell differs from significantly."""
        out = []
        for i, baseline in enumerate(self.baselines):
            c = self._sig.get((condition, baseline, lang))
            if c is not None and c.significant(self.alpha):
                out.append((i, c.difference > 0))
        return out

    def improvements(self) -> list[tuple[str, str, float, float, float]]:
        """(group, baseline, system average, baseline average, relative change)."""
        spec = self.settings.get("improvement") or {}
        system = spec.get("system")
        out = []
        for group in self.groups:
            for base in spec.get("over", []):
                s, b = self.average(system, group), self.average(base, group)
                if s is not None and b:
                    out.append((group, base, s, b, (s - b) / b))
        return out

    def columns(self, condition: str) -> list[tuple[str | None, float | None]]:
        """The group columns of a row, in header order: ``(language, value)`` for each
        language and ``(None, average)`` for each group's average."""
        out: list[tuple[str | None, float | None]] = []
        for gname, langs in self.groups.items():
            out += [(lang, self.scores.get((condition, lang))) for lang in langs]
            if gname:
                out.append((None, self.average(condition, gname)))
        return out

    # -- Markdown ----------------------------------------------------------------------------
    def _header(self) -> list[str]:
        header = ["condition"]
        for gname, langs in self.groups.items():
            header += langs + ([f"{gname} avg"] if gname else [])
        return header + self.extra

    def markdown(self) -> str:
        buf = io.StringIO()
        desc = self.coll.get("description", "")
        buf.write(f"{desc}\n\n{self.measure} (ir-measures) per query language\n\n".lstrip())
        header = self._header()
        buf.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for cond in self.conditions:
            line = [cond]
            for lang, v in self.columns(cond):
                marks = "".join(("" if up else "▾") + SYMBOLS[i] for i, up in self.markers(cond, lang)) if lang else ""
                line.append("–" if v is None else f"{v:.4f}{marks}")
            line += [f"{self.scores[(cond, x)]:.4f}" if (cond, x) in self.scores else "–" for x in self.extra]
            buf.write("| " + " | ".join(line) + " |\n")
        if self.baselines:
            legend = ", ".join(f"{SYMBOLS[i]} {b}" for i, b in enumerate(self.baselines))
            buf.write(f"\nSignificantly better than ({legend}) or worse (▾): paired t-test on per-query "
                      f"{self.measure}, Holm-corrected over the systems of each language, p < {self.alpha}.\n")
        imp = self.improvements()
        if imp:
            system = self.settings["improvement"]["system"]
            buf.write("\n")
            for group, base, s, b, rel in imp:
                buf.write(f"- {system} over {base} on the {group}-resource average: {rel:+.1%} ({s:.4f} vs {b:.4f})\n")
        gap = self.gap_markdown()
        if gap:
            buf.write("\n" + gap)
        pairs = self.pairs_markdown()
        if pairs:
            buf.write("\n" + pairs)
        return buf.getvalue()

    def pairs_markdown(self) -> str:
        """The head-to-head pairs: the difference system − baseline of the headline measure on
        each language and, pooled over its queries, on each group; * where Holm-significant."""
        if not self.pairs:
            return ""
        found = {(c.system, c.baseline, c.lang): c for c in self.pairs}
        columns = [x for g, langs in self.groups.items() for x in [*langs, *([f"{g} (pooled)"] if g else [])]]
        columns = [x for x in columns if any(c.lang == x for c in self.pairs)]
        buf = io.StringIO()
        buf.write(f"Head to head: {self.measure} of system minus baseline; * significant (paired t-test, Holm over "
                  f"the pairs of each column, p < {self.alpha}; a group pools its languages' queries)\n\n")
        buf.write("| system | baseline | " + " | ".join(columns) + " |\n|" + "---|" * (len(columns) + 2) + "\n")
        for system, baseline in dict.fromkeys((c.system, c.baseline) for c in self.pairs):
            cells = []
            for x in columns:
                c = found.get((system, baseline, x))
                cells.append("–" if c is None else f"{c.difference:+.4f}{'*' if c.significant(self.alpha) else ''}")
            buf.write(f"| {system} | {baseline} | " + " | ".join(cells) + " |\n")
        return buf.getvalue()

    def groups_markdown(self) -> str:
        """Rows: conditions; columns: each group's average (over its languages with a run)
        and how many languages it has — the summary of a collection of many languages."""
        named = [g for g in self.groups if g]
        if not named:
            return ""
        buf = io.StringIO()
        buf.write(f"{self.measure} (ir-measures), the average of each language group\n\n")
        header = ["condition"] + [f"{g} ({len(self.groups[g])})" for g in named]
        buf.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for cond in self.conditions:
            cells = [cond]
            for g in named:
                vals = [self.scores[(cond, lang)] for lang in self.groups[g] if (cond, lang) in self.scores]
                cells.append(f"{sum(vals) / len(vals):.4f}" if vals else "–")
            buf.write("| " + " | ".join(cells) + " |\n")
        return buf.getvalue()

    def gap_markdown(self) -> str:
        ceiling = self.ceiling()
        if ceiling is None:
            return ""
        buf = io.StringIO()
        buf.write(f"Gap to the English ceiling ({self.settings['ceiling']}, {self.measure} {ceiling:.4f}): "
                  f"ceiling minus system\n\n")
        header = self._header()
        header = header[: len(header) - len(self.extra)]
        buf.write("| " + " | ".join(header) + " |\n|" + "---|" * len(header) + "\n")
        for cond in self.conditions:
            if not any((cond, lang) in self.scores for lang in self.languages):
                continue
            line = [cond] + ["–" if v is None else f"{ceiling - v:.4f}" for _, v in self.columns(cond)]
            buf.write("| " + " | ".join(line) + " |\n")
        return buf.getvalue()

    # -- LaTeX -------------------------------------------------------------------------------
    def latex(self) -> str:
        header = self._header()
        esc = [h.replace("_", "\\_") for h in header]
        buf = io.StringIO()
        buf.write("% made by optical_ir.experiments.report; needs \\usepackage{booktabs}\n")
        buf.write("\\begin{tabular}{l" + "r" * (len(header) - 1) + "}\n\\toprule\n")
        buf.write(" & ".join(esc) + " \\\\\n\\midrule\n")
        for cond in self.conditions:
            cells = [cond]
            for lang, v in self.columns(cond):
                marks = "".join(("" if up else "\\ensuremath{\\downarrow}") + LATEX_SYMBOLS[i]
                                for i, up in self.markers(cond, lang)) if lang else ""
                cells.append("--" if v is None else f"{v:.4f}" + (f"\\textsuperscript{{{marks}}}" if marks else ""))
            cells += [f"{self.scores[(cond, x)]:.4f}" if (cond, x) in self.scores else "--" for x in self.extra]
            buf.write(" & ".join(cells) + " \\\\\n")
        buf.write("\\bottomrule\n\\end{tabular}\n")
        if self.baselines:
            legend = ", ".join(f"${LATEX_SYMBOLS[i]}$ {b}" for i, b in enumerate(self.baselines))
            buf.write(f"% significantly better than ({legend}), $\\downarrow$ worse: paired t-test, Holm, "
                      f"p < {self.alpha}\n")
        return buf.getvalue()

    # -- plot --------------------------------------------------------------------------------
    def plot(self, path: str | Path) -> Path:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        wanted = self.settings.get("plot") or self.conditions
        systems = [c for c in wanted if any((c, lang) in self.scores for lang in self.languages)]
        width = 0.8 / max(1, len(systems))
        many = len(self.languages) > 24  # e.g. Tatoeba's 110: a readable width, labels turned
        fig, ax = plt.subplots(figsize=(22.0 if many else max(6.0, 1.2 * len(self.languages) + 2), 4.2))
        for k, cond in enumerate(systems):
            xs = [i + (k - (len(systems) - 1) / 2) * width for i in range(len(self.languages))]
            ys = [self.scores.get((cond, lang), 0.0) for lang in self.languages]
            ax.bar(xs, ys, width, label=cond)
        ceiling = self.ceiling()
        if ceiling is not None:
            ax.axhline(ceiling, color="black", linestyle="--", linewidth=1,
                       label=f"English ceiling ({self.settings['ceiling']})")
        if many:
            ax.set_xticks(range(len(self.languages)), self.languages, rotation=90, fontsize=6)
            ax.set_xlim(-0.6, len(self.languages) - 0.4)
        else:
            ax.set_xticks(range(len(self.languages)), self.languages)
        ax.set_ylabel(self.measure)
        ax.set_title(str(self.coll.get("dataset", "")).replace("{lang}", "<xx>"), fontsize=9)
        ax.legend(fontsize=7, ncol=2, loc="upper right")
        ax.set_ylim(0, max([ceiling or 0.0] + [v for v in self.scores.values()]) * 1.25)
        return save_figure(fig, path)


def save_figure(fig: Any, path: str | Path) -> Path:
    """Lay out ``fig``, write it as a PNG without a timestamp or version (reruns give the same
    bytes) at ``path`` and close it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, metadata={"Software": None})
    plt.close(fig)
    return out


def write_significance(comparisons: Sequence[Comparison], path: str | Path, alpha: float = 0.05) -> None:
    from ..files import atomic_write

    with atomic_write(path) as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["system", "baseline", "lang", "mean_system", "mean_baseline", "difference", "p", "p_holm", "n"])
        for c in comparisons:
            w.writerow([c.system, c.baseline, c.lang, f"{c.mean_system:.4f}", f"{c.mean_baseline:.4f}",
                        f"{c.difference:+.4f}", format_p(c.p, alpha), format_p(c.p_holm, alpha), c.n])


def write_all(report: Report, out_dir: str | Path) -> None:
    """``table.md``, ``groups.md`` (with named language groups), ``table.tex``, ``significance.csv``
    and ``map.png`` into ``out_dir``."""
    from ..files import atomic_write

    out = Path(out_dir)
    with atomic_write(out / "table.md") as f:
        f.write(report.markdown())
    groups = report.groups_markdown()
    if groups:
        with atomic_write(out / "groups.md") as f:
            f.write(groups)
    with atomic_write(out / "table.tex") as f:
        f.write(report.latex())
    write_significance(report.comparisons + report.pairs, out / "significance.csv", report.alpha)
    if report.scores:
        report.plot(out / "map.png")
