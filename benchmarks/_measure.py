"""Shared by the benchmark scripts (run as ``python benchmarks/<name>.py``)."""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any


def peak_rss_mib() -> float:
    """Peak resident memory of this process in MiB (VmHWM; ru_maxrss where /proc is missing)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def ntrex_batches(language: str, batches: int, batch_size: int, seed: int = 13) -> list[list[Any]]:
    """The first ``batches`` training batches of ``language``'s NTREX bitext pairs, in the
    seeded order the trainer draws for its first epoch (``torch.randperm`` of ``seed``)."""
    import torch

    from optical_ir.distillation import DistillConfig
    from optical_ir.distillation.data import training_pairs

    pairs = training_pairs(DistillConfig(languages=(language,), method="mse"))
    order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(seed)).tolist()
    return [[pairs[i] for i in order[k * batch_size : (k + 1) * batch_size]] for k in range(batches)]
