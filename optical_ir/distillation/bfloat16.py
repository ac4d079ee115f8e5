"""bfloat16 products on any CPU: its bfloat16 units where it has them, float32 arithmetic where not.

``--precision bf16`` runs the student's trained layers under ``torch.autocast`` in bfloat16.
A matrix product there takes bfloat16 operands, accumulates in float32 and rounds its
result to bfloat16:

.. math::

    C = \\operatorname{bf16}\\Big(\\sum_k \\operatorname{bf16}(A_{ik})\\,\\operatorname{bf16}(B_{kj})\\Big)

On a CPU with bfloat16 matrix units (Intel AMX, AVX-512 BF16; :func:`cpu_bf16_units`)
oneDNN does this in hardware. On one without them (a Zen 3: AVX2 only) torch 2.13's
bfloat16 kernels took 57.9 s a training step of the CPU mode against 1.73 s in float32
(``benchmarks/precision.py``), which puts the reproduction's ``-cpu`` students out of reach
there. ``Float32Products`` computes the same thing from float32 arithmetic instead: the
product of two bfloat16 numbers (8 significant bits each) is exact in float32 (24 bits), so
rounding the operands to bfloat16, multiplying and accumulating in float32 and rounding the
result gives the equation above. Only the order of the float32 additions differs from
oneDNN's, as it differs between AMX and AVX-512 BF16 themselves: on random operands a linear
layer agrees with torch's bfloat16 kernel on 99.99 % of its outputs and is one bfloat16 unit
off on the rest. Attention (``scaled_dot_product_attention``) runs in float32 on
bfloat16-rounded queries, keys and values and is rounded at its output; torch's fused
bfloat16 attention kernel rounds inside as well, and about a third of its outputs are one
bfloat16 unit apart from these. Either way the two are bfloat16 arithmetic of the same
precision, a different rounding of the same computation. A step took 2.59 s, 1.5 × the
float32 step and 22 × faster than torch's kernels (docs/distillation.md).

Written here because neither torch nor oneDNN offers this fallback; it is a
``TorchFunctionMode`` (torch's own hook) over the functions autocast runs in bfloat16 that
a transformer calls, not a patch of the model.
"""

from __future__ import annotations

import contextlib
from functools import cache
from pathlib import Path
from typing import Any

BF16_UNITS = ("amx_bf16", "avx512_bf16")
"""CPU flags of bfloat16 matrix units (Intel AMX, AVX-512 BF16) in ``/proc/cpuinfo``."""


@cache
def cpu_bf16_units(cpuinfo: str = "/proc/cpuinfo") -> tuple[str, ...] | None:
    """The bfloat16 matrix units of this CPU (:data:`BF16_UNITS` among its flags).

    Returns
    -------
    tuple of str or None
        The flags present (empty: torch's bfloat16 kernels are many times slower than
        float32 here, and :func:`arithmetic` uses ``Float32Products``), or ``None``
        where ``cpuinfo`` is not readable (not Linux).
    """
    path = Path(cpuinfo)
    if not path.is_file():
        return None
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            flags = set(line.split(":", 1)[1].split())
            return tuple(f for f in BF16_UNITS if f in flags)
    return None


def emulated(device_type: str) -> bool:
    """Whether bfloat16 products on ``device_type`` run in float32 arithmetic: on a
    CPU known to have no bfloat16 units (a GPU, or a CPU with them or of unknown flags, uses
    torch's kernels)."""
    return device_type == "cpu" and cpu_bf16_units() == ()


@cache
def _products_mode() -> type:
    import torch
    from torch.overrides import TorchFunctionMode
    from torch.utils._pytree import tree_map

    functional = torch.nn.functional
    products = {functional.linear, functional.scaled_dot_product_attention, torch.matmul, torch.Tensor.matmul,
                torch.Tensor.__matmul__, torch.mm, torch.bmm, torch.addmm, torch.baddbmm}

    def rounded(value: Any) -> Any:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            return value.to(torch.bfloat16).float()
        return value

    class Float32Products(TorchFunctionMode):
        """The matrix products autocast would run in bfloat16, in float32 arithmetic on
        bfloat16-rounded operands, the result rounded to bfloat16 (the module's equation).

        Active only while CPU autocast is on; every other function runs as it is. Gradients
        flow through the roundings (each rounds the gradient that passes it, as autocast's
        casts do).
        """

        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            if func not in products or not torch.is_autocast_enabled("cpu"):
                return func(*args, **kwargs)
            with torch.autocast("cpu", enabled=False):
                out = func(*tree_map(rounded, args), **tree_map(rounded, kwargs))
            return out.to(torch.bfloat16)

    return Float32Products


def arithmetic(device_type: str, enabled: bool = True) -> contextlib.AbstractContextManager[Any]:
    """The context that runs bfloat16 autocast's products fast on ``device_type``.

    Enter it inside ``torch.autocast(device_type, dtype=torch.bfloat16)``. Where
    :func:`emulated`, it is ``Float32Products`` (the module's equation in float32
    arithmetic); elsewhere (and when not ``enabled``) it does nothing and torch's bfloat16
    kernels run.
    """
    if enabled and emulated(device_type):
        return _products_mode()()
    return contextlib.nullcontext()
