"""Fuse TREC runs (e.g. BM25 and dense) with ``pyserini.fusion``.

Methods (Pyserini's):

* ``rrf`` — reciprocal rank fusion, :math:`s(d) = \\sum_r 1 / (k + \\mathrm{rank}_r(d))`
  (Cormack et al., 2009; ``--rrf-k`` 60);
* ``interpolation`` — two runs, :math:`s(d) = \\alpha\\, s_1(d) + (1 - \\alpha)\\, s_2(d)`;
  with ``--normalize`` (the default) each run's scores are first min-max scaled per
  query, since BM25 and cosine scores live on different scales;
* ``average`` — mean score; ``normalize`` — sum of min-max scaled scores.

:class:`FusionSearcher` fuses the runs of several searchers on the same topics;
:func:`fuse_files` fuses run files (``python -m optical_ir.fuse``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from ..errors import ConfigError
from ..trec import Run, read_run, write_run
from .base import Searcher, SearchResult, Topics

METHODS = ("rrf", "interpolation", "average", "normalize")


def fuse(runs: Sequence[Run], method: str = "rrf", *, rrf_k: int = 60, alpha: float = 0.5,
         normalize: bool = True, depth: int | None = None, hits: int | None = None) -> Run:
    """Fuse runs with ``pyserini.fusion``; see the module text for the methods."""
    import pandas as pd
    from pyserini import fusion
    from pyserini.trectools import RescoreMethod, TrecRun

    if method not in METHODS:
        raise ConfigError(f"unknown fusion method {method!r}; choose one of {', '.join(METHODS)}")
    if len(runs) < 2:
        raise ConfigError("fusion needs at least two runs")
    if method == "interpolation" and len(runs) != 2:
        raise ConfigError("interpolation fuses exactly two runs")
    trec_runs = []
    for run in runs:
        rows = [(qid, "Q0", doc, rank, score, "run")
                for qid, docs in run.items()
                for rank, (doc, score) in enumerate(sorted(docs.items(), key=lambda kv: (-kv[1], kv[0])), 1)]
        trec = TrecRun()
        trec.run_data = pd.DataFrame(rows, columns=TrecRun.columns)
        trec_runs.append(trec)
    if method == "rrf":
        fused = fusion.reciprocal_rank_fusion(trec_runs, rrf_k=rrf_k, depth=depth, k=hits)
    elif method == "interpolation":
        if normalize:
            trec_runs = [r.clone().rescore(method=RescoreMethod.NORMALIZE) for r in trec_runs]
        fused = fusion.interpolation(trec_runs, alpha=alpha, depth=depth, k=hits)
    elif method == "average":
        fused = fusion.average(trec_runs, depth=depth, k=hits)
    else:
        fused = fusion.normalize(trec_runs, depth=depth, k=hits)
    out: Run = {}
    for row in fused.run_data.itertuples(index=False):
        out.setdefault(str(row.topic), {})[str(row.docid)] = float(row.score)
    return out


def fuse_files(paths: Sequence[str | os.PathLike[str]], output: str | os.PathLike[str], method: str = "rrf",
               run_tag: str | None = None, **kwargs: object) -> Run:
    runs = [read_run(p) for p in paths]
    fused = fuse(runs, method, **kwargs)  # type: ignore[arg-type]
    order = list(dict.fromkeys(q for r in runs for q in r))
    write_run(fused, output, run_tag or method, order)
    return fused


class FusionSearcher(Searcher):
    """The fusion (:func:`fuse`) of the runs of ``searchers`` on the same topics."""

    tag = "fusion"

    def __init__(self, searchers: Sequence[Searcher], method: str = "rrf", depth: int = 1000,
                 **options: object) -> None:
        if method not in METHODS:
            raise ConfigError(f"unknown fusion method {method!r}; choose one of {', '.join(METHODS)}")
        self.searchers, self.method, self.depth, self.options = list(searchers), method, depth, options

    def batch_search(self, topics: Topics, k: int = 1000) -> SearchResult:
        results = [s.batch_search(topics, self.depth) for s in self.searchers]
        fused = fuse([r.run for r in results], self.method, hits=k, **self.options)  # type: ignore[arg-type]
        empty = sorted(set.intersection(*(set(r.empty) for r in results))) if results else []
        return SearchResult(fused, empty)
