"""What the losses see: token vectors with the mask of the tokens that carry mass, and sentence vectors.

:class:`TokenSide` runs an encoder on a batch of sentences (its query side: the student
encodes queries, and the teacher's vectors of the English side use its query prefix too)
and says which tokens carry transport mass: the content tokens (no special, padding or
prefix tokens) or, with ``mass="pooled"``, the tokens the encoder's pooling reads. With
``top_layers`` it caches the output of the frozen lower layers of every training sentence
once (:meth:`TokenSide.prepare`), so a step runs only the top layers; the cached path gives
the full model's token vectors exactly.

:func:`teacher_cache` encodes each distinct English sentence with the frozen teacher once.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, NamedTuple

from ..encoders.dense import content_tokens
from ..errors import ConfigError
from .bfloat16 import arithmetic
from .losses.base import Features


class Inputs(NamedTuple):
    """What the trained part of an encoder reads (:meth:`TokenSide.inputs`)."""

    vectors: Any
    """``(B, T, H)`` word embeddings, or the frozen layers' output (``trunk``)."""
    attention_mask: Any
    special_tokens_mask: Any
    token_type_ids: Any
    trunk: bool
    input_ids: Any = None
    """The token ids (without ``trunk``): the unperturbed forward pass reads them, as inference does."""


def stored(kind: str, key: Sequence[object], compute: Any) -> Any:
    """``compute()``, kept in ``$OPTICAL_IR_CACHE/features/<kind>-<md5 of key>.pt``.

    For what every student of a language computes the same: the frozen layers' outputs of
    its sentences, the teacher's vectors of the English side and of the passages. The key
    holds the model's directory, the settings and every text, so a hit is exactly what
    ``compute()`` would return (the same computation on the same inputs), and a rerun is as
    deterministic as the first run. Written atomically: two processes that compute the same
    entry write the same bytes.
    """
    import hashlib
    import pickle

    import torch

    from ..files import atomic_write
    from ..mirror import cache_dir

    digest = hashlib.md5("\x1f".join(map(str, key)).encode("utf-8")).hexdigest()
    path = cache_dir() / "features" / f"{kind}-{digest}.pt"
    if path.is_file():
        try:
            return torch.load(path, weights_only=True)
        except (OSError, RuntimeError, EOFError, pickle.UnpicklingError):  # a damaged entry: compute it again
            pass
    value = compute()
    with atomic_write(path, "wb") as f:
        torch.save(value, f)
    return value


def fingerprint(model_path: str) -> str:
    """The model directory with its weights file's size and time (an overwritten model is another key)."""
    from pathlib import Path

    for name in ("model.safetensors", "pytorch_model.bin"):
        f = Path(model_path, name)
        if f.is_file():
            st = f.stat()
            return f"{model_path}:{st.st_size}:{st.st_mtime_ns}"
    return str(model_path)


CHUNK_ROWS = {"fp32": 4, "bf16": 16}
"""Rows of a batch that the top layers run at once (:meth:`TokenSide._top`), by precision:
bfloat16 matrix products are cheap enough that larger groups (fewer, bigger products) pay
for their padding (``benchmarks/precision.py`` measures the two modes)."""


@cache
def _bidirectional_mask() -> Any:
    """transformers 5's ``create_bidirectional_mask`` (the mask its attention implementation
    expects; public since 5.0), or ``None`` under transformers 4."""
    try:
        from transformers.masking_utils import create_bidirectional_mask
    except ImportError:
        return None
    return create_bidirectional_mask


