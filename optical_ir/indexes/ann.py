r"""Which FAISS index holds the passage vectors: exact (flat) or approximate (HNSW, IVF-PQ).

:class:`IndexSpec` is the typed configuration (flags ``--index-type``, ``--hnsw-m`` …);
:meth:`IndexSpec.factory` turns it into a FAISS factory string, the one description of an
index FAISS understands (``faiss.index_factory``), and :func:`build_index` makes the index
from vectors in memory. All three score by inner product :math:`\langle q, d\rangle`:

* ``flat`` — ``IndexFlatIP``: exact, 4 bytes a dimension;
* ``hnsw`` — ``HNSW<M>,Flat``: a hierarchical navigable small-world graph (Malkov and
  Yashunin, 2018) over the exact vectors; a query visits ``ef_search`` candidates. Memory
  :math:`4d + 8M` bytes a passage (vectors and links of the base layer);
* ``ivfpq`` — ``IVF<nlist>,PQ<m>``: an inverted file of ``nlist`` k-means cells whose members
  are stored as product-quantised codes of ``m`` bytes (Jégou et al., 2011); a query scans
  ``nprobe`` cells. Trained on at most :data:`TRAIN_PER_CELL` vectors a cell, taken evenly
  spaced from the collection (FAISS's k-means is seeded, so training is deterministic).

The search-time parameters (``efSearch``, ``nprobe``) are stored in the index file itself,
so Pyserini's ``FaissSearcher`` — which opens any FAISS index — searches with them;
:func:`set_search_parameters` changes them on an open index (``search --ef-search``).
HNSW is built on one thread: FAISS inserts in parallel in an order that varies between
runs, and the graph (hence the run) would not be reproducible.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError

INDEX_TYPES: tuple[str, ...] = ("flat", "hnsw", "ivfpq")
SEARCH_TIME = ("ef_search", "nprobe")
"""Fields that only set how an index is searched: an index built with others is reused (and,
when they are given, its stored values are updated)."""
EF_SEARCH = 512
NPROBE = 32
TRAIN_PER_CELL = 64
"""IVF training vectors a cell (FAISS warns below 39)."""


@dataclass(frozen=True)
class IndexSpec:
    """How the passage vectors are indexed (saved as ``index_type`` and ``index_params`` in
    ``optical_ir-index.json``)."""

    index_type: str = field(default="flat", metadata={
        "help": "flat (exact inner product), hnsw (graph, approximate) or ivfpq (inverted file of PQ codes, "
                "approximate and compact)", "choices": INDEX_TYPES})
    hnsw_m: int = field(default=32, metadata={"help": "hnsw: links a node (M)"})
    ef_construction: int = field(default=200, metadata={"help": "hnsw: candidates kept while inserting"})
    ef_search: int | None = field(default=None, metadata={
        "help": f"hnsw: candidates kept while searching, saved in the index (default {EF_SEARCH}; it must exceed "
                f"the hits asked for: efSearch 128 finds 0.86 of the exact top 100 on test-xl, 512 0.98)"})
    nlist: int | None = field(default=None, metadata={
        "help": "ivfpq: k-means cells (default 4·sqrt(passages), rounded to a power of two)"})
    pq_m: int | None = field(default=None, metadata={
        "help": "ivfpq: bytes a passage, one sub-quantiser each; must divide the dimension (default dim/8)"})
    nprobe: int | None = field(default=None, metadata={
        "help": f"ivfpq: cells scanned a query, saved in the index (default {NPROBE})"})

    def __post_init__(self) -> None:
        if self.index_type not in INDEX_TYPES:
            raise ConfigError(f"index type {self.index_type!r}: choose one of {', '.join(INDEX_TYPES)}")

    def params(self, n: int, dim: int) -> dict[str, Any]:
        """The parameters that matter for this type, with the defaults resolved for ``n``
        passages of dimension ``dim``."""
        if self.index_type == "flat":
            return {}
        if self.index_type == "hnsw":
            return {"M": self.hnsw_m, "efConstruction": self.ef_construction, "efSearch": self.ef_search or EF_SEARCH}
        nlist = self.nlist or max(1, 2 ** round(math.log2(max(1.0, 4 * math.sqrt(n)))))
        pq_m = self.pq_m or max(1, dim // 8)
        if dim % pq_m:
            raise ConfigError(f"--pq-m {pq_m} does not divide the dimension {dim}; use a divisor of {dim}")
        if n < nlist:
            raise ConfigError(f"ivfpq with {nlist} cells needs at least {nlist} passages, the collection has {n}; "
                              f"give a smaller --nlist, or --index-type flat")
        return {"nlist": nlist, "m": pq_m, "nbits": 8, "nprobe": min(self.nprobe or NPROBE, nlist)}

    def factory(self, n: int, dim: int) -> str:
        """The FAISS factory string of this index for ``n`` passages of dimension ``dim``."""
        p = self.params(n, dim)
        if self.index_type == "flat":
            return "Flat"
        if self.index_type == "hnsw":
            return f"HNSW{p['M']},Flat"
        return f"IVF{p['nlist']},PQ{p['m']}x{p['nbits']}"

    def suffix(self) -> str:
        """What the default directory of a non-flat index adds to the flat one's name."""
        return "" if self.index_type == "flat" else f"-{self.index_type}"


def build_index(spec: IndexSpec, vectors: np.ndarray) -> Any:
    """A FAISS inner-product index of ``spec`` holding ``vectors`` (row ``i`` is passage ``i``)."""
    import faiss

    n, dim = vectors.shape
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    p = spec.params(n, dim)
    index = faiss.index_factory(dim, spec.factory(n, dim), faiss.METRIC_INNER_PRODUCT)
    if spec.index_type == "hnsw":
        index.hnsw.efConstruction = p["efConstruction"]
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)  # a reproducible graph (see the module text)
        try:
            index.add(x)
        finally:
            faiss.omp_set_num_threads(threads)
    else:
        if not index.is_trained:
            # polysemous training (on by default) reorders the codes for Hamming filtering, which
            # this index does not use, and takes minutes even on a few hundred vectors
            faiss.downcast_index(index).do_polysemous_training = False
            rows = np.linspace(0, n - 1, num=min(n, TRAIN_PER_CELL * p["nlist"])).astype(np.int64)
            index.train(x[np.unique(rows)])
        index.add(x)
    set_search_parameters(index, p.get("efSearch"), p.get("nprobe"))
    return index


def set_search_parameters(index: Any, ef_search: int | None = None, nprobe: int | None = None) -> None:
    """Set ``efSearch`` (HNSW) and ``nprobe`` (IVF) on an open index; one the index does not
    have is refused."""
    import faiss

    inner = faiss.downcast_index(index)
    for name, value, flag, kind, present in (("efSearch", ef_search, "--ef-search", "an hnsw", hasattr(inner, "hnsw")),
                                             ("nprobe", nprobe, "--nprobe", "an ivfpq", hasattr(inner, "nprobe"))):
        if value is None:
            continue
        if not present:
            raise ConfigError(f"{flag} applies to {kind} index, not to this {type(inner).__name__} "
                              f"(build one with python -m optical_ir.index --index-type)")
        faiss.ParameterSpace().set_index_parameter(index, name, int(value))
