"""Approximate dense search at scale: HNSW and IVF-PQ against the exact flat index, on test-xl.

One run, one machine, the same query vectors and threads for every index, so the figures
are ratios to flat:

* **recall@100 of flat**: the share of the exact top 100 (``IndexFlatIP``) an approximate
  index returns, averaged over the queries;
* **queries/s**: the whole query set in one ``index.search`` call (what Pyserini's
  ``FaissSearcher.batch_search`` makes, after encoding), median of ``--repeats``, and one
  query a call (``FaissSearcher.search``), each index in turn (A B C A B C …);
* **build time** of each index from the vectors (``optical_ir-index.json`` ``seconds``: the
  flat one's includes encoding the passages), **bytes a passage** (index file / passages);
* **effectiveness**: nDCG@10, R@100 and AP@100 of each index's top 100 against the qrels
  (ir-measures), so a recall loss is seen where it matters;
* a sweep of ``efSearch`` (HNSW) and ``nprobe`` (IVF-PQ): recall against queries/s, plotted.

The indexes are those ``python -m optical_ir.index --dataset optical-ir/ntrex/sw-en/test-xl
--encoder multilingual-e5-small [--index-type hnsw|ivfpq]`` builds in the cache (built here if
missing; the approximate ones from the flat one's vectors). The queries are the 1,007 test
queries of ``--languages`` (the passages are shared by every language).

    python benchmarks/ann.py [--languages sw so] [--threads 2] [--repeats 3] [--output benchmarks/ann.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np
from _measure import peak_rss_mib

MODEL = "multilingual-e5-small"
DATASET = "optical-ir/ntrex/{lang}-en/{split}"
K = 100


def _searches(index: Any, queries: np.ndarray, repeats: int) -> tuple[np.ndarray, float]:
    """The top ``K`` rows of every query, and the seconds of one batched search (median)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        _, rows = index.search(queries, K)
        times.append(time.perf_counter() - start)
    return rows, statistics.median(times)


def _single(index: Any, queries: np.ndarray, n: int) -> float:
    """Queries a second, one query a call (the first ``n``)."""
    start = time.perf_counter()
    for i in range(n):
        index.search(queries[i : i + 1], K)
    return n / (time.perf_counter() - start)


def _recall(rows: np.ndarray, exact: np.ndarray) -> float:
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(rows, exact, strict=True)]))


def _effectiveness(rows: np.ndarray, docids: list[str], qids: list[str], qrels: Any, scores: np.ndarray) -> dict:
    import ir_measures

    run = {q: {docids[j]: float(s) for j, s in zip(r, sc, strict=True) if j >= 0}
           for q, r, sc in zip(qids, rows, scores, strict=True)}
    result = ir_measures.calc_aggregate([ir_measures.parse_measure(m) for m in ("nDCG@10", "R@100", "AP@100")],
                                        qrels, run)
    return {str(k): round(float(v), 4) for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--languages", nargs="+", default=["sw"])
    parser.add_argument("--split", default="test-xl", help="NTREX split whose passages are searched")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--single", type=int, default=200, help="queries timed one a call")
    parser.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256, 512, 1024])
    parser.add_argument("--nprobe", type=int, nargs="+", default=[8, 16, 32, 64, 128])
    parser.add_argument("--output", default=str(Path(__file__).with_name("ann.json")))
    args = parser.parse_args()

    import faiss

    from optical_ir import jvm

    jvm.start()
    from optical_ir.collections import load
    from optical_ir.encoders import load_encoder
    from optical_ir.indexes import read_index_config
    from optical_ir.indexes.ann import IndexSpec, set_search_parameters
    from optical_ir.indexes.faiss import build_faiss_index
    from optical_ir.retrieval.dense import encode_topics

    faiss.omp_set_num_threads(args.threads)
    encoder = load_encoder(MODEL)
    dataset = DATASET.format(lang=args.languages[0], split=args.split)
    paths = {kind: build_faiss_index(dataset, encoder, spec=IndexSpec(kind)) for kind in ("flat", "hnsw", "ivfpq")}
    records = {kind: read_index_config(p) for kind, p in paths.items()}
    indexes = {kind: faiss.read_index(str(p / "index")) for kind, p in paths.items()}
    docids = (paths["flat"] / "docid").read_text(encoding="utf-8").split("\n")[: indexes["flat"].ntotal]
    qids, texts, qrels = [], [], []
    for lang in args.languages:
        ds = load(DATASET.format(lang=lang, split=args.split))
        for q in ds.queries_iter():
            qids.append(f"{lang}:{q.query_id}")
            texts.append(q.text)
        qrels += [(f"{lang}:{r.query_id}", r.doc_id, r.relevance) for r in ds.qrels_iter()]
    import ir_measures

    qrels_obj = [ir_measures.Qrel(q, d, rel) for q, d, rel in qrels]
    queries = np.ascontiguousarray(encode_topics(encoder, texts), dtype=np.float32)

    exact, _ = _searches(indexes["flat"], queries, 1)
    result: dict[str, Any] = {"dataset": dataset, "passages": int(indexes["flat"].ntotal), "dim": int(queries.shape[1]),
                              "queries": len(qids), "languages": args.languages, "threads": args.threads, "k": K,
                              "model": MODEL, "indexes": {}}
    order = ["flat", "hnsw", "ivfpq"]
    batch_s: dict[str, list[float]] = {k: [] for k in order}
    for _ in range(args.repeats):  # interleaved: A B C A B C
        for kind in order:
            batch_s[kind].append(_searches(indexes[kind], queries, 1)[1])
    single = {kind: _single(indexes[kind], queries, args.single) for kind in order}
    for kind in order:
        scores, rows = indexes[kind].search(queries, K)
        seconds = statistics.median(batch_s[kind])
        result["indexes"][kind] = {
            "factory": records[kind].get("faiss", "IndexFlatIP"), "params": records[kind].get("index_params", {}),
            "build_seconds": records[kind]["seconds"],
            "bytes_per_passage": round((paths[kind] / "index").stat().st_size / indexes[kind].ntotal, 1),
            "index_mib": round((paths[kind] / "index").stat().st_size / 2**20, 1),
            "recall_at_100_of_flat": round(_recall(rows, exact), 4),
            "batch_qps": round(len(qids) / seconds, 1), "single_qps": round(single[kind], 1),
            **_effectiveness(rows, docids, qids, qrels_obj, scores)}
    flat = result["indexes"]["flat"]
    for kind in order:
        entry = result["indexes"][kind]
        entry["batch_speedup"] = round(entry["batch_qps"] / flat["batch_qps"], 2)
        entry["single_speedup"] = round(entry["single_qps"] / flat["single_qps"], 2)
    sweep: dict[str, list[dict[str, float]]] = {"hnsw": [], "ivfpq": []}
    for kind, name, values in (("hnsw", "efSearch", args.ef_search), ("ivfpq", "nprobe", args.nprobe)):
        index = indexes[kind]
        for v in values:
            set_search_parameters(index, **({"ef_search": v} if kind == "hnsw" else {"nprobe": v}))
            rows, seconds = _searches(index, queries, args.repeats)
            sweep[kind].append({name: v, "recall_at_100_of_flat": round(_recall(rows, exact), 4),
                                "batch_qps": round(len(qids) / seconds, 1),
                                "batch_speedup": round(len(qids) / seconds / flat["batch_qps"], 2),
                                "single_qps": round(_single(index, queries, args.single), 1)})
            sweep[kind][-1]["single_speedup"] = round(sweep[kind][-1]["single_qps"] / flat["single_qps"], 2)
    result["sweep"] = sweep
    result["peak_rss_mib"] = round(peak_rss_mib(), 1)
    out = Path(args.output)
    out.write_text(json.dumps(result, indent=2) + "\n")
    _write_reports(result, out)
    print(out.with_suffix(".md").read_text())


