r"""Data-parallel distillation on ``torch.distributed``: one process a device, on one node or many.

``torchrun`` starts the processes and sets ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``;
:func:`current` joins the process group (``gloo`` on CPUs, ``nccl`` on GPUs) and returns the
:class:`World`, which is a single process, with every operation a no-op, when those
variables are absent — the trainer has one code path.

What each process does with a global batch :math:`B` (the rows ``order[s·b : (s+1)·b]`` of
step :math:`s`, the same permutation on every rank) is :meth:`World.shard`: rank
:math:`r` of :math:`R` takes rows :math:`r, r+R, r+2R, \dots`. Its loss, the mean over its
:math:`n_r` rows, is weighted by :math:`n_r / |B|` and the gradients are summed over the
ranks (:meth:`World.all_reduce_gradients`), so the step is that of the mean over :math:`B`:

.. math:: \nabla \frac{1}{|B|} \sum_{i \in B} \ell_i
          = \sum_r \frac{n_r}{|B|} \nabla \frac{1}{n_r} \sum_{i \in B_r} \ell_i ,

and :math:`R` processes with batch :math:`b` train the student that one process trains with
batch :math:`b` (to float tolerance, with dropout off: each rank draws its own dropout
masks). That holds for every loss that is a mean over pairs (``optical``, ``mse``,
``token-*``); a loss with in-batch negatives (``infonce``, ``--retrieval-weight``) sees the
negatives of its own rank, as under ``DistributedDataParallel`` without a gather.

Why not torch's ``DistributedSampler`` and ``DistributedDataParallel``: the sampler pads the
data to a multiple of :math:`R` by repeating rows (the result would depend on :math:`R`), and
the student is not run by one ``forward`` — the top layers over the cached frozen trunk, the
English side, the adversary's repeated passes — which is the contract DDP's reducer is
built on. The gradients are all-reduced here instead, flattened into one buffer a step (as
DDP's buckets do), after ``backward`` and before clipping, which therefore clips the global
gradient.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from ..errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class World:
    """This process's place among the training processes."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        """Whether this process writes the outputs (checkpoints, the student, progress)."""
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1

    def device(self, device: str) -> str:
        """The device of this process: ``cuda`` becomes ``cuda:<local rank>``."""
        return f"cuda:{self.local_rank}" if self.distributed and device == "cuda" else device

    def shard(self, rows: Sequence[T]) -> list[T]:
        """This rank's rows of a global batch (rows ``rank, rank + size, …``)."""
        return list(rows[self.rank :: self.size])

    def barrier(self) -> None:
        if self.distributed:
            import torch.distributed as dist

            dist.barrier()

    @contextmanager
    def main_first(self) -> Iterator[None]:
        """Rank 0 runs the block first (it fills a cache on disk), then the others (they read it)."""
        if self.main:
            yield
            self.barrier()
        else:
            self.barrier()
            yield

    def all_reduce_gradients(self, params: Sequence[Any]) -> None:
        """Sum the gradients of ``params`` over the ranks, in one flat buffer."""
        if not self.distributed:
            return
        import torch
        import torch.distributed as dist

        grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
        flat = torch.cat([g.reshape(-1) for g in grads])
        dist.all_reduce(flat)
        offset = 0
        for p, g in zip(params, grads, strict=True):
            n = g.numel()
            p.grad = flat[offset : offset + n].view_as(p).clone()
            offset += n

    def sum(self, value: float) -> float:
        """``value`` summed over the ranks."""
        if not self.distributed:
            return value
        import torch
        import torch.distributed as dist

        t = torch.tensor([value], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            t = t.cuda()
        dist.all_reduce(t)
        return float(t.item())

    def broadcast(self, obj: T) -> T:
        """Rank 0's ``obj``, on every rank."""
        if not self.distributed:
            return obj
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, obj: T) -> list[T]:
        """Every rank's ``obj``, in rank order, on every rank."""
        if not self.distributed:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.size
        dist.all_gather_object(out, obj)
        return out


def current(device: str = "cpu") -> World:
    """The world ``torchrun`` started this process in (joined on first call), or a single process."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World()
    import torch.distributed as dist

    try:
        rank, local = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", os.environ["RANK"]))
    except (KeyError, ValueError) as err:
        raise ConfigError(f"WORLD_SIZE={size} but RANK/LOCAL_RANK are not set: start distributed training with "
                          f"torchrun --nproc-per-node N -m optical_ir.distill …") from err
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            import torch

            torch.cuda.set_device(local)
        dist.init_process_group(backend)
    return World(rank, size, local)


def finish() -> None:
    """Leave the process group (after a barrier), if this process joined one: the ranks exit
    together, and none aborts on a peer that has already gone."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    import torch.distributed as dist

    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
