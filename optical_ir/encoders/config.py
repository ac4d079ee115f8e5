"""The explicit configuration of a dense encoder, saved beside its weights.

Nothing about an encoder is guessed from its name: how token vectors become one vector
(pooling), the text put before queries and passages (e5 needs ``"query: "`` and
``"passage: "``), L2 normalisation and the maximum length are written in
``optical_ir-encoder.json`` in every model directory and checkpoint the toolkit makes,
and read back when the directory is loaded.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal

from ..errors import ConfigError

CONFIG_FILE = "optical_ir-encoder.json"
POOLINGS = ("mean", "cls")
Pooling = Literal["mean", "cls"]
Kind = Literal["query", "passage"]


class EncoderConfigError(ConfigError):
    """A model directory has no encoder configuration, or an invalid one."""


@dataclass(frozen=True)
class EncoderConfig:
    """How a transformer turns a text into one vector.

    Parameters
    ----------
    pooling
        ``"mean"``: average of the token vectors under the attention mask;
        ``"cls"``: the first token's vector.
    query_prefix, passage_prefix
        Text put in front of a query or a passage before tokenization, verbatim
        (``"query: "`` for e5 models; empty for most others).
    normalize
        L2-normalise the pooled vector (inner product = cosine).
    max_length
        Tokens kept per text, special tokens included.
    dim
        Dimension of the output vector (checked against indexes and checkpoints).
    base_model
        What the weights are: an embedded model's name, a Hugging Face id, or the base
        model a student was distilled from. Checkpoints of another base are refused.
    projection
        A learned linear map :math:`W h + b` of every token vector to this many dimensions
        (a student narrower or wider than its teacher); its weights are
        ``optical_ir-projection.safetensors`` in the model directory.
    """

    pooling: Pooling = "mean"
    query_prefix: str = ""
    passage_prefix: str = ""
    normalize: bool = True
    max_length: int = 512
    dim: int | None = None
    base_model: str = ""
    projection: int | None = None

    def __post_init__(self) -> None:
        if self.pooling not in POOLINGS:
            raise EncoderConfigError(f"pooling must be one of {', '.join(POOLINGS)}, not {self.pooling!r}")
        if not isinstance(self.max_length, int) or self.max_length < 2:
            raise EncoderConfigError(f"max_length must be an integer ≥ 2, not {self.max_length!r}")
        if self.dim is not None and (not isinstance(self.dim, int) or self.dim < 1):
            raise EncoderConfigError(f"dim must be a positive integer, not {self.dim!r}")
        if self.projection is not None and (not isinstance(self.projection, int) or self.projection < 1):
            raise EncoderConfigError(f"projection must be a positive integer, not {self.projection!r}")

    def prefix(self, kind: Kind) -> str:
        if kind not in ("query", "passage"):
            raise ValueError(f"kind must be 'query' or 'passage', not {kind!r}")
        return self.query_prefix if kind == "query" else self.passage_prefix

    def with_(self, **changes: Any) -> EncoderConfig:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["projection"] is None:
            del d["projection"]  # the configs written before projections existed stay the same
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> EncoderConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known - {"format"})
        if unknown:
            raise EncoderConfigError(f"{source}: unknown encoder config keys {unknown}; known: {sorted(known)}")
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, model_dir: str | os.PathLike[str]) -> Path:
        path = Path(model_dir) / CONFIG_FILE
        tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"format": 1, **self.to_dict()}, indent=2, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, model_dir: str | os.PathLike[str]) -> EncoderConfig:
        """Read ``optical_ir-encoder.json`` from a model directory.

        Raises
        ------
        EncoderConfigError
            If the directory has no such file (with how to make one) or it is invalid.
        """
        path = Path(model_dir) / CONFIG_FILE
        if not path.is_file():
            raise EncoderConfigError(
                f"{model_dir} has no {CONFIG_FILE}: the toolkit does not guess pooling, prefixes or "
                f"normalisation from a model's name. Pass them with the model (--pooling mean|cls "
                f"[--query-prefix 'query: '] [--passage-prefix 'passage: '] [--no-normalize] [--max-length N]); "
                f"python -m optical_ir.index --encoder {model_dir} with those flags saves them with its index, and "
                f"EncoderConfig(pooling=...).save('{model_dir}') writes the file into the model directory."
            )
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise EncoderConfigError(f"{path} is not valid JSON: {err}") from err
        if not isinstance(data, dict):
            raise EncoderConfigError(f"{path}: expected a JSON object")
        return cls.from_dict(data, str(path))


def has_config(model_dir: str | os.PathLike[str]) -> bool:
    return (Path(model_dir) / CONFIG_FILE).is_file()