def _write_reports(result: dict[str, Any], out: Path) -> None:
    out.with_suffix(".md").write_text(_markdown(result))
    _plot(result, out.with_suffix(".png"))


def _markdown(r: dict[str, Any]) -> str:
    lines = [f"{r['passages']:,} passages ({r['dataset'].split('/')[-1]}), {r['queries']:,} queries "
             f"({', '.join(r['languages'])}), {r['model']} vectors ({r['dim']}-d), top {r['k']}, "
             f"{r['threads']} threads.", "",
             "| index | FAISS | recall@100 of flat | queries/s (batch) | × flat | queries/s (one a call) | × flat "
             "| build s | bytes/passage | nDCG@10 | R@100 |", "|" + "---|" * 11]
    for kind, e in r["indexes"].items():
        lines.append(f"| {kind} | `{e['factory']}` | {e['recall_at_100_of_flat']:.4f} | {e['batch_qps']:,.0f} | "
                     f"{e['batch_speedup']:.2f} | {e['single_qps']:,.0f} | {e['single_speedup']:.2f} | "
                     f"{e['build_seconds']:,.0f} | {e['bytes_per_passage']:,.0f} | {e['nDCG@10']:.4f} | "
                     f"{e['R@100']:.4f} |")
    lines += ["", "| index | parameter | recall@100 of flat | queries/s (batch) | × flat "
              "| queries/s (one a call) | × flat |", "|---|---|---|---|---|---|---|"]
    for kind, rows in r["sweep"].items():
        for row in rows:
            name = "efSearch" if kind == "hnsw" else "nprobe"
            lines.append(f"| {kind} | {name}={row[name]} | {row['recall_at_100_of_flat']:.4f} | "
                         f"{row['batch_qps']:,.0f} | {row['batch_speedup']:.2f} | {row['single_qps']:,.0f} | "
                         f"{row['single_speedup']:.2f} |")
    return "\n".join(lines) + "\n"


def _plot(r: dict[str, Any], path: Path) -> None:
    """Recall of flat against queries/s, batched (left) and one query a call (right)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    flat = r["indexes"]["flat"]
    for ax, mode, title in ((axes[0], "batch_qps", "all queries in one call"),
                            (axes[1], "single_qps", "one query a call")):
        for kind, rows in r["sweep"].items():
            name = "efSearch" if kind == "hnsw" else "nprobe"
            ax.plot([x[mode] for x in rows], [x["recall_at_100_of_flat"] for x in rows], "o-", label=kind)
            for x in rows:
                ax.annotate(str(x[name]), (x[mode], x["recall_at_100_of_flat"]), fontsize=7,
                            textcoords="offset points", xytext=(3, 3))
        ax.plot([flat[mode]], [1.0], "ks", label="flat (exact)")
        ax.axvline(5 * flat[mode], color="grey", ls=":", lw=1, label="5 × flat")
        ax.set_xscale("log")
        ax.set_xlabel("queries/s (log scale)")
        ax.set_title(title)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("recall@100 of flat")
    axes[1].legend(loc="lower left")
    fig.suptitle(f"{r['passages']:,} passages, {r['threads']} threads")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    main()
