"""Training throughput of every student recipe of ``reproduce/training.yaml``, as ratios to OPTICAL's.

Each recipe trains one epoch on the same NTREX sentences (``--pairs`` of the language, a
seeded sample) in one process, one after the other, with the same threads and device;
the figure is the epoch loop's pairs per second as the trainer records it
(``optical_ir-distill.json``: the frozen layers and the teacher are cached before the
loop, so their one-off cost is reported apart, as ``setup_seconds``). Ratios to
``dense-optical`` are what carries over to another machine.

    python benchmarks/training.py [--language sw] [--pairs 320] [--threads 2] [--device cpu] \\
        [--output benchmarks/training.json]   (and the table benchmarks/training.md)
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

OPTICAL = {"method": "optical", "cost": "cosine", "eps": 0.05, "sentence_weight": 1.0}
RECIPES: dict[str, dict[str, Any]] = {
    "dense-msekd": {"method": "mse"},
    "dense-optical": OPTICAL,
    "dense-optical-adv": {**OPTICAL, "adversary": "fgsm"},
    "dense-optical-pgd3": {**OPTICAL, "adversary": "pgd", "adv_steps": 3},
    "dense-optical-freelb3": {**OPTICAL, "adversary": "freelb", "adv_steps": 3},
    "dense-optical-aug": {**OPTICAL, "augment": ("typo", "diacritics", "code-switch")},
    "dense-msekd-adv": {"method": "mse", "adversary": "fgsm"},
    "dense-hybrid": {"method": "infonce", "batching": "hybrid"},
    "dense-xling": {"method": "infonce"},
    "dense-hybrid-optical": {**OPTICAL, "retrieval_weight": 1.0, "batching": "hybrid"},
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="sw")
    parser.add_argument("--pairs", type=int, default=320, help="training pairs (a seeded sample)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--output", default="benchmarks/training.json")
    args = parser.parse_args()
    import torch

    from optical_ir.distillation import DistillConfig, distill, read_distill_info

    torch.set_num_threads(args.threads)
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, recipe in RECIPES.items():
            config = DistillConfig(languages=(args.language,), max_pairs=args.pairs, epochs=1, lr=1e-4,
                                   train_layers=2, **recipe)
            start = time.perf_counter()
            out = distill(config, Path(tmp) / name, device=args.device, save_model=False)
            wall = time.perf_counter() - start
            epoch = (read_distill_info(out) or {})["history"][0]
            results[name] = {"pairs_per_second": epoch["pairs_per_second"],
                             "setup_seconds": round(wall - epoch["seconds"], 1)}
            print(name, results[name], flush=True)
    base = results["dense-optical"]["pairs_per_second"]
    for r in results.values():
        r["ratio_to_optical"] = round(r["pairs_per_second"] / base, 3)
    report = {"device": args.device, "threads": args.threads, "language": args.language, "pairs": args.pairs,
              "model": "multilingual-e5-small, top 2 of 12 layers trained, batch 16", "recipes": results}
    Path(args.output).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    lines = ["| recipe | pairs/s | × dense-optical | setup (s) |", "|---|---|---|---|"]
    lines += [f"| {name} | {r['pairs_per_second']:.1f} | {r['ratio_to_optical']:.2f} | {r['setup_seconds']:.1f} |"
              for name, r in results.items()]
    Path(args.output).with_suffix(".md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
