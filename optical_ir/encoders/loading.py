"""Load an encoder by name, with configuration values given on the command line."""

from __future__ import annotations

from .config import EncoderConfig, EncoderConfigError
from .dense import DenseEncoder
from .embedded import saved_config


def load_encoder(model: str, *, pooling: str | None = None, query_prefix: str | None = None,
                 passage_prefix: str | None = None, normalize: bool | None = None,
                 max_length: int | None = None, device: str = "cpu") -> DenseEncoder:
    """Load a model; configuration values, when given, override or supply its saved config.

    Raises
    ------
    EncoderConfigError
        For a model without ``optical_ir-encoder.json`` and without ``pooling``.
    """
    flags = {k: v for k, v in dict(pooling=pooling, query_prefix=query_prefix, passage_prefix=passage_prefix,
                                   normalize=normalize, max_length=max_length).items() if v is not None}
    if not flags:
        return DenseEncoder(model, device=device)
    base = saved_config(model)
    if base is None and "pooling" not in flags:
        raise EncoderConfigError(f"{model} has no optical_ir-encoder.json: give at least --pooling mean|cls")
    config = base.with_(**flags) if base else EncoderConfig(base_model=str(model), **flags)  # type: ignore[arg-type]
    return DenseEncoder(model, config, device)
