"""Run-file reading benchmark: ``optical_ir.trec.read_run`` against the reader it replaced
and against ir-measures' own.

Three readers of the same committed gzipped TREC run, each returning ``{qid: {docid: score}}``:

* ``read_run``: one loop over the lines, every check of :func:`optical_ir.trec.iter_run`
  (six columns, integer rank, finite score, no document twice for a query);
* the record-per-line reader it replaced: the same checks through :func:`~optical_ir.trec.iter_run`
  (an ``ir_measures.ScoredDoc`` per line), folded into the dict;
* ``ir_measures.read_trec_run`` (no checks), folded into the dict.

All three must return the same dict. Timings alternate between the readers and report the
median of ``--repeats``, so the figures are ratios within one run.

    python benchmarks/read_run.py [--run runs/ntrex/fused-psq-maxsim-optical-cpu.yo.trec.gz] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def record_per_line(path: Path) -> dict[str, dict[str, float]]:
    from optical_ir.trec import iter_run

    run: dict[str, dict[str, float]] = {}
    for sd in iter_run(path):
        hits = run.setdefault(sd.query_id, {})
        if sd.doc_id in hits:
            raise ValueError(f"{sd.query_id} {sd.doc_id} twice")
        hits[sd.doc_id] = sd.score
    return run


def ir_measures_reader(path: Path) -> dict[str, dict[str, float]]:
    import ir_measures

    run: dict[str, dict[str, float]] = {}
    for sd in ir_measures.read_trec_run(str(path)):
        run.setdefault(sd.query_id, {})[sd.doc_id] = sd.score
    return run


def main(argv: list[str] | None = None) -> int:
    from optical_ir.trec import read_run

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", default=str(ROOT / "runs/ntrex/fused-psq-maxsim-optical-cpu.yo.trec.gz"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=str(ROOT / "benchmarks/read_run.json"))
    args = parser.parse_args(argv)
    path = Path(args.run)
    readers: dict[str, Callable[[Path], Any]] = {"read_run": read_run, "record_per_line": record_per_line,
                                                 "ir_measures": ir_measures_reader}
    results = {name: reader(path) for name, reader in readers.items()}
    if any(r != results["read_run"] for r in results.values()):
        raise SystemExit("the readers disagree")
    seconds: dict[str, list[float]] = {name: [] for name in readers}
    for _ in range(args.repeats):
        for name, reader in readers.items():
            start = time.perf_counter()
            reader(path)
            seconds[name].append(time.perf_counter() - start)
    median = {name: statistics.median(s) for name, s in seconds.items()}
    lines = sum(len(h) for h in results["read_run"].values())
    out = {"run": str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path), "lines": lines,
           "repeats": args.repeats, "median_seconds": {k: round(v, 4) for k, v in median.items()},
           "speedup_over_record_per_line": round(median["record_per_line"] / median["read_run"], 2),
           "speedup_over_ir_measures": round(median["ir_measures"] / median["read_run"], 2)}
    Path(args.output).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
