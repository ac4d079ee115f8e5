r"""Paired significance tests on per-query scores, with Holm's correction for multiple comparisons.

For a system :math:`A` and a baseline :math:`B` evaluated on the same queries
:math:`q_1, \dots, q_n` (every judged query; one with no result scores 0), the paired
t-test takes the differences :math:`d_i = m_A(q_i) - m_B(q_i)` and

.. math:: t = \frac{\bar d}{s_d / \sqrt{n}}, \qquad p = 2\,P(T_{n-1} > |t|).

Comparing :math:`k` systems with one baseline makes :math:`k` tests; Holm's step-down
procedure controls the family-wise error rate: with the p-values sorted,
:math:`p_{(1)} \le \dots \le p_{(k)}`, the adjusted value is
:math:`\tilde p_{(j)} = \max_{i \le j} \min(1, (k - i + 1)\, p_{(i)})`.

Across languages (:func:`wilcoxon`) the unit is a language and the value its MAP: the
Wilcoxon signed-rank test ranks the non-zero :math:`|d_l|` and compares the rank sums of
the positive and negative differences, :math:`W = \min(W^+, W^-)`; it assumes no normality
of the per-language differences, which over a few dozen languages of very different
difficulty a t-test would.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple


class Comparison(NamedTuple):
    system: str
    baseline: str
    lang: str
    mean_system: float
    mean_baseline: float
    p: float
    """Two-sided paired t-test."""
    p_holm: float
    """Holm-adjusted over the systems compared with the same baseline on the same language."""
    n: int

    @property
    def difference(self) -> float:
        return self.mean_system - self.mean_baseline

    def significant(self, alpha: float = 0.05) -> bool:
        return self.p_holm < alpha


def _paired(a: Mapping[str, float], b: Mapping[str, float], test: str, unit: str) -> tuple[list[float], list[float]]:
    """The values of ``a`` and ``b`` on the keys both hold, in key order; at least 2 of them."""
    keys = sorted(set(a) & set(b))
    if len(keys) < 2:
        raise ValueError(f"a {test} needs at least 2 common {unit}, got {len(keys)}")
    return [a[k] for k in keys], [b[k] for k in keys]


def paired_t(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[float, int]:
    """Two-sided paired t-test p-value over the queries both hold, and their number.

    Identical score lists give p = 1 (no difference), not NaN.
    """
    from scipy.stats import ttest_rel

    x, y = _paired(a, b, "paired test", "queries")
    if x == y:
        return 1.0, len(x)
    return float(ttest_rel(x, y).pvalue), len(x)


def wilcoxon(a: Mapping[str, float], b: Mapping[str, float]) -> tuple[float, float, int]:
    """Two-sided Wilcoxon signed-rank test over the units (e.g. languages) both hold.

    Returns ``(W, p, n)``; differences of zero are dropped (``zero_method='wilcox'``), and
    identical values give ``W = 0, p = 1``.
    """
    from scipy.stats import wilcoxon as _wilcoxon

    x, y = _paired(a, b, "signed-rank test", "units")
    d = [u - v for u, v in zip(x, y, strict=True)]
    if all(v == 0 for v in d):
        return 0.0, 1.0, len(d)
    res = _wilcoxon(d)
    return float(res.statistic), float(res.pvalue), len(d)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-adjusted p-values, in the order given."""
    k = len(pvalues)
    order = sorted(range(k), key=lambda i: pvalues[i])
    adjusted = [0.0] * k
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (k - rank) * pvalues[i]))
        adjusted[i] = running
    return adjusted


def format_p(p: float, alpha: float = 0.05, digits: int = 3) -> str:
    """``p`` in ``digits`` significant figures, or in as many more as keep it on its side of ``alpha``.

    A Holm-adjusted 0.04997 is significant at 0.05; three figures would print it ``0.05``
    beside a verdict of significant, so it prints ``0.04997``.
    """
    for d in range(digits, 18):
        shown = f"{p:.{d}g}"
        if (float(shown) < alpha) == (p < alpha):
            return shown
    return repr(p)


def compare(per_query: Mapping[tuple[str, str], Mapping[str, float]], systems: Sequence[str],
            baseline: str, languages: Sequence[str]) -> list[Comparison]:
    """Each system against ``baseline`` on each language where both have scores.

    ``per_query`` maps (condition, language) to query id → score. Holm's correction runs
    over the systems compared on one language.
    """
    pairs = [(s, baseline) for s in systems if s != baseline]
    out: list[Comparison] = []
    for lang in languages:
        out += _tested(per_query, pairs, lang)
    return out


def bootstrap_replicates(n_queries: Mapping[str, int], replicates: int = 1000,
                         seed: int = 13) -> dict[str, Any]:
    """Resampled query positions for a paired bootstrap: language → ``(replicates, n)`` indices.

    Every system and query set of a language is resampled with the same indices, so the
    replicates of a difference between them are paired (Efron and Tibshirani 1993, ch. 16).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    return {lang: rng.integers(0, n, size=(replicates, n)) for lang, n in sorted(n_queries.items())}


def percentile_interval(values: Any, level: float = 0.95) -> tuple[float, float, float]:
    """The percentile interval of bootstrap replicates and the two-sided bootstrap p-value
    of "the statistic is 0": :math:`p = 2 \\min(P^*(\\theta^* \\le 0), P^*(\\theta^* \\ge 0))`."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    lo, hi = np.quantile(v, [(1 - level) / 2, (1 + level) / 2])
    p = min(1.0, 2 * min(float((v <= 0).mean()), float((v >= 0).mean())))
    return float(lo), float(hi), p


def compare_pairs(per_query: Mapping[tuple[str, str], Mapping[str, float]], pairs: Sequence[tuple[str, str]],
                  groups: Mapping[str, Sequence[str]]) -> list[Comparison]:
    """Each ``(system, baseline)`` pair on each language and on each named group of languages.

    A group's test pools its languages' queries (query ``q`` of language ``x`` is the unit
    ``x:q``): is the system better on the group's queries as a whole? Its ``lang`` is
    ``<group> (pooled)``. Holm's correction runs over the pairs tested on one language (or
    group); a pair is tested on a group only where it has scores on all its languages.
    """
    out: list[Comparison] = []
    for gname, langs in groups.items():
        for lang in langs:
            out += _tested(per_query, pairs, lang)
        if not gname or len(langs) < 2:
            continue
        label = f"{gname} (pooled)"
        pooled = {(cond, label): {f"{x}:{q}": v for x in langs for q, v in per_query[(cond, x)].items()}
                  for cond in dict.fromkeys(c for pair in pairs for c in pair)
                  if all((cond, x) in per_query for x in langs)}
        out += _tested(pooled, pairs, label)
    return out


def _tested(per_query: Mapping[tuple[str, str], Mapping[str, float]], pairs: Sequence[tuple[str, str]],
            lang: str) -> list[Comparison]:
    """The pairs with scores on ``lang``, tested there, Holm-corrected over them."""
    found = [(s, b) for s, b in pairs if (s, lang) in per_query and (b, lang) in per_query]
    tests = [paired_t(per_query[(s, lang)], per_query[(b, lang)]) for s, b in found]
    out = []
    for (system, baseline), (p, n), p_adj in zip(found, tests, holm([p for p, _ in tests]), strict=True):
        a, b = per_query[(system, lang)], per_query[(baseline, lang)]
        out.append(Comparison(system, baseline, lang, sum(a.values()) / len(a), sum(b.values()) / len(b), p, p_adj, n))
    return out
