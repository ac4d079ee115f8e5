"""The top layers run by groups of similar length against the whole batch at once, as a ratio.

The CPU mode (``--train-layers N``) runs only the top N layers in a training step, over the
cached output of the frozen lower ones. A batch of NTREX sentences padded to its longest
sentence holds 1.7 × its real tokens; :meth:`TokenSide._top` runs the rows sorted by length
:data:`~optical_ir.distillation.features.CHUNK_ROWS` at a time instead, each group cut to
its longest row. This measures one training step's forward and backward pass of the top
layers (training mode, the MSE sentence loss's shape) over the same seeded batches with
groups of 4 rows against one group of the whole batch, and the tokens each pads to; it also
checks that the pooled vectors agree.

    python benchmarks/top_layers.py [--language sw] [--layers 6] [--batches 20] [--threads 1] \\
        [--output benchmarks/top_layers.json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from _measure import ntrex_batches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--language", default="sw")
    parser.add_argument("--layers", type=int, default=6, help="top layers trained")
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--output", default="benchmarks/top_layers.json")
    args = parser.parse_args()
    import torch

    from optical_ir.distillation import features
    from optical_ir.encoders import DenseEncoder

    torch.set_num_threads(args.threads)
    torch.manual_seed(13)
    batches = [[p.source for p in b] for b in ntrex_batches(args.language, args.batches, args.batch_size)]
    encoder = DenseEncoder("multilingual-e5-small")
    side = features.TokenSide(encoder, 64, top_layers=args.layers)
    side.prepare([t for b in batches for t in b])
    side.train_only_top()
    encoder.model.train()

    def step(batch: list[str]) -> Any:
        feats = side.run(batch)
        (feats.sentence**2).sum().backward()
        return feats.sentence.detach()

    results: dict[str, Any] = {}
    pooled = {}
    for name, rows in (("whole batch", args.batch_size), ("groups of 4", 4)):
        features.CHUNK_ROWS = {**features.CHUNK_ROWS, "fp32": rows}
        torch.manual_seed(13)
        step(batches[0])  # warm-up
        torch.manual_seed(13)
        encoder.model.eval()  # no dropout: the two ways must give the same vectors
        with torch.no_grad():
            pooled[name] = side.run(batches[0]).sentence
        encoder.model.train()
        start = time.perf_counter()
        for batch in batches:
            step(batch)
        seconds = (time.perf_counter() - start) / len(batches)
        padded = 0
        for batch in batches:
            lengths = sorted(side.trunk[t][0].shape[0] for t in batch)
            padded += sum(max(lengths[k : k + rows]) * len(lengths[k : k + rows]) for k in range(0, len(lengths), rows))
        results[name] = {"seconds_per_step": round(seconds, 4),
                         "padded_tokens_per_batch": round(padded / len(batches), 1)}
    real = sum(side.trunk[t][0].shape[0] for b in batches for t in b) / len(batches)
    whole, grouped = results["whole batch"], results["groups of 4"]
    summary = {"language": args.language, "top_layers": args.layers, "threads": args.threads,
               "batch_size": args.batch_size, "batches": args.batches, "real_tokens_per_batch": round(real, 1),
               **results, "speedup": round(whole["seconds_per_step"] / grouped["seconds_per_step"], 2),
               "max_pooled_difference": float((pooled["whole batch"] - pooled["groups of 4"]).abs().max()),
               "torch": torch.__version__}
    Path(args.output).write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
