r"""Model-size scaling tables: each language group's MAP and the high − low gap per student size.

The config's ``report.scaling`` names, for each method (zero-shot, MSE, OPTICAL …), the
condition of each student size, and the parameters of each size. For a method :math:`m`
and a size :math:`s`, with the group averages
:math:`\mathrm{MAP}_G(m, s) = \operatorname{mean}_{l \in G} \mathrm{MAP}(m, s, l)`,

.. math:: \Delta(m, s) = \mathrm{MAP}_{\text{high}}(m, s) - \mathrm{MAP}_{\text{low}}(m, s),
          \qquad \rho(m, s) = \frac{\Delta(m, s)}{\mathrm{MAP}_{\text{high}}(m, s)},

the absolute gap and the relative one (the share of the high-resource MAP that the
low-resource languages lack). A gap that falls as the size grows: larger students narrow
it. The 95 % intervals come from a paired bootstrap over the queries (1,000 replicates,
each language's queries resampled, the same replicates for every condition), so the change
of the gap from the smallest to the largest size has an interval too.

Written into ``runs/<collection>/``: ``scaling.md`` and ``scaling.csv`` (a row per method
and size) and ``scaling.png`` (group MAP and the gap against the parameter count).
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..files import atomic_write
from ..significance import bootstrap_replicates, percentile_interval

FIELDS = ("method", "size", "parameters_m", "condition", "low", "high", "gap", "gap_lo", "gap_hi", "gap_p",
          "relative_gap", "rel_lo", "rel_hi", "gap_change", "change_lo", "change_hi", "change_p")


class Scaling:
    """Group MAPs and gaps of the scaling conditions, from per-query AP."""

    def __init__(self, groups: Mapping[str, list[str]], per_query: Mapping[tuple[str, str], Mapping[str, float]],
                 settings: Mapping[str, Any], replicates: int = 1000, seed: int = 13) -> None:
        self.low, self.high = list(groups.get("low", [])), list(groups.get("high", []))
        self.per_query = per_query
        self.parameters: dict[str, float] = dict(settings["parameters"])
        self.methods: dict[str, dict[str, str]] = {m: dict(v) for m, v in settings["methods"].items()}
        self.queries: dict[str, list[str]] = {}
        for (_, lang), scores in per_query.items():
            self.queries.setdefault(lang, sorted(scores))
        self.replicates = bootstrap_replicates({lang: len(q) for lang, q in self.queries.items()}, replicates, seed)

    def _group(self, condition: str, langs: list[str]) -> tuple[float, Any] | None:
        """The group's mean MAP and its bootstrap replicates (``None`` if a run is missing)."""
        import numpy as np

        if not langs or any((condition, lang) not in self.per_query for lang in langs):
            return None
        means, reps = [], []
        for lang in langs:
            scores = self.per_query[(condition, lang)]
            ap = np.array([scores.get(q, 0.0) for q in self.queries[lang]])
            means.append(ap.mean())
            reps.append(ap[self.replicates[lang]].mean(axis=1))
        return float(np.mean(means)), np.mean(reps, axis=0)

    def rows(self) -> list[dict[str, Any]]:
        """A row per method and size (sizes in order of parameters) with the groups' MAP and the gaps."""
        out = []
        for method, by_size in self.methods.items():
            sizes = sorted(by_size, key=lambda s: self.parameters[s])
            found = {}
            for size in sizes:
                low, high = self._group(by_size[size], self.low), self._group(by_size[size], self.high)
                if low is not None and high is not None:
                    found[size] = (low, high)
            if not found:
                continue
            first = next(iter(found.values()))
            first_gap = first[1][1] - first[0][1]
            for size, ((low, low_r), (high, high_r)) in found.items():
                gap_r = high_r - low_r
                rel_r = gap_r / high_r
                lo, hi, p = percentile_interval(gap_r)
                rlo, rhi, _ = percentile_interval(rel_r)
                clo, chi, cp = percentile_interval(gap_r - first_gap)
                out.append({"method": method, "size": size, "parameters_m": self.parameters[size],
                            "condition": by_size[size], "low": low, "high": high, "gap": high - low, "gap_lo": lo,
                            "gap_hi": hi, "gap_p": p, "relative_gap": (high - low) / high, "rel_lo": rlo,
                            "rel_hi": rhi, "gap_change": (high - low) - (first[1][0] - first[0][0]),
                            "change_lo": clo, "change_hi": chi, "change_p": cp})
        return out

    def table(self, rows: list[dict[str, Any]]) -> str:
        smallest = {r["method"]: r["size"] for r in reversed(rows)}
        lines = ["| method | size | parameters (M) | low MAP | high MAP | gap high − low [95% CI] | relative gap "
                 "[95% CI] | gap change from the smallest [95% CI] |", "|---|---|---|---|---|---|---|---|"]
        for r in rows:
            change = ("–" if r["size"] == smallest[r["method"]] else
                      f"{r['gap_change']:+.4f} [{r['change_lo']:+.4f}, {r['change_hi']:+.4f}]")
            lines.append(f"| {r['method']} | {r['size']} | {r['parameters_m']:g} | {r['low']:.4f} | {r['high']:.4f} | "
                         f"{r['gap']:+.4f} [{r['gap_lo']:+.4f}, {r['gap_hi']:+.4f}] | {r['relative_gap']:.3f} "
                         f"[{r['rel_lo']:.3f}, {r['rel_hi']:.3f}] | {change} |")
        return "\n".join(lines) + "\n"

    def plot(self, rows: list[dict[str, Any]], path: Path) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
        for k, method in enumerate(dict.fromkeys(r["method"] for r in rows)):
            mine = [r for r in rows if r["method"] == method]
            x = [r["parameters_m"] for r in mine]
            color = f"C{k}"
            left.plot(x, [r["high"] for r in mine], "o-", color=color, label=f"{method}: high")
            left.plot(x, [r["low"] for r in mine], "s--", color=color, label=f"{method}: low")
            right.errorbar(x, [r["gap"] for r in mine], yerr=[[r["gap"] - r["gap_lo"] for r in mine],
                                                              [r["gap_hi"] - r["gap"] for r in mine]],
                           fmt="o-", color=color, capsize=3, label=method)
        for ax in (left, right):
            ax.set_xlabel("parameters (millions)")
            ax.grid(alpha=0.3)
        left.set_ylabel("MAP (group average)")
        left.set_title("MAP per language group")
        right.set_ylabel("gap: high − low MAP")
        right.set_title("the gap, with 95% bootstrap intervals")
        left.legend(fontsize=7)
        right.legend(fontsize=8)
        fig.tight_layout()
        with atomic_write(path, "wb") as f:
            fig.savefig(f, format="png", dpi=120)
        plt.close(fig)


def write_scaling(groups: Mapping[str, list[str]], per_query: Mapping[tuple[str, str], Mapping[str, float]],
                  settings: Mapping[str, Any], out: Path) -> list[dict[str, Any]]:
    """Write ``scaling.md``, ``scaling.csv`` and ``scaling.png`` into ``out``; return the rows."""
    scaling = Scaling(groups, per_query, settings)
    rows = scaling.rows()
    if not rows:
        return rows
    with atomic_write(out / "scaling.csv") as f:
        w = csv.DictWriter(f, FIELDS, lineterminator="\n")
        w.writeheader()
        w.writerows({k: (round(v, 4) if isinstance(v, float) and k != "parameters_m" else v) for k, v in r.items()}
                    for r in rows)
    text = (f"## scaling\n\nMAP of the low-resource ({', '.join(scaling.low)}) and high-resource "
            f"({', '.join(scaling.high)}) languages per student size, and the gap between them (paired "
            f"bootstrap over the queries, 1,000 replicates).\n\n" + scaling.table(rows))
    with atomic_write(out / "scaling.md") as f:
        f.write(text)
    scaling.plot(rows, out / "scaling.png")
    return rows