class TokenSide:
    """Tokenization with the mask of the tokens that carry transport mass.

    ``content``: no special, padding or prefix tokens. ``pooled``: the tokens the encoder's
    pooling reads (every real token for mean pooling, the first for CLS pooling).
    """

    def __init__(self, encoder: Any, max_length: int, mass: str = "content", top_layers: int | None = None,
                 precision: str = "fp32") -> None:
        self.encoder = encoder
        self.precision = precision
        self.max_length = max_length
        self.mass = mass
        self.n_prefix = encoder.prefix_length("query")
        self.top_layers = top_layers
        self.trunk: dict[str, tuple[Any, Any, Any]] = {}

    def layers(self) -> Any:
        """The encoder's transformer layers (a BERT-like ``model.encoder.layer``)."""
        layers = getattr(getattr(self.encoder.model, "encoder", None), "layer", None)
        if layers is None:
            raise ConfigError(f"{self.encoder.name}: train_layers needs a BERT-like model (model.encoder.layer)")
        return layers

    def train_only_top(self) -> list[Any]:
        """Freeze the encoder but its top ``top_layers`` layers; return their parameters.

        Raises
        ------
        ConfigError
            If the encoder has fewer layers than ``top_layers``.
        """
        layers = self.layers()
        if self.top_layers is None or self.top_layers > len(layers):
            raise ConfigError(f"train_layers {self.top_layers}: {self.encoder.name} has {len(layers)} layers")
        self.encoder.model.requires_grad_(False)
        params: list[Any] = []
        for layer in layers[-self.top_layers :]:
            layer.requires_grad_(True)
            params += list(layer.parameters())
        return params

    def prepare(self, texts: Sequence[str], batch_size: int = 64) -> None:
        """With ``top_layers``: compute once the frozen trunk's output (the input of the top
        layers) of every distinct text, with its attention and special-token masks."""
        import torch
        from tqdm.auto import tqdm

        if not self.top_layers:
            return
        depth = len(self.layers()) - self.top_layers
        todo = sorted(set(texts) - set(self.trunk), key=len)
        if not todo:
            return
        enc = self.encoder

        def compute() -> dict[str, tuple[Any, Any, Any]]:
            out = {}
            was_training = enc.model.training
            enc.model.eval()
            with torch.inference_mode():
                for start in tqdm(range(0, len(todo), batch_size), desc="frozen layers", unit="batch"):
                    part = todo[start : start + batch_size]
                    batch = enc.tokenize(part, "query", self.max_length, special_tokens_mask=True)
                    states = self._bottom(batch, depth)
                    for i, text in enumerate(part):
                        n = int(batch["attention_mask"][i].sum())
                        out[text] = (states[i, :n].float().cpu().clone(), batch["attention_mask"][i, :n].cpu(),
                                     batch["special_tokens_mask"][i, :n].cpu())
            enc.model.train(was_training)
            return out

        key = [fingerprint(enc.path), enc.device, depth, self.max_length, batch_size, *todo]
        self.trunk.update(stored("trunk", key, compute))

    def inputs(self, texts: Sequence[str]) -> Inputs:
        """The input vectors of the trained part of the encoder and the batch's masks.

        With ``top_layers`` (and every text prepared): the cached output of the frozen
        layers; otherwise the word embeddings of the tokens. An adversary perturbs these
        (:mod:`optical_ir.distillation.adversaries`); :meth:`encode` runs the rest.
        """
        import torch

        if self.top_layers and all(t in self.trunk for t in texts):
            items = [self.trunk[t] for t in texts]
            n = max(h.shape[0] for h, _, _ in items)
            hidden = torch.zeros(len(items), n, items[0][0].shape[1])
            mask = torch.zeros(len(items), n, dtype=torch.long)
            special = torch.ones(len(items), n, dtype=torch.long)
            for i, (h, m, sp) in enumerate(items):
                hidden[i, : h.shape[0]], mask[i, : m.shape[0]], special[i, : sp.shape[0]] = h, m, sp
            device = self.encoder.device
            return Inputs(hidden.to(device), mask.to(device), special.to(device), None, True)
        batch = self.encoder.tokenize(texts, "query", self.max_length, special_tokens_mask=True)
        embeds = self.encoder.model.get_input_embeddings()(batch["input_ids"])
        return Inputs(embeds, batch["attention_mask"], batch["special_tokens_mask"], batch.get("token_type_ids"), False,
                      batch["input_ids"])

    def _top(self, hidden: Any, mask: Any) -> Any:
        """The top layers over the frozen trunk's output ``hidden``, by groups of similar length.

        The rows are sorted by length and run :data:`CHUNK_ROWS` at a time (by precision), each group cut
        to its longest row, so that a batch of short sentences is not padded to the
        longest one (a batch of NTREX sentences is padded to 1.7 × its tokens). A token
        attends only to its own sentence's tokens, so a real token's output is the one the
        whole batch would give (up to float rounding). Padding holds no mass and no pooling
        weight, so no loss reads it.
        """
        import torch

        lengths = mask.sum(1)
        rows = CHUNK_ROWS[self.precision]
        if hidden.shape[0] <= rows or int(lengths.min()) == hidden.shape[1]:
            return self._layers(hidden, mask)
        order = torch.argsort(lengths, stable=True)
        parts = []
        for group in order.split(rows):
            n = int(lengths[group].max())
            out = self._layers(hidden[group, :n], mask[group, :n])
            parts.append(torch.nn.functional.pad(out, (0, 0, 0, hidden.shape[1] - n)))
        return torch.cat(parts)[torch.argsort(order)]

    def _bottom(self, batch: Any, depth: int) -> Any:
        """The output of the first ``depth`` layers (the model's ``hidden_states[depth]``,
        without running the layers above)."""
        model = self.encoder.model
        extra = {"token_type_ids": batch["token_type_ids"]} if "token_type_ids" in batch else {}
        hidden = model.embeddings(input_ids=batch["input_ids"], **extra)
        return self._layers(hidden, batch["attention_mask"], self.layers()[:depth])

    def _layers(self, hidden: Any, mask: Any, layers: Any = None) -> Any:
        """``layers`` (default: the top ones) over ``hidden`` as one batch."""
        import torch

        model = self.encoder.model
        create_bidirectional_mask = _bidirectional_mask()
        if create_bidirectional_mask is not None:
            layer_mask = create_bidirectional_mask(config=model.config, inputs_embeds=hidden, attention_mask=mask)
        else:  # transformers 4: the classic additive mask
            layer_mask = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers()[-self.top_layers :] if layers is None else layers:  # type: ignore[operator]
            out = layer(hidden, attention_mask=layer_mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden

    def encode(self, inputs: Inputs, delta: Any = None) -> Features:
        """Token vectors ``(B, T, H)``, the mask of the tokens with mass ``(B, T)`` and pooled vectors
        ``(B, H)`` of :meth:`inputs` (plus the perturbation ``delta``, same shape, if given)."""
        import torch

        enc = self.encoder
        x = inputs.vectors if delta is None else inputs.vectors + delta
        extra = {} if inputs.token_type_ids is None else {"token_type_ids": inputs.token_type_ids}
        half = self.precision == "bf16"
        with torch.autocast(enc.device.type, dtype=torch.bfloat16, enabled=half), arithmetic(enc.device.type, half):
            if inputs.trunk:
                hidden = enc.project(self._top(x, inputs.attention_mask))
            else:
                given = {"input_ids": inputs.input_ids} if delta is None else {"inputs_embeds": x}
                out = enc.model(**given, attention_mask=inputs.attention_mask, **extra)
                hidden = enc.project(out.last_hidden_state)
        hidden = hidden.float()
        mask = inputs.attention_mask
        if self.mass == "pooled":
            pooled = mask.clone()
            if enc.config.pooling == "cls":
                pooled[:, 1:] = 0
            return Features(hidden, pooled, enc.pool(hidden, mask))
        content = content_tokens(mask, inputs.special_tokens_mask, self.n_prefix)
        return Features(hidden, content, enc.pool(hidden, mask))

    def run(self, texts: Sequence[str]) -> Features:
        """:meth:`encode` of :meth:`inputs`: the features of ``texts``."""
        return self.encode(self.inputs(texts))


def teacher_cache(teacher: TokenSide, english: Sequence[str], batch_size: int,
                  world: Any = None) -> dict[str, tuple[Any, Any, Any]]:
    """Teacher token vectors, content mask and sentence vector of each distinct English sentence.

    The teacher is frozen and in eval mode, so each sentence is encoded once, cropped to its
    last token with mass, and kept on the CPU. With a distributed ``world``
    (:mod:`.distributed`) the sentences are sharded by rank: each rank encodes its share
    into the cache on disk, and, after a barrier, reads the others' (a rank that cannot see
    a share, on another node without a shared cache, encodes it itself).
    """
    import torch
    from tqdm.auto import tqdm

    distinct = sorted(set(english), key=len)

    def compute(texts: Sequence[str]) -> dict[str, tuple[Any, Any, Any]]:
        out = {}
        with torch.inference_mode():
            for start in tqdm(range(0, len(texts), batch_size * 4), desc="teacher", unit="batch"):
                part = texts[start : start + batch_size * 4]
                hidden, mask, sent = teacher.run(part)
                for i, text in enumerate(part):
                    n = int(mask[i].nonzero().max()) + 1 if mask[i].any() else 1
                    out[text] = (hidden[i, :n].float().cpu().clone(), mask[i, :n].cpu().clone(),
                                 sent[i].float().cpu().clone())
        return out

    key = [fingerprint(teacher.encoder.path), teacher.encoder.device, teacher.max_length, teacher.mass, batch_size]
    if world is None or not world.distributed:
        return stored("teacher", [*key, *distinct], lambda: compute(distinct))

    def share(rank: int) -> dict[str, tuple[Any, Any, Any]]:
        texts = distinct[rank :: world.size]
        return stored("teacher", [*key, f"shard {rank} of {world.size}", *texts], lambda: compute(texts))

    share(world.rank)
    world.barrier()
    cache: dict[str, tuple[Any, Any, Any]] = {}
    for rank in range(world.size):
        cache.update(share(rank))
    return cache


def stack(items: Sequence[tuple[Any, Any, Any]], device: Any) -> Features:
    """Cached items as one padded batch on ``device``."""
    import torch

    n = max(t.shape[0] for t, _, _ in items)
    dim = items[0][0].shape[1]
    tok = torch.zeros(len(items), n, dim)
    mask = torch.zeros(len(items), n, dtype=torch.long)
    for i, (t, m, _) in enumerate(items):
        tok[i, : t.shape[0]] = t
        mask[i, : m.shape[0]] = m
    sent = torch.stack([s for _, _, s in items])
    return Features(tok.to(device), mask.to(device), sent.to(device))
