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
from typing import Any

from ..errors import ConfigError
from .losses.base import Features


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

    def __init__(self, encoder: Any, max_length: int, mass: str = "content", top_layers: int | None = None) -> None:
        self.encoder = encoder
        self.max_length = max_length
        self.mass = mass
        prefix = encoder.config.query_prefix
        ids = encoder.tokenizer(prefix.strip(), add_special_tokens=False)["input_ids"] if prefix.strip() else []
        self.n_prefix = len(ids)
        self.top_layers = top_layers
        self.trunk: dict[str, tuple[Any, Any, Any]] = {}

    def layers(self) -> Any:
        """The encoder's transformer layers (a BERT-like ``model.encoder.layer``)."""
        layers = getattr(getattr(self.encoder.model, "encoder", None), "layer", None)
        if layers is None:
            raise ConfigError(f"{self.encoder.name}: train_layers needs a BERT-like model (model.encoder.layer)")
        return layers

    def prepare(self, texts: Sequence[str], batch_size: int = 64) -> None:
        """With ``top_layers``: compute once the frozen trunk's output (the input of the top
        layers) of every distinct text, with its attention and special-token masks."""
        import torch
        from tqdm.auto import tqdm

        if not self.top_layers:
            return
        depth = len(self.layers()) - self.top_layers
        enc = self.encoder
        todo = sorted(set(texts) - set(self.trunk), key=len)
        was_training = enc.model.training
        enc.model.eval()
        with torch.inference_mode():
            for start in tqdm(range(0, len(todo), batch_size), desc="frozen layers", unit="batch", disable=not todo):
                part = todo[start : start + batch_size]
                batch = enc.tokenize(part, "query", self.max_length, special_tokens_mask=True)
                inputs = {k: v for k, v in batch.items() if k in ("input_ids", "attention_mask", "token_type_ids")}
                states = enc.model(**inputs, output_hidden_states=True).hidden_states[depth]
                for i, text in enumerate(part):
                    n = int(batch["attention_mask"][i].sum())
                    self.trunk[text] = (states[i, :n].float().cpu().clone(), batch["attention_mask"][i, :n].cpu(),
                                        batch["special_tokens_mask"][i, :n].cpu())
        enc.model.train(was_training)

    def _top(self, texts: Sequence[str]) -> tuple[Any, dict[str, Any]]:
        """The top layers over the cached trunk outputs: token vectors and the batch's masks."""
        import torch

        items = [self.trunk[t] for t in texts]
        n = max(h.shape[0] for h, _, _ in items)
        hidden = torch.zeros(len(items), n, items[0][0].shape[1])
        mask = torch.zeros(len(items), n, dtype=torch.long)
        special = torch.ones(len(items), n, dtype=torch.long)
        for i, (h, m, sp) in enumerate(items):
            hidden[i, : h.shape[0]], mask[i, : m.shape[0]], special[i, : sp.shape[0]] = h, m, sp
        device = self.encoder.device
        hidden, mask = hidden.to(device), mask.to(device)
        model = self.encoder.model
        create_bidirectional_mask = _bidirectional_mask()
        if create_bidirectional_mask is not None:
            layer_mask = create_bidirectional_mask(config=model.config, inputs_embeds=hidden, attention_mask=mask)
        else:  # transformers 4: the classic additive mask
            layer_mask = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers()[-self.top_layers :]:
            out = layer(hidden, attention_mask=layer_mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden, {"attention_mask": mask, "special_tokens_mask": special.to(device)}

    def run(self, texts: Sequence[str]) -> Features:
        """Token vectors ``(B, T, H)``, the mask of the tokens with mass ``(B, T)``, pooled vectors ``(B, H)``."""
        enc = self.encoder
        if self.top_layers and all(t in self.trunk for t in texts):
            hidden, batch = self._top(texts)
        else:
            batch = enc.tokenize(texts, "query", self.max_length, special_tokens_mask=True)
            hidden = enc.forward(batch)
        if self.mass == "pooled":
            pooled = batch["attention_mask"].clone()
            if enc.config.pooling == "cls":
                pooled[:, 1:] = 0
            return Features(hidden, pooled, enc.pool(hidden, batch["attention_mask"]))
        special = batch["special_tokens_mask"].bool()
        content = batch["attention_mask"].masked_fill(special, 0)
        if self.n_prefix:
            first = special.long().argmin(dim=1)  # first non-special token
            for i in range(content.shape[0]):
                content[i, first[i] : first[i] + self.n_prefix] = 0
        return Features(hidden, content, enc.pool(hidden, batch["attention_mask"]))


def teacher_cache(teacher: TokenSide, english: Sequence[str], batch_size: int) -> dict[str, tuple[Any, Any, Any]]:
    """Teacher token vectors, content mask and sentence vector of each distinct English sentence.

    The teacher is frozen and in eval mode, so each sentence is encoded once, cropped to its
    last token with mass, and kept on the CPU.
    """
    import torch
    from tqdm.auto import tqdm

    distinct = sorted(set(english), key=len)
    cache = {}
    with torch.inference_mode():
        for start in tqdm(range(0, len(distinct), batch_size * 4), desc="teacher", unit="batch"):
            part = distinct[start : start + batch_size * 4]
            hidden, mask, sent = teacher.run(part)
            for i, text in enumerate(part):
                n = int(mask[i].nonzero().max()) + 1 if mask[i].any() else 1
                cache[text] = (hidden[i, :n].float().cpu().clone(), mask[i, :n].cpu().clone(),
                               sent[i].float().cpu().clone())
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
