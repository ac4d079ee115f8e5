"""A dense text encoder: a ``transformers`` model plus its explicit :class:`EncoderConfig`.

For a text :math:`x` with token vectors :math:`h_1, \\dots, h_n` (attention mask
:math:`m_i`), the encoder returns

.. math:: e(x) = \\frac{v}{\\lVert v \\rVert_2}, \\qquad
          v = \\frac{\\sum_i m_i h_i}{\\sum_i m_i} \\ (\\text{mean}) \\quad\\text{or}\\quad v = h_1 \\ (\\text{cls}),

without the division by the norm when ``normalize`` is off. The token vectors themselves
(:meth:`DenseEncoder.token_vectors`) are what OPTICAL aligns by optimal transport, and
their content tokens (:func:`content_tokens`, :meth:`DenseEncoder.encode_tokens`) are what
late interaction scores (:mod:`optical_ir.retrieval.late`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import OpticalIRError, check_device
from .config import EncoderConfig, EncoderConfigError, Kind, has_config
from .embedded import resolve

PROJECTION_FILE = "optical_ir-projection.safetensors"


class EmptyQueryError(OpticalIRError, ValueError):
    """A query with no text."""


def content_tokens(attention_mask: Any, special_tokens_mask: Any, n_prefix: int) -> Any:
    """The mask ``(B, T)`` of a batch's content tokens: real tokens that are neither special
    (CLS, SEP, padding) nor among the ``n_prefix`` tokens of the prefix (``query:``,
    ``passage:``), which follow the first special token.

    The one rule for which tokens carry transport mass in distillation
    (:mod:`optical_ir.distillation.features`) and which tokens a late-interaction index
    holds, so that a student is scored on the tokens it was trained on.
    """
    special = special_tokens_mask.bool()
    content = attention_mask.masked_fill(special, 0)
    if n_prefix:
        first = special.long().argmin(dim=1)  # the first non-special token
        for i in range(content.shape[0]):
            content[i, first[i] : first[i] + n_prefix] = 0
    return content


_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth", ".msgpack", ".h5", ".onnx")


def _stamp(path: str) -> tuple[tuple[str, int, int], ...]:
    """Name, size and modification time of a model directory's files other than weights (what
    its tokenizer is read from); empty for a Hugging Face id."""
    if not Path(path).is_dir():
        return ()
    return tuple(sorted((f.name, st.st_size, st.st_mtime_ns) for f in Path(path).iterdir()
                        if f.is_file() and not f.name.endswith(_WEIGHTS) for st in (f.stat(),)))


@functools.lru_cache(maxsize=8)
def _tokenizer(path: str, stamp: tuple[tuple[str, int, int], ...]) -> Any:
    """The tokenizer of ``path``, read once per process while its files are unchanged
    (``stamp``). Reading the 17 MB ``tokenizer.json`` of multilingual-e5-small takes about a
    second, and a reproduction builds an encoder of the same directory in many of its steps;
    the encoders only call the tokenizer, so they can share it."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(path)


