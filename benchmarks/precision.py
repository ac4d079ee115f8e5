"""A training step of the CPU mode in bfloat16 against float32, as a ratio, in one run.

``--precision bf16`` runs the student's trained layers under ``torch.autocast`` in
bfloat16 (weights, optimizer and losses in float32) and groups the rows of a batch 16 at a
time instead of 4 (:data:`~optical_ir.distillation.features.CHUNK_ROWS`). This measures one
training step of each over the same seeded NTREX batches: the forward pass of the X side
and of the English side (the MSE loss's shape: the student reads both), the backward pass
and the AdamW update of the top ``--layers`` layers, over the cached output of the frozen
ones. It also reports how far the bfloat16 pooled vectors are from the float32 ones (eval
mode, no dropout): the cosine of each pair. Whether the students trained so retrieve as
well is the reproduction's question (the ``-cpu`` conditions), not this script's.

    python benchmarks/precision.py [--language sw] [--layers 9] [--batches 20] [--threads 2] \\
        [--kernel-batches 2] [--output benchmarks/precision.json]

The CPU needs bfloat16 matrix units (AMX or AVX-512 BF16, ``lscpu``) to gain. On one
without them the toolkit runs bfloat16 products in float32 arithmetic
(:mod:`optical_ir.distillation.bfloat16`), and this also times torch's own bfloat16
kernels there (``--kernel-batches`` steps: they are slow), the ratio that module avoids.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import time
from pathlib import Path
from typing import Any
from unittest.mock import patch

from _measure import ntrex_batches

MODES = {"fp32": "float32, groups of 4", "bf16": "bfloat16 autocast, groups of 16",
         "bf16-kernels": "bfloat16 autocast in torch's own kernels (no bfloat16 units), groups of 16"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="sw")
    parser.add_argument("--layers", type=int, default=9, help="top layers trained")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kernel-batches", type=int, default=2,
                        help="steps timed of torch's own bfloat16 kernels, on a CPU without bfloat16 units")
    parser.add_argument("--output", default="benchmarks/precision.json")
    args = parser.parse_args()
    import torch

    from optical_ir.distillation import bfloat16, features
    from optical_ir.encoders import DenseEncoder

    torch.set_num_threads(args.threads)
    batches = ntrex_batches(args.language, args.batches, args.batch_size)
    encoder = DenseEncoder("multilingual-e5-small")
    modes = [m for m in MODES if m != "bf16-kernels" or bfloat16.emulated("cpu")]
    sides = {m: features.TokenSide(encoder, 64, top_layers=args.layers, precision=m[:4]) for m in modes}
    texts = [t for b in batches for p in b for t in (p.source, p.english)]
    sides["fp32"].prepare(texts)
    for mode in modes[1:]:
        sides[mode].trunk = sides["fp32"].trunk  # the frozen layers' output is float32 either way
    params = sides["fp32"].train_only_top()
    start_state = {k: v.clone() for k, v in encoder.model.state_dict().items()}

    target = torch.nn.functional.normalize(torch.randn(args.batch_size, encoder.dim,
                                                       generator=torch.Generator().manual_seed(13)), dim=-1)

    def step(side: Any, optimizer: Any, batch: list[Any]) -> None:
        x, e = side.run([p.source for p in batch]), side.run([p.english for p in batch])
        t = target[: len(batch)]  # a fixed stand-in for the teacher's vectors
        loss = ((x.sentence - t) ** 2).sum(-1).mean() + ((e.sentence - t) ** 2).sum(-1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    results: dict[str, Any] = {}
    pooled: dict[str, Any] = {}
    for mode in modes:
        encoder.model.load_state_dict(start_state)
        # torch's own kernels: the products without the float32 path the toolkit takes on this CPU
        kernels = mode == "bf16-kernels"
        side, timed = sides[mode], batches[: args.kernel_batches] if kernels else batches
        with patch.object(features, "arithmetic", lambda *_: contextlib.nullcontext()) if kernels \
                else contextlib.nullcontext():
            encoder.model.eval()
            with torch.no_grad():
                pooled[mode] = torch.cat([side.run([p.source for p in b]).sentence for b in batches])
            encoder.model.train()
            optimizer = torch.optim.AdamW(params, lr=1e-4)
            torch.manual_seed(13)
            step(side, optimizer, batches[0])  # warm-up
            start = time.perf_counter()
            for batch in timed:
                step(side, optimizer, batch)
        seconds = (time.perf_counter() - start) / len(timed)
        results[mode] = {"label": MODES[mode], "seconds_per_step": round(seconds, 4), "steps": len(timed),
                         "pairs_per_second": round(args.batch_size / seconds, 1)}

    def cosine(a: str, b: str) -> Any:
        return torch.nn.functional.cosine_similarity(pooled[a].float(), pooled[b].float(), dim=-1)

    def ratio(a: str, b: str) -> float:
        return round(results[a]["seconds_per_step"] / results[b]["seconds_per_step"], 2)

    near = cosine("fp32", "bf16")
    summary = {"language": args.language, "top_layers": args.layers, "threads": args.threads,
               "batch_size": args.batch_size, "batches": args.batches, **results,
               "speedup": ratio("fp32", "bf16"),
               "pooled_cosine_min": round(float(near.min()), 5), "pooled_cosine_mean": round(float(near.mean()), 5),
               "cpu_bf16_flags": list(bfloat16.cpu_bf16_units() or ()),
               "bf16_products": "float32 arithmetic" if bfloat16.emulated("cpu") else "torch's bfloat16 kernels",
               "processor": platform.processor() or platform.machine(),
               "torch": torch.__version__}
    if "bf16-kernels" in results:
        summary["speedup_over_kernels"] = ratio("bf16-kernels", "bf16")
        summary["pooled_cosine_min_vs_kernels"] = round(float(cosine("bf16", "bf16-kernels").min()), 5)
        summary["pooled_cosine_min_kernels_vs_fp32"] = round(float(cosine("fp32", "bf16-kernels").min()), 5)
    out = Path(args.output)
    out.write_text(json.dumps(summary, indent=2) + "\n")
    rows = ["| arithmetic | s / step | pairs / s |", "|---|---|---|"]
    rows += [f"| {r['label']} | {r['seconds_per_step']} | {r['pairs_per_second']} |" for r in results.values()]
    rows.append(f"\nbfloat16 / float32 speed: **{summary['speedup']}×** (bfloat16 products: "
                f"{summary['bf16_products']}); cosine of the pooled vectors (bfloat16 vs float32, "
                f"{len(near)} sentences): mean {summary['pooled_cosine_mean']}, min {summary['pooled_cosine_min']}")
    if "bf16-kernels" in results:
        rows.append(f"\nOver torch's own bfloat16 kernels on this CPU: **{summary['speedup_over_kernels']}×** "
                    f"({results['bf16-kernels']['steps']} steps timed); cosine of the pooled vectors, min: "
                    f"{summary['pooled_cosine_min_vs_kernels']} against theirs "
                    f"({summary['pooled_cosine_min_kernels_vs_fp32']} theirs against float32)")
    out.with_suffix(".md").write_text("\n".join(rows) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
