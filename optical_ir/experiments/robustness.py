r"""Robustness tables of a collection with perturbed query sets: MAP per system and
perturbation, the relative drop against the clean queries, and the robustness gap.

For a system :math:`s`, a language :math:`l` and a perturbed query set :math:`v` (a kind at
a rate), evaluated on the same queries as the clean set,

.. math:: \delta(s, l, v) = \frac{\mathrm{MAP}_{\text{clean}}(s, l) - \mathrm{MAP}_v(s, l)}
                                 {\mathrm{MAP}_{\text{clean}}(s, l)},

the mean relative drop of a language group :math:`G` over the query sets :math:`V` is
:math:`D_G(s) = \operatorname{mean}_{l \in G,\, v \in V} \delta(s, l, v)`, and the
*robustness gap* is :math:`D_{\text{low}}(s) - D_{\text{high}}(s)`: how much more the
low-resource languages lose than the high-resource ones. A positive gap: perturbations hurt
low-resource queries more. The headline gap uses the kinds that apply to every language of
the collection (so both groups average over the same perturbations), and the query sets
that every system ran (where a slow condition runs fewer rates, every system's gap is taken
over those rates); the per-kind table takes each kind where both groups have it. Its
95 % interval and p-value come from a paired bootstrap over the queries (1,000
replicates, resampling each language's queries; every system and query set of a language
shares the replicates), so the difference between two systems' gaps has an interval too
(:func:`optical_ir.significance.bootstrap_replicates`).

Written into ``runs/<collection>/``:

* ``map.md`` — MAP per system (rows) and query set (columns), one table per language group
  (the group's average over its languages that have the query set);
* ``drop.csv`` — per system, language and query set: clean and perturbed MAP, relative drop,
  paired t-test p on per-query AP (clean vs perturbed), queries;
* ``gap.md``, ``gap.csv`` — per system: the mean relative drop of each group, the gap with
  its interval and p, and the difference of the gap from the configured baselines'
  (``report.baselines``), with its interval;
* ``summary.md``, ``summary.csv`` — per group and system: MAP on the clean queries and on the
  perturbed ones (the mean over the gap's query sets), and the difference of each from the
  baselines' with its paired-bootstrap interval and p (the same replicates);
* ``robustness.png`` — MAP against rate per kind (one line per system), the groups side by side;
* ``clean-perturbed.png`` — clean against perturbed MAP, a point per system, a panel per group.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..files import atomic_write
from ..significance import bootstrap_replicates, paired_t, percentile_interval
from .report import groups_of
from .schema import split_variant, variant_name

PerQuery = Mapping[tuple[str, ...], Mapping[str, float]]
"""(condition, language, variant) → query id → AP."""


class Robustness:
    """The drops and gaps of one collection from the per-query AP of its runs."""

    def __init__(self, coll: Any, per_query: PerQuery, settings: Mapping[str, Any] | None = None,
                 replicates: int = 1000, seed: int = 13) -> None:
        self.coll = coll
        self.groups = groups_of(coll.model_dump())
        self.per_query = per_query
        self.settings = dict(settings or {})
        self.systems = [c for c in coll.conditions if any(k[0] == c for k in per_query)]
        self.languages = [x for g in self.groups.values() for x in g]
        # the queries of each language: those of the clean runs (every run of a language holds them)
        self.queries: dict[str, list[str]] = {}
        for (_, lang, variant), scores in per_query.items():
            if variant == "clean" and lang not in self.queries:
                self.queries[lang] = sorted(scores)
        self.variants = {lang: [v for v in dict.fromkeys(k[2] for k in per_query if k[1] == lang) if v != "clean"]
                         for lang in self.queries}
        # the query sets every system ran (a slow condition may run fewer rates): the gaps use these,
        # so that every system's gap averages over the same perturbations
        self.shared = {lang: [v for v in vs if all((s, lang, v) in per_query for s in self.systems
                                                  if (s, lang, "clean") in per_query)]
                       for lang, vs in self.variants.items()}
        self.replicates = bootstrap_replicates({lang: len(q) for lang, q in self.queries.items()}, replicates, seed)

    # -- per (system, language, variant) ----------------------------------------------------
    def ap(self, system: str, lang: str, variant: str) -> Any:
        import numpy as np

        scores = self.per_query.get((system, lang, variant))
        if scores is None:
            return None
        return np.array([scores.get(q, 0.0) for q in self.queries[lang]])

    def drops(self) -> list[dict[str, Any]]:
        """Every (system, language, perturbed set): MAPs, relative drop, paired t-test p."""
        rows = []
        for system in self.systems:
            for lang in self.languages:
                clean = self.per_query.get((system, lang, "clean"))
                if clean is None:
                    continue
                base = sum(clean.values()) / max(1, len(self.queries[lang]))
                for variant in self.variants.get(lang, []):
                    pert = self.per_query.get((system, lang, variant))
                    if pert is None:
                        continue
                    full = {q: pert.get(q, 0.0) for q in self.queries[lang]}
                    value = sum(full.values()) / len(full)
                    p, n = paired_t({q: clean.get(q, 0.0) for q in self.queries[lang]}, full)
                    kind, rate = split_variant(variant)
                    rows.append({"condition": system, "lang": lang, "perturbation": kind, "rate": rate,
                                 "clean_AP": round(base, 4), "AP": round(value, 4),
                                 "relative_drop": round((base - value) / base, 4) if base else 0.0,
                                 "p": float(f"{p:.4g}"), "n_queries": n})
        return rows

    # -- gaps ---------------------------------------------------------------------------------
    def kinds_of(self, langs: Sequence[str]) -> list[str]:
        """The kinds every one of ``langs`` has."""
        sets = [{split_variant(v)[0] for v in self.shared.get(lang, [])} for lang in langs if lang in self.queries]
        return sorted(set.intersection(*sets)) if sets else []

    def rates_of(self, kinds: Sequence[str]) -> str:
        """The rates of ``kinds`` that the gaps average over."""
        rates = {split_variant(v)[1] for vs in self.shared.values() for v in vs if split_variant(v)[0] in kinds}
        return " ".join(f"{r:g}" for r in sorted(rates))

    def group_drop(self, system: str, langs: Sequence[str], kinds: Sequence[str]) -> Any:
        """Bootstrap replicates (and, first, the point value) of the group's mean relative drop."""
        import numpy as np

        parts, point = [], []
        for lang in langs:
            clean = self.ap(system, lang, "clean")
            if clean is None:
                continue
            idx = self.replicates[lang]
            c_star, c = clean[idx].mean(axis=1), clean.mean()
            for variant in self.shared.get(lang, []):
                if split_variant(variant)[0] not in kinds:
                    continue
                pert = self.ap(system, lang, variant)
                if pert is None:
                    continue
                with np.errstate(divide="ignore", invalid="ignore"):
                    parts.append(np.where(c_star > 0, (c_star - pert[idx].mean(axis=1)) / c_star, 0.0))
                point.append((c - pert.mean()) / c if c else 0.0)
        if not parts:
            return None, None
        return float(np.mean(point)), np.mean(parts, axis=0)

    def gaps(self, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Per system: each group's mean relative drop, the gap (low − high) with its interval
        and p, and the difference from each baseline's gap."""
        low, high = self.groups.get("low", []), self.groups.get("high", [])
        common = list(kinds) if kinds is not None else self.kinds_of(self.languages)
        rows, star = [], {}
        for system in self.systems:
            d_low, r_low = self.group_drop(system, low, common)
            d_high, r_high = self.group_drop(system, high, common)
            row: dict[str, Any] = {"condition": system, "kinds": " ".join(common), "rates": self.rates_of(common),
                                   "drop_low": _r(d_low), "drop_high": _r(d_high)}
            if d_low is not None and d_high is not None:
                star[system] = r_low - r_high
                lo, hi, p = percentile_interval(star[system])
                row.update(gap=_r(d_low - d_high), gap_lo=_r(lo), gap_hi=_r(hi), gap_p=float(f"{p:.4g}"))
            rows.append(row)
        for row in rows:
            for base in self.settings.get("baselines", []):
                if row["condition"] in star and base in star and base != row["condition"]:
                    point = row["gap"] - next(r["gap"] for r in rows if r["condition"] == base)
                    lo, hi, p = percentile_interval(star[row["condition"]] - star[base])
                    row[f"vs_{base}"] = _r(point)
                    row[f"vs_{base}_lo"], row[f"vs_{base}_hi"], row[f"vs_{base}_p"] = _r(lo), _r(hi), float(f"{p:.4g}")
        return rows

    def group_map(self, system: str, langs: Sequence[str], kinds: Sequence[str]) -> dict[str, Any] | None:
        """Point values and bootstrap replicates of the group's clean MAP and perturbed MAP (the
        mean over its languages, and for perturbed over their shared query sets of ``kinds``)."""
        import numpy as np

        clean, clean_star, pert, pert_star = [], [], [], []
        for lang in langs:
            c = self.ap(system, lang, "clean")
            if c is None:
                continue
            idx = self.replicates[lang]
            clean.append(c.mean())
            clean_star.append(c[idx].mean(axis=1))
            for variant in self.shared.get(lang, []):
                v = self.ap(system, lang, variant) if split_variant(variant)[0] in kinds else None
                if v is not None:
                    pert.append(v.mean())
                    pert_star.append(v[idx].mean(axis=1))
        if not clean or not pert:
            return None
        return {"clean": float(np.mean(clean)), "clean*": np.mean(clean_star, axis=0),
                "perturbed": float(np.mean(pert)), "perturbed*": np.mean(pert_star, axis=0)}

    def summary(self, kinds: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Per group and system: clean and perturbed MAP, and their differences from each
        baseline's with an interval and p (see the module text)."""
        common = list(kinds) if kinds is not None else self.kinds_of(self.languages)
        rows = []
        for group, langs in self.groups.items():
            maps = {s: m for s in self.systems if (m := self.group_map(s, langs, common)) is not None}
            for system, m in maps.items():
                row: dict[str, Any] = {"group": group, "condition": system, "kinds": " ".join(common),
                                       "rates": self.rates_of(common), "clean": _r(m["clean"]),
                                       "perturbed": _r(m["perturbed"])}
                for base in self.settings.get("baselines", []):
                    if base in maps and base != system:
                        for side in ("clean", "perturbed"):
                            lo, hi, p = percentile_interval(m[f"{side}*"] - maps[base][f"{side}*"])
                            row[f"{side}_vs_{base}"] = _r(m[side] - maps[base][side])
                            row[f"{side}_vs_{base}_lo"], row[f"{side}_vs_{base}_hi"] = _r(lo), _r(hi)
                            row[f"{side}_vs_{base}_p"] = float(f"{p:.4g}")
                rows.append(row)
        return rows

    # -- tables ---------------------------------------------------------------------------------
    def summary_table(self, rows: Sequence[dict[str, Any]]) -> str:
        """Markdown: one table per group, clean and perturbed MAP with the differences from the baselines."""
        bases = [b for b in self.settings.get("baselines", []) if b in self.systems]
        out = []
        for group in dict.fromkeys(r["group"] for r in rows):
            head = ["system", "clean MAP", "perturbed MAP"]
            for b in bases:
                head += [f"Δ clean vs {b} [95% CI]", f"Δ perturbed vs {b} [95% CI]"]
            out.append(f"**{group or 'all'}** ({', '.join(self.groups[group])})\n")
            out += ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
            for r in (r for r in rows if r["group"] == group):
                cells = [r["condition"], _f(r["clean"]), _f(r["perturbed"])]
                for b in bases:
                    for side in ("clean", "perturbed"):
                        key = f"{side}_vs_{b}"
                        cells.append(f"{r[key]:+.4f} [{r[key + '_lo']:+.4f}, {r[key + '_hi']:+.4f}]{_stars(r, key)}"
                                     if key in r else "")
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
        return "\n".join(out)

    def plot_clean_perturbed(self, rows: Sequence[dict[str, Any]], path: Path) -> None:
        """Clean against perturbed MAP, a point per system, a panel per group (the diagonal: no drop)."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        groups = list(dict.fromkeys(r["group"] for r in rows))
        fig, axes = plt.subplots(1, len(groups), figsize=(5.2 * len(groups), 4.6), squeeze=False)
        markers = "osD^v<>pPX*h"
        for ax, group in zip(axes[0], groups, strict=True):
            these = [r for r in rows if r["group"] == group]
            for k, r in enumerate(these):
                ax.scatter(r["clean"], r["perturbed"], marker=markers[k % len(markers)], s=46, label=r["condition"])
            lo = min(min(r["clean"], r["perturbed"]) for r in these) - 0.01
            hi = max(max(r["clean"], r["perturbed"]) for r in these) + 0.01
            ax.plot([lo, hi], [lo, hi], color="grey", lw=0.8, ls="--")
            ax.set_title(f"{group or 'all'} ({', '.join(self.groups[group])})", fontsize=9)
            ax.set_xlabel("clean MAP", fontsize=8)
            kinds = these[0]["kinds"].replace(" ", ", ")
            ax.set_ylabel(f"perturbed MAP ({kinds} @ {these[0]['rates']})", fontsize=8)
            ax.grid(alpha=0.3)
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncol=min(5, len(labels) or 1), fontsize=8)
        fig.tight_layout(rect=(0, 0.12, 1, 1))
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png", dpi=110)
        plt.close(fig)

    def map_table(self, scores: Mapping[tuple[str, str, str], float]) -> str:
        """Markdown: per group, MAP per system and query set (group average)."""
        out = []
        for group, langs in self.groups.items():
            variants = ["clean"] + list(dict.fromkeys(v for lang in langs for v in self.variants.get(lang, [])))
            out.append(f"**{group or 'all'}** ({', '.join(langs)}; a column averages the languages that have it)\n")
            out.append("| system | " + " | ".join(variants) + " |")
            out.append("|---|" + "---|" * len(variants))
            for system in self.systems:
                cells = []
                for v in variants:
                    vals = [scores[(system, lang, v)] for lang in langs if (system, lang, v) in scores]
                    cells.append(f"{sum(vals) / len(vals):.4f}" if vals else "")
                out.append(f"| {system} | " + " | ".join(cells) + " |")
            out.append("")
        return "\n".join(out)

    def gap_table(self, rows: Sequence[dict[str, Any]]) -> str:
        bases = [b for b in self.settings.get("baselines", []) if b in self.systems]
        head = ["system", "drop low", "drop high", "gap (low − high) [95% CI]", "p"] + [f"Δ gap vs {b} [95% CI]"
                                                                                     for b in bases]
        lines = ["| " + " | ".join(head) + " |", "|---" * len(head) + "|"]
        for r in rows:
            gap = f"{r['gap']:+.4f} [{r['gap_lo']:+.4f}, {r['gap_hi']:+.4f}]" if "gap" in r else "n/a"
            p = r.get("gap_p")
            n_replicates = len(next(iter(self.replicates.values())))
            shown = "" if p is None else f"< {1 / n_replicates:.3g}" if p == 0 else f"{p:.3g}"
            cells = [r["condition"], _f(r["drop_low"]), _f(r["drop_high"]), gap, shown]
            for b in bases:
                cells.append(f"{r[f'vs_{b}']:+.4f} [{r[f'vs_{b}_lo']:+.4f}, {r[f'vs_{b}_hi']:+.4f}]"
                             if f"vs_{b}" in r else "")
            lines.append("| " + " | ".join(cells) + " |")
        return "\n".join(lines) + "\n"

    def plot(self, scores: Mapping[tuple[str, str, str], float], path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        kinds = sorted({split_variant(v)[0] for vs in self.variants.values() for v in vs})
        groups = list(self.groups.items())
        fig, axes = plt.subplots(len(kinds), len(groups), figsize=(4.6 * len(groups), 2.6 * len(kinds)),
                                 squeeze=False, sharey=True)
        for i, kind in enumerate(kinds):
            for j, (group, langs) in enumerate(groups):
                ax = axes[i][j]
                having = [lang for lang in langs
                          if any(split_variant(v)[0] == kind for v in self.variants.get(lang, []))]
                rates = sorted({split_variant(v)[1] for lang in having for v in self.variants[lang]
                                if split_variant(v)[0] == kind})
                for system in self.systems:
                    xs, ys = [], []
                    for rate in [0.0, *rates]:
                        v = variant_name("none" if rate == 0 else kind, rate)
                        have = [lang for lang in having if (system, lang, v) in scores]
                        if have:
                            xs.append(rate)
                            ys.append(sum(scores[(system, lang, v)] for lang in have) / len(have))
                    if len(xs) > 1:
                        ax.plot(xs, ys, marker="o", label=system)
                if not ax.lines:
                    ax.text(0.5, 0.5, f"{kind} does not apply to {', '.join(langs)}", ha="center", va="center",
                            transform=ax.transAxes, fontsize=8, color="grey")
                ax.set_title(f"{kind} — {group or 'all'}", fontsize=9)
                ax.set_xlabel("rate", fontsize=8)
                ax.grid(alpha=0.3)
                if j == 0:
                    ax.set_ylabel("MAP", fontsize=8)
        fullest = max((ax for row in axes for ax in row), key=lambda ax: len(ax.lines))  # the first with every system
        handles, labels = fullest.get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=min(4, len(labels) or 1), fontsize=8)
        fig.tight_layout(rect=(0, 0, 1, 1 - 0.25 / len(kinds)))
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png", dpi=110)
        plt.close(fig)


def _stars(row: Mapping[str, Any], key: str) -> str:
    """``*`` when the interval of ``row[key]`` excludes 0 (p < 0.05)."""
    return "*" if row[f"{key}_p"] < 0.05 else ""


def _r(x: float | None) -> float | None:
    return None if x is None else round(float(x), 4)


def _f(x: float | None, fmt: str = "{:.4f}") -> str:
    return "" if x is None else fmt.format(x)


def _write_csv(rows: Sequence[dict[str, Any]], path: Path) -> None:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    with atomic_write(path) as f:
        w = csv.DictWriter(f, columns, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)


def write_robustness(coll: Any, rows: Sequence[dict[str, Any]], per_query: PerQuery,
                     settings: Mapping[str, Any], headline: str, out: Path) -> None:
    """Write map.md, drop.csv, gap.md, gap.csv and robustness.png for one collection."""
    report = Robustness(coll, per_query, settings)
    scores = {(r["condition"], r["lang"], variant_name(r["perturbation"], r["rate"])): r["value"]
              for r in rows if r["measure"] == headline}
    with atomic_write(out / "map.md") as f:
        f.write(report.map_table(scores))
    _write_csv(report.drops(), out / "drop.csv")
    common = report.kinds_of(report.languages)
    gap_rows = report.gaps(common)
    per_kind = []
    for kind in sorted({split_variant(v)[0] for vs in report.variants.values() for v in vs}):
        per_kind += [{**r, "kinds": kind} for r in report.gaps([kind]) if "gap" in r]
    _write_csv(gap_rows + per_kind, out / "gap.csv")
    with atomic_write(out / "gap.md") as f:
        f.write(f"Robustness gap over {', '.join(common)} (the kinds every language has) at rates "
                f"{report.rates_of(common).replace(' ', ', ')} (those every system ran):\n\n")
        f.write(report.gap_table(gap_rows))
        if per_kind:
            f.write("\nPer kind (the languages of each group that have it):\n\n")
            for kind in dict.fromkeys(r["kinds"] for r in per_kind):
                f.write(f"\n**{kind}**\n\n")
                f.write(report.gap_table([r for r in per_kind if r["kinds"] == kind]))
    summary = report.summary(common)
    _write_csv(summary, out / "summary.csv")
    with atomic_write(out / "summary.md") as f:
        f.write(f"MAP on the clean queries and on the perturbed ones ({', '.join(common)} at rates "
                f"{report.rates_of(common).replace(' ', ', ')}, the gap's query sets), and the differences from "
                f"the baselines (paired bootstrap over the queries, 95 % interval; * p < 0.05):\n\n")
        f.write(report.summary_table(summary))
    report.plot(scores, out / "robustness.png")
    if summary:
        report.plot_clean_perturbed(summary, out / "clean-perturbed.png")