class DenseEncoder:
    """Encode queries and passages into vectors, batched, on ``cpu`` or ``cuda``.

    Parameters
    ----------
    model
        An embedded model name (``multilingual-e5-small``, ``all-MiniLM-L6-v2``), a model
        directory, or a Hugging Face id.
    config
        The encoder configuration. Default: the directory's ``optical_ir-encoder.json``;
        a directory or id without one needs it given explicitly.
    device
        ``cpu``, ``cuda`` or ``cuda:N``.
    """

    def __init__(self, model: str | os.PathLike[str], config: EncoderConfig | None = None,
                 device: str = "cpu") -> None:
        import torch
        from transformers import AutoModel

        self.name = str(model)
        self.path = resolve(model)
        local = Path(self.path).is_dir()
        if config is None:
            if not local:
                raise EncoderConfigError(
                    f"{self.name}: give the encoder configuration (pooling, prefixes, normalisation) for a "
                    f"Hugging Face model, e.g. --pooling mean --query-prefix 'query: ' --passage-prefix 'passage: '; "
                    f"nothing is guessed from a model's name")
            config = EncoderConfig.load(self.path)
        elif local and not has_config(self.path) and not Path(self.path, "config.json").is_file():
            raise EncoderConfigError(f"{self.path} is not a model directory (no config.json)")
        check_device(device)
        self.device = torch.device(device)
        self.tokenizer = _tokenizer(self.path, _stamp(self.path))
        self.model = AutoModel.from_pretrained(self.path).to(self.device).eval()
        hidden = int(self.model.config.hidden_size)
        self.projection: Any = None
        if config.projection is not None:
            self.projection = self._load_projection(hidden, config.projection)
        out_dim = config.projection or hidden
        if config.dim is not None and config.dim != out_dim:
            raise EncoderConfigError(
                f"{self.path}: its {Path(self.path) / 'optical_ir-encoder.json'} says dim {config.dim}, "
                f"but the model's vectors have {out_dim}; the config belongs to another model")
        self.config = config if config.dim is not None else config.with_(dim=out_dim)

    def _load_projection(self, hidden: int, dim: int) -> Any:
        import torch
        from safetensors.torch import load_file

        path = Path(self.path) / PROJECTION_FILE
        if not path.is_file():
            raise EncoderConfigError(f"{self.path}: the encoder config has a projection to {dim} dimensions, but "
                                     f"{PROJECTION_FILE} is missing; copy the whole model directory")
        layer = torch.nn.Linear(hidden, dim).to(self.device)
        layer.load_state_dict(load_file(str(path), device=str(self.device)))
        return layer.eval()

    def fingerprint(self) -> tuple[Any, ...]:
        """What the encoder's vectors depend on: its model, configuration, device, and a checksum
        of its weights (so an encoder changed in memory, e.g. a student in training, never
        matches the fingerprint it had)."""
        import torch

        params = list(self.model.parameters())
        if self.projection is not None:
            params += list(self.projection.parameters())
        with torch.no_grad():
            checksum = tuple(round(float(p.sum(dtype=torch.float64)), 6) for p in params)
        return self.path, self.config, str(self.device), params[0].dtype, checksum

    def add_projection(self, dim: int, seed: int = 13) -> None:
        """Give the encoder a new, trainable linear map of its token vectors to ``dim`` dimensions
        (seeded initialisation; :meth:`save` writes it)."""
        import torch

        torch.manual_seed(seed)
        self.projection = torch.nn.Linear(int(self.model.config.hidden_size), dim).to(self.device)
        self.config = self.config.with_(projection=dim, dim=dim)

    def project(self, hidden: Any) -> Any:
        """The token vectors through the projection, if the encoder has one."""
        return hidden if self.projection is None else self.projection(hidden)

    @property
    def dim(self) -> int:
        assert self.config.dim is not None
        return self.config.dim

    def __repr__(self) -> str:
        return f"DenseEncoder({self.name!r}, {self.config}, device={self.device})"

    # -- tensors (differentiable; used for training) ------------------------------------------
    def tokenize(self, texts: Sequence[str], kind: Kind, max_length: int | None = None,
                 special_tokens_mask: bool = False) -> Any:
        """The prefixed texts as a padded batch on the device (``max_length``: default the config's)."""
        prefix = self.config.prefix(kind)
        batch = self.tokenizer([prefix + t for t in texts], padding=True, truncation=True,
                               max_length=max_length or self.config.max_length, return_tensors="pt",
                               return_special_tokens_mask=special_tokens_mask)
        return batch.to(self.device)

    def forward(self, batch: Any) -> Any:
        """Last-layer token vectors ``(B, T, H)`` of a :meth:`tokenize` batch."""
        inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
        return self.project(self.model(**inputs).last_hidden_state)

    def token_vectors(self, texts: Sequence[str], kind: Kind) -> tuple[Any, Any, Any]:
        """Last-layer token vectors ``(B, T, H)``, attention mask ``(B, T)`` and input ids."""
        batch = self.tokenize(texts, kind)
        return self.forward(batch), batch["attention_mask"], batch["input_ids"]

    def prefix_length(self, kind: Kind) -> int:
        """Tokens of the ``kind``'s prefix (without special tokens), which are not content."""
        prefix = self.config.prefix(kind).strip()
        return len(self.tokenizer(prefix, add_special_tokens=False)["input_ids"]) if prefix else 0

    def pool(self, hidden: Any, mask: Any) -> Any:
        import torch

        if self.config.pooling == "cls":
            vec = hidden[:, 0]
        else:
            m = mask.unsqueeze(-1).to(hidden.dtype)
            vec = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(vec, dim=-1) if self.config.normalize else vec

    def embed(self, texts: Sequence[str], kind: Kind) -> Any:
        """Pooled vectors as a tensor ``(B, dim)`` (keeps the autograd graph)."""
        hidden, mask, _ = self.token_vectors(texts, kind)
        return self.pool(hidden, mask)

    # -- arrays (inference) ----------------------------------------------------------------------
    def encode(self, texts: Sequence[str], kind: Kind = "query", batch_size: int = 64,
               progress: bool = False) -> np.ndarray:
        """Vectors ``(len(texts), dim)`` as float32, in the order of ``texts``.

        Texts are batched by length (less padding); a query that is empty or only white
        space raises :class:`EmptyQueryError`.
        """
        if isinstance(texts, str):
            raise TypeError("encode takes a list of texts; use encode([text])[0] for one")
        if kind == "query":
            for i, t in enumerate(texts):
                if not t or not t.strip():
                    raise EmptyQueryError(f"query {i} is empty; an empty query has no vector "
                                          f"(drop it, or give it text)")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for idx in self._length_batches(texts, batch_size, f"encoding {kind}s", kind, progress):
            out[idx] = self.embed([texts[i] for i in idx], kind).float().cpu().numpy()
        return out

    @staticmethod
    def _length_batches(texts: Sequence[str], batch_size: int, desc: str, unit: str,
                        progress: bool) -> Iterator[list[int]]:
        """Positions of ``texts`` in batches of similar length (less padding), in inference mode,
        with a progress bar."""
        import torch
        from tqdm.auto import tqdm

        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode(), tqdm(total=len(texts), desc=desc, unit=unit, disable=not progress) as bar:
            for start in range(0, len(order), batch_size):
                idx = order[start : start + batch_size]
                yield idx
                bar.update(len(idx))

    def encode_tokens(self, texts: Sequence[str], kind: Kind = "passage", batch_size: int = 64,
                      progress: bool = False) -> tuple[list[np.ndarray], np.ndarray]:
        r"""Each text's content-token vectors, L2-normalised, and its pooled vector.

        Returns ``(tokens, pooled)``: ``tokens[i]`` is a float32 array ``(n_i, dim)`` of the
        content tokens (:func:`content_tokens`) of ``texts[i]``, each scaled to unit length
        (:math:`\hat h_j = h_j / \lVert h_j \rVert_2`), and ``pooled`` is :meth:`encode`'s
        ``(len(texts), dim)``. Texts are batched by length, as :meth:`encode` batches them.
        """
        import torch

        if isinstance(texts, str):
            raise TypeError("encode_tokens takes a list of texts")
        n_prefix = self.prefix_length(kind)
        tokens: list[np.ndarray] = [np.zeros((0, self.dim), dtype=np.float32)] * len(texts)
        pooled = np.empty((len(texts), self.dim), dtype=np.float32)
        for idx in self._length_batches(texts, batch_size, f"encoding {kind} tokens", kind, progress):
            batch = self.tokenize([texts[i] for i in idx], kind, special_tokens_mask=True)
            hidden = self.forward(batch)
            pooled[idx] = self.pool(hidden, batch["attention_mask"]).float().cpu().numpy()
            keep = content_tokens(batch["attention_mask"], batch["special_tokens_mask"], n_prefix).bool().cpu().numpy()
            unit = torch.nn.functional.normalize(hidden.float(), dim=-1).cpu().numpy()
            for row, i in enumerate(idx):
                tokens[i] = unit[row][keep[row]]
        return tokens, pooled

    def encode_queries(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return self.encode(texts, "query", batch_size, progress)

    def encode_passages(self, texts: Sequence[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        return self.encode(texts, "passage", batch_size, progress)

    def save(self, target: str | os.PathLike[str], **config_changes: Any) -> Path:
        """Write weights, tokenizer and encoder config (a loadable model directory)."""
        target = Path(target)
        target.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(target)
        self.tokenizer.save_pretrained(target)
        if self.projection is not None:
            from safetensors.torch import save_file

            save_file({k: v.detach().contiguous().cpu() for k, v in self.projection.state_dict().items()},
                      str(target / PROJECTION_FILE))
        self.config.with_(**config_changes).save(target)
        return target
