"""Data-parallel distillation: training pairs a second with 1 process against N processes (torchrun).

The same student, teacher, pairs, global batch and epochs on both sides, so the figure is a
ratio on one machine: ``pairs_per_second`` of the epochs (``optical_ir-distill.json``; the
time of the loop, not of loading models or filling the caches). On a CPU the N processes
share the cores: 1 process with ``--threads`` threads against N with ``--threads / N`` each
(``OMP_NUM_THREADS``), so what is measured is the cost or gain of splitting the same cores
into ranks (gloo all-reduce included). On a GPU machine ``--device cuda`` runs one process a GPU.

    python benchmarks/distributed.py [--processes 2] [--threads 2] [--methods mse optical] [--pairs 256]
        [--epochs 1] [--device cpu] [--output benchmarks/distributed.json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

MODEL = "multilingual-e5-small"


def _train(method: str, processes: int, threads: int, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    flags = ["--language", "sw", "--method", method, "--teacher", MODEL, "--student", MODEL,
             "--max-pairs", str(args.pairs), "--epochs", str(args.epochs), "--batch-size", str(args.batch_size),
             "--max-length", "64", "--device", args.device, "--output", str(out)]
    if processes == 1:
        command = [sys.executable, "-m", "optical_ir.distill", *flags]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                   str(processes), "-m", "optical_ir.distill", *flags]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(done.stderr[-3000:])
    info = json.loads((out / "optical_ir-distill.json").read_text())
    epochs = info["history"]
    seconds = sum(h["seconds"] for h in epochs)
    return {"processes": processes, "threads_each": threads, "loop_seconds": round(seconds, 1),
            "wall_seconds": round(wall, 1), "pairs_per_second": round(info["pairs"] * len(epochs) / seconds, 2),
            "final_loss": epochs[-1]["loss"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="CPU threads in all (split among the processes)")
    parser.add_argument("--methods", nargs="+", default=["mse", "optical"])
    parser.add_argument("--pairs", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", default=str(Path(__file__).with_name("distributed.json")))
    args = parser.parse_args()
    result: dict[str, Any] = {"model": MODEL, "pairs": args.pairs, "batch_size": args.batch_size,
                              "epochs": args.epochs, "device": args.device, "threads": args.threads,
                              "cpus": os.cpu_count(), "methods": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for method in args.methods:
            # a first run fills the teacher and trunk caches for both sides; then 1 vs N, timed
            _train(method, 1, args.threads, args, Path(tmp) / f"{method}-warm")
            one = _train(method, 1, args.threads, args, Path(tmp) / f"{method}-1")
            many = _train(method, args.processes, max(1, args.threads // args.processes), args,
                          Path(tmp) / f"{method}-{args.processes}")
            result["methods"][method] = {"one": one, "many": many,
                                         "ratio": round(many["pairs_per_second"] / one["pairs_per_second"], 3),
                                         "loss_difference": abs(many["final_loss"] - one["final_loss"])}
            print(method, json.dumps(result["methods"][method]))
    out = Path(args.output)
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(_markdown(result, args.processes))


def _markdown(r: dict[str, Any], n: int) -> str:
    lines = [f"{r['model']} student and teacher, {r['pairs']} NTREX sw pairs, global batch {r['batch_size']}, "
             f"{r['epochs']} epoch(s), {r['device']}, {r['threads']} threads in all on {r['cpus']} cores.", "",
             f"| method | 1 process: pairs/s | {n} processes: pairs/s | ratio | final loss, 1 | final loss, {n} |",
             "|---|---|---|---|---|---|"]
    for method, m in r["methods"].items():
        lines.append(f"| {method} | {m['one']['pairs_per_second']:.2f} ({m['one']['threads_each']} threads) | "
                     f"{m['many']['pairs_per_second']:.2f} ({m['many']['threads_each']} thread each) | "
                     f"{m['ratio']:.3f} | {m['one']['final_loss']:.4f} | {m['many']['final_loss']:.4f} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
