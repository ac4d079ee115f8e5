r"""Distil a multilingual student *query* encoder from an English teacher, from bitext alone.

For a pair (sentence :math:`s` in language X, its English translation :math:`e`), the
teacher is frozen and the student learns to put :math:`s` where the teacher puts :math:`e`.
Methods (one training loop, the loss differs):

``optical``
    OPTICAL (Huang, Yu, Allan, WSDM 2023): the optimal-transport token alignment of
    :mod:`optical_ir.ot` between the student's token vectors of :math:`s` and the teacher's
    of :math:`e`, :math:`\mathcal{L} = \langle T^\star, C \rangle_F`, plus optionally
    ``sentence_weight`` × the sentence-level term below.
``mse``
    Sentence-level distillation (Reimers and Gurevych, EMNLP 2020):
    :math:`\lVert f_S(s) - f_T(e) \rVert^2 + \lVert f_S(e) - f_T(e) \rVert^2` on pooled vectors.
``token-uniform``, ``token-position``
    Token-level distillation *without* OT (the ablation): the same :math:`\langle T, C\rangle_F`
    with a fixed plan — uniform, :math:`T = a b^\top`, or position-based, each source token
    sending its mass to the target tokens at the same relative position
    (:math:`T_{ij} \propto a_i \exp(-(r_i - r_j)^2 / \tau)`, :math:`\tau = 0.01`).

Tokens that carry mass are the content tokens: not special tokens, not padding, not the
encoder's prefix (``query: ``). Teacher vectors use the teacher's query side (its query
prefix), since the student encodes queries. Teacher outputs are computed once per distinct
English sentence and cached (the teacher is frozen and in eval mode).

The output directory is a model directory (weights, tokenizer, ``optical_ir-encoder.json``)
that :class:`~optical_ir.encoders.DenseEncoder`, ``optical_ir.search --encoder`` and
Pyserini's searcher load, with ``optical_ir-distill.json`` (the configuration, the teacher,
per-epoch metrics). ``checkpoints/`` holds the latest epoch with the optimizer and random
states; an interrupted run resumes from it, and a finished one is not redone.

Command line::

    python -m optical_ir.distill --language sw --method optical --output students/optical.sw \
        [--teacher multilingual-e5-small] [--student multilingual-e5-small] [--sources ntrex] \
        [--epochs 3] [--lr 5e-5] [--batch-size 16] [--max-length 64] [--eps 0.05] \
        [--sinkhorn-iterations 50] [--cost cosine] [--sentence-weight 0] [--seed 13] [--device cpu]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from . import cli

METHODS = ("optical", "mse", "token-uniform", "token-position")
MASSES = ("content", "pooled")
DISTILL_FILE = "optical_ir-distill.json"
STATE_FILE = "trainer_state.pt"


@dataclass(frozen=True)
class DistillConfig:
    r"""Everything that determines a student (saved in ``optical_ir-distill.json``).

    Parameters
    ----------
    languages
        Languages of the bitext; several give one student for all of them.
    method
        ``optical``, ``mse``, ``token-uniform`` or ``token-position`` (see the module text).
    teacher, student
        Encoders (embedded name, directory or Hugging Face id with a saved config). The
        student starts from ``student``'s weights and keeps its pooling and prefixes.
    sources
        Bitext sources (:mod:`optical_ir.bitext`): ``ntrex`` (train articles), ``tatoeba``,
        ``mafand``, ``multi30k``, or ``all``.
    max_pairs
        At most this many pairs per language (a seeded sample); ``None``: all.
    epochs, lr, batch_size, max_length, warmup
        Optimisation: AdamW, linear warm-up over ``warmup`` of the steps then linear decay.
    eps, sinkhorn_iterations, cost, detach_plan
        OT: Sinkhorn's ε (in units of the cost), iterations, ``cosine`` or ``sqeuclidean``
        cost, plan held constant in the backward pass.
    mass
        Which tokens carry (uniform) transport mass, for the token-level methods:
        ``content`` (no special, padding or prefix tokens; the default) or ``pooled`` (the
        tokens the encoder pools: for mean pooling every real token). With ``pooled``
        mass and the ``sqeuclidean`` cost, :math:`\langle T, C\rangle_F` bounds the squared
        distance of the mean-pooled vectors from above (Jensen:
        :math:`\bar x - \bar y = \sum_{ij} T_{ij}(x_i - y_j)`), so the token alignment
        also pulls the sentence vectors together.
    sentence_weight
        Weight of the sentence-level MSE term added to a token-level loss.
    holdout
        Hold the NTREX dev articles (a fifth of the train articles) out of the bitext; the
        validation MAP is then measured on ``optical-ir/ntrex/<xx>-en/dev``, sentences the
        student never saw, instead of in-sample on ``…/train``.
    freeze_embeddings
        Keep the word embeddings fixed (96M of multilingual-e5-small's 118M parameters).
    train_layers
        Train only the top ``train_layers`` transformer layers; the embeddings and the layers
        below stay frozen, and their output for each training sentence is computed once and
        cached, so a step runs only the top layers (about 6× faster on a CPU for 2 of 12).
        ``None``: train every layer.
    seed
        Seeds Python, torch and the batch order.
    """

    languages: tuple[str, ...]
    method: str = "optical"
    teacher: str = "multilingual-e5-small"
    student: str = "multilingual-e5-small"
    sources: tuple[str, ...] = ("ntrex",)
    max_pairs: int | None = None
    epochs: int = 3
    lr: float = 5e-5
    batch_size: int = 16
    max_length: int = 64
    warmup: float = 0.1
    eps: float = 0.05
    sinkhorn_iterations: int = 50
    cost: str = "cosine"
    detach_plan: bool = True
    mass: str = "content"
    sentence_weight: float = 0.0
    holdout: bool = False
    freeze_embeddings: bool = True
    train_layers: int | None = None
    seed: int = 13

    def __post_init__(self) -> None:
        from .bitext import resolve_sources
        from .languages import canonical
        from .ot import METRICS

        if not self.languages:
            raise ValueError("give at least one language")
        object.__setattr__(self, "languages", tuple(canonical(x) for x in self.languages))
        if "en" in self.languages:
            raise ValueError("the student learns from X–English bitext; 'en' is not a source language")
        object.__setattr__(self, "sources", resolve_sources(self.sources))
        if self.method not in METHODS:
            raise ValueError(f"unknown method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.mass not in MASSES:
            raise ValueError(f"unknown mass {self.mass!r}; choose one of {', '.join(MASSES)}")
        if self.cost not in METRICS:
            raise ValueError(f"unknown cost {self.cost!r}; choose one of {', '.join(METRICS)}")
        for name in ("epochs", "batch_size", "max_length", "sinkhorn_iterations"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be a positive integer, not {getattr(self, name)!r}")
        if self.train_layers is not None and self.train_layers < 1:
            raise ValueError(f"train_layers must be positive (or None for all), not {self.train_layers}")
        if self.max_pairs is not None and self.max_pairs < 1:
            raise ValueError(f"max_pairs must be positive, not {self.max_pairs}")
        if not (self.lr > 0 and self.eps > 0 and 0 <= self.warmup < 1 and self.sentence_weight >= 0):
            raise ValueError("need lr > 0, eps > 0, 0 ≤ warmup < 1 and sentence_weight ≥ 0")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["languages"], d["sources"] = list(self.languages), list(self.sources)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DistillConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown distillation settings {unknown}")
        data = dict(data)
        data["languages"] = tuple(data["languages"])
        data["sources"] = tuple(data.get("sources", ("ntrex",)))
        return cls(**data)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _saved_config(info: dict[str, Any]) -> DistillConfig | None:
    try:
        return DistillConfig.from_dict(info["config"])
    except (KeyError, TypeError, ValueError):
        return None


def read_distill_info(model_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    path = Path(model_dir) / DISTILL_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def training_pairs(config: DistillConfig) -> list[tuple[str, str, str]]:
    """``(lang, sentence, english)`` for every language, each capped at ``max_pairs`` (seeded)."""
    from .bitext import load_bitext

    out = []
    for lang in config.languages:
        pairs = [(p.lang, p.source, p.english) for p in load_bitext(lang, config.sources, config.holdout)]
        if not pairs:
            raise ValueError(f"no bitext for {lang} in sources {', '.join(config.sources)}")
        if config.max_pairs is not None and len(pairs) > config.max_pairs:
            pairs = random.Random(config.seed).sample(pairs, config.max_pairs)
        out += pairs
    return out


class _Side:
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
            raise ValueError(f"{self.encoder.name}: train_layers needs a BERT-like model (model.encoder.layer)")
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
        if hasattr(model, "_create_attention_masks"):  # transformers 5: the mask its attention expects
            layer_mask = model._create_attention_masks(attention_mask=mask, encoder_attention_mask=None,
                                                       embedding_output=hidden, encoder_hidden_states=None,
                                                       past_key_values=None)
            layer_mask = layer_mask[0] if isinstance(layer_mask, tuple) else layer_mask
        else:  # the classic additive mask
            layer_mask = (1.0 - mask[:, None, None, :].to(hidden.dtype)) * torch.finfo(hidden.dtype).min
        for layer in self.layers()[-self.top_layers :]:
            out = layer(hidden, attention_mask=layer_mask)
            hidden = out[0] if isinstance(out, tuple) else out
        return hidden, {"attention_mask": mask, "special_tokens_mask": special.to(device)}

    def run(self, texts: Sequence[str]) -> tuple[Any, Any, Any]:
        """Token vectors ``(B, T, H)``, content mask ``(B, T)``, pooled sentence vectors ``(B, H)``."""
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
            return hidden, pooled, enc.pool(hidden, batch["attention_mask"])
        special = batch["special_tokens_mask"].bool()
        content = batch["attention_mask"].masked_fill(special, 0)
        if self.n_prefix:
            first = special.long().argmin(dim=1)  # first non-special token
            for i in range(content.shape[0]):
                content[i, first[i] : first[i] + self.n_prefix] = 0
        return hidden, content, enc.pool(hidden, batch["attention_mask"])


def _fixed_plan(kind: str, x_mask: Any, y_mask: Any) -> Any:
    import torch

    from .ot import marginals

    a, b = marginals(x_mask), marginals(y_mask)
    if kind == "token-uniform":
        return a.unsqueeze(2) * b.unsqueeze(1)
    rx = (x_mask.cumsum(1) - 1).float() / (x_mask.sum(1, keepdim=True).float() - 1).clamp_min(1)
    ry = (y_mask.cumsum(1) - 1).float() / (y_mask.sum(1, keepdim=True).float() - 1).clamp_min(1)
    logits = -((rx.unsqueeze(2) - ry.unsqueeze(1)) ** 2) / 0.01
    logits = logits.masked_fill(~y_mask.bool().unsqueeze(1), float("-inf"))
    rows = torch.softmax(logits, dim=2).nan_to_num(0.0)
    return a.unsqueeze(2) * rows


def batch_loss(config: DistillConfig, student: _Side, sentences: Sequence[str], teacher_tok: Any,
               teacher_mask: Any, teacher_sent: Any, english: Sequence[str]) -> tuple[Any, dict[str, float]]:
    """The method's loss for one batch, and its parts for logging."""
    from .ot import cost_matrix, ot_loss

    hidden, mask, sent = student.run(sentences)
    parts: dict[str, float] = {}
    if config.method == "mse":
        loss = ((sent - teacher_sent) ** 2).sum(-1).mean()
        _, _, sent_en = student.run(english)
        loss = loss + ((sent_en - teacher_sent) ** 2).sum(-1).mean()
        parts["mse"] = float(loss.detach())
        return loss, parts
    if config.method == "optical":
        res = ot_loss(hidden, teacher_tok, mask, teacher_mask, eps=config.eps, n_iter=config.sinkhorn_iterations,
                      metric=config.cost, detach_plan=config.detach_plan)  # type: ignore[arg-type]
        loss = res.loss.mean()
    else:
        cost = cost_matrix(hidden, teacher_tok, config.cost)  # type: ignore[arg-type]
        plan = _fixed_plan(config.method, mask, teacher_mask)
        loss = (plan * cost).sum(dim=(1, 2)).mean()
    parts["token"] = float(loss.detach())
    if config.sentence_weight > 0:
        mse = ((sent - teacher_sent) ** 2).sum(-1).mean()
        parts["sentence"] = float(mse.detach())
        loss = loss + config.sentence_weight * mse
    return loss, parts


def _teacher_cache(teacher: _Side, english: Sequence[str], batch_size: int) -> dict[str, tuple[Any, Any, Any]]:
    """Teacher token vectors, content mask and sentence vector of each distinct English sentence."""
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


def _stack(items: Sequence[tuple[Any, Any, Any]], device: Any) -> tuple[Any, Any, Any]:
    import torch

    n = max(t.shape[0] for t, _, _ in items)
    dim = items[0][0].shape[1]
    tok = torch.zeros(len(items), n, dim)
    mask = torch.zeros(len(items), n, dtype=torch.long)
    for i, (t, m, _) in enumerate(items):
        tok[i, : t.shape[0]] = t
        mask[i, : m.shape[0]] = m
    sent = torch.stack([s for _, _, s in items])
    return tok.to(device), mask.to(device), sent.to(device)


def _rng_state() -> dict[str, Any]:
    import torch

    return {"python": random.getstate(), "torch": torch.get_rng_state()}


def _set_rng_state(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])


def distill(config: DistillConfig, output: str | os.PathLike[str], device: str = "cpu",
            validate: bool = False, overwrite: bool = False, save_model: bool = True) -> Path:
    """Train a student with ``config`` into the model directory ``output``; return it.

    A finished student with the same configuration is returned as it is; an unfinished one
    resumes from its last epoch checkpoint. ``validate`` computes MAP after each epoch on the
    train-article collection (``optical-ir/ntrex/<xx>-en/train``; with ``config.holdout``, on
    the held-out ``…/dev``) and keeps the best epoch. ``save_model=False`` writes no weights
    and no checkpoints, only ``optical_ir-distill.json`` (its per-epoch metrics): for
    settings searches (:mod:`optical_ir.tune`), which need the metrics alone.
    """
    import torch
    from tqdm.auto import tqdm

    from .encoders import DenseEncoder

    out = Path(output)
    info = read_distill_info(out)
    if info and not overwrite:
        if _saved_config(info) != config:
            raise ValueError(f"{out} holds a student trained with another configuration; pass --overwrite or "
                             f"another --output")
        if info.get("finished"):
            return out
    if overwrite and out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoints" / "last"

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    teacher = DenseEncoder(config.teacher, device=device)
    teacher.model.eval().requires_grad_(False)
    start_from = ckpt if (ckpt / STATE_FILE).is_file() else config.student
    student = DenseEncoder(start_from, device=device)
    if teacher.dim != student.dim:
        raise ValueError(f"teacher {config.teacher} makes {teacher.dim}-d vectors, student {config.student} "
                         f"{student.dim}-d; token and sentence distillation need the same dimension")
    base = _base_model(config.student)
    if start_from == ckpt and student.config.base_model != base:
        raise ValueError(f"{ckpt} is a checkpoint of {student.config.base_model!r}, not of {base!r}")
    if config.freeze_embeddings:
        student.model.get_input_embeddings().weight.requires_grad_(False)
    pairs = training_pairs(config)
    teacher_side = _Side(teacher, config.max_length, config.mass)
    student_side = _Side(student, config.max_length, config.mass, config.train_layers)
    if config.train_layers:
        layers = student_side.layers()
        if config.train_layers > len(layers):
            raise ValueError(f"train_layers {config.train_layers}: {config.student} has {len(layers)} layers")
        student.model.requires_grad_(False)
        for layer in layers[-config.train_layers :]:
            layer.requires_grad_(True)
        student_side.prepare([s for _, s, _ in pairs]
                             + ([e for _, _, e in pairs] if config.method == "mse" else []), config.batch_size * 4)
    student.model.train()
    cache = _teacher_cache(teacher_side, [e for _, _, e in pairs], config.batch_size)
    params = [p for p in student.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr)
    steps_per_epoch = math.ceil(len(pairs) / config.batch_size)
    total = steps_per_epoch * config.epochs
    warm = max(1, int(config.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    history: list[dict[str, Any]] = []
    first_epoch = 0
    if start_from == ckpt:
        state = torch.load(ckpt / STATE_FILE, weights_only=False)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"])
        history = state["history"]
        first_epoch = state["epoch"] + 1
        print(f"resuming {out} after epoch {first_epoch} of {config.epochs}")

    best = max((h for h in history if "val_AP" in h), key=lambda h: h["val_AP"], default=None)
    for epoch in range(first_epoch, config.epochs):
        order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(config.seed + epoch)).tolist()
        start, total_loss = time.time(), 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"{config.method} epoch {epoch + 1}/{config.epochs}", unit="step")
        for step in bar:
            batch = [pairs[i] for i in order[step * config.batch_size : (step + 1) * config.batch_size]]
            tok, mask, sent = _stack([cache[e] for _, _, e in batch], student.device)
            loss, parts = batch_loss(config, student_side, [s for _, s, _ in batch], tok, mask, sent,
                                     [e for _, _, e in batch])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            total_loss += float(loss.detach())
            bar.set_postfix(loss=f"{total_loss / (step + 1):.4f}", **{k: f"{v:.4f}" for k, v in parts.items()})
        seconds = time.time() - start
        record: dict[str, Any] = {"epoch": epoch + 1, "loss": total_loss / steps_per_epoch,
                                  "seconds": round(seconds, 1), "pairs_per_second": round(len(pairs) / seconds, 2)}
        if validate:
            student.model.eval()
            record["val_AP"] = validation_map(student, teacher, config.languages,
                                              split="dev" if config.holdout else "train")
            student.model.train()
        history.append(record)
        if save_model:
            _save_checkpoint(student, ckpt, config, epoch, history, optimizer, scheduler)
        if validate and (best is None or record["val_AP"] > best["val_AP"]):
            best = record
            if save_model:
                _copy_model(ckpt, out / "checkpoints" / "best")
    if save_model:
        final = out / "checkpoints" / ("best" if validate and best is not None else "last")
        _copy_model(final, out)
    _write_json(out / DISTILL_FILE, {"config": config.to_dict(), "teacher": config.teacher,
                                      "teacher_config": teacher.config.to_dict(), "student_init": config.student,
                                      "pairs": len(pairs), "pairs_per_language": {
                                          lang: sum(1 for x, _, _ in pairs if x == lang) for lang in config.languages},
                                      "history": history, "selected_epoch": (best or history[-1])["epoch"],
                                      "finished": True})
    return out


def _base_model(student: str) -> str:
    """The base model a student starts from, as its encoder config names it."""
    from .encoders.embedded import saved_config

    config = saved_config(student)
    return (config.base_model if config else "") or str(student)


def _save_checkpoint(student: Any, ckpt: Path, config: DistillConfig, epoch: int, history: list[dict[str, Any]],
                     optimizer: Any, scheduler: Any) -> None:
    import torch

    tmp = ckpt.with_name(f".{ckpt.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    student.save(tmp)
    torch.save({"epoch": epoch, "history": history, "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": _rng_state(), "config": config.to_dict()},
               tmp / STATE_FILE)
    if ckpt.exists():
        shutil.rmtree(ckpt)
    os.replace(tmp, ckpt)


def _copy_model(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.name != STATE_FILE:
            shutil.copyfile(f, dst / f".{f.name}.tmp")
            os.replace(dst / f".{f.name}.tmp", dst / f.name)


def validation_map(student: Any, teacher: Any, languages: Sequence[str], hits: int = 100,
                   split: str = "train") -> float:
    """Mean MAP over ``languages`` of the student's queries on ``optical-ir/ntrex/<xx>-en/<split>``
    against the teacher's passage vectors (exact inner-product search in memory, no Java).

    ``split="train"``: with the default ``ntrex`` bitext these queries are the training
    sentences themselves, so this measures fit in the teacher's space, not test
    effectiveness. ``split="dev"`` with a ``holdout`` student: unseen sentences.
    """
    from .collections import load
    from .dense import exact_search
    from .evaluate import evaluate

    scores = []
    for lang in languages:
        dataset = f"optical-ir/ntrex/{lang}-en/{split}"
        docids, doc_vectors = _passage_vectors(teacher, dataset)
        topics = [(q.query_id, q.default_text()) for q in load(dataset).queries_iter()]
        queries = student.encode([t for _, t in topics], "query")
        run = exact_search([q for q, _ in topics], queries, docids, doc_vectors, hits=hits)
        scores.append(evaluate(run, dataset, ["AP"]).aggregates["AP"])
    return round(sum(scores) / len(scores), 4)


_PASSAGES: dict[tuple[int, str], tuple[list[str], Any]] = {}


def _passage_vectors(teacher: Any, dataset: str) -> tuple[list[str], Any]:
    """The teacher's passage vectors of a collection, encoded once per process."""
    from .collections import load

    ds = load(dataset)
    key = (id(teacher), ds.docs_namespace())
    if key not in _PASSAGES:
        docs = list(ds.docs_iter())
        _PASSAGES[key] = ([d.doc_id for d in docs], teacher.encode([d.default_text() for d in docs], "passage"))
    return _PASSAGES[key]


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("distill", __doc__)
    d = DistillConfig(languages=("sw",))
    parser.add_argument("--language", nargs="+", required=True, help="source language(s) of the bitext")
    parser.add_argument("--output", required=True, help="model directory of the student")
    parser.add_argument("--method", choices=METHODS, default=d.method, help="distillation loss")
    parser.add_argument("--teacher", default=d.teacher, help="frozen teacher encoder")
    parser.add_argument("--student", default=d.student, help="encoder the student starts from")
    parser.add_argument("--sources", nargs="+", default=list(d.sources), help="bitext sources, or 'all'")
    parser.add_argument("--max-pairs", type=int, default=None, help="at most this many pairs per language")
    parser.add_argument("--epochs", type=int, default=d.epochs)
    parser.add_argument("--lr", type=float, default=d.lr, help="AdamW learning rate")
    parser.add_argument("--batch-size", type=int, default=d.batch_size, help="sentence pairs per step")
    parser.add_argument("--max-length", type=int, default=d.max_length, help="tokens per sentence")
    parser.add_argument("--warmup", type=float, default=d.warmup, help="share of steps for linear warm-up")
    parser.add_argument("--eps", type=float, default=d.eps, help="Sinkhorn's entropic regularisation ε")
    parser.add_argument("--sinkhorn-iterations", type=int, default=d.sinkhorn_iterations)
    parser.add_argument("--cost", choices=["cosine", "sqeuclidean"], default=d.cost, help="OT cost")
    parser.add_argument("--mass", choices=MASSES, default=d.mass,
                        help="tokens that carry transport mass: content tokens, or those the pooling reads")
    parser.add_argument("--backprop-through-sinkhorn", action="store_true",
                        help="differentiate through the Sinkhorn iterations (default: plan held constant)")
    parser.add_argument("--sentence-weight", type=float, default=d.sentence_weight,
                        help="weight of an extra sentence-level MSE term (token-level methods)")
    parser.add_argument("--train-layers", type=int, default=None,
                        help="train only the top N transformer layers, the frozen ones' outputs cached (default: all)")
    parser.add_argument("--freeze-embeddings", action=argparse.BooleanOptionalAction,
                        default=d.freeze_embeddings, help="keep the word embeddings fixed")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--validate", action="store_true", help="MAP on the train-article collection after each "
                        "epoch; keep the best epoch")
    parser.add_argument("--holdout", action="store_true", help="hold the NTREX dev articles out of the bitext and "
                        "validate on optical-ir/ntrex/<xx>-en/dev (unseen sentences)")
    parser.add_argument("--overwrite", action="store_true", help="train again even if the output exists")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    config = DistillConfig(languages=tuple(args.language), method=args.method, teacher=args.teacher,
                           student=args.student, sources=tuple(args.sources), max_pairs=args.max_pairs,
                           epochs=args.epochs, lr=args.lr, batch_size=args.batch_size, max_length=args.max_length,
                           warmup=args.warmup, eps=args.eps, sinkhorn_iterations=args.sinkhorn_iterations,
                           cost=args.cost, detach_plan=not args.backprop_through_sinkhorn, mass=args.mass,
                           sentence_weight=args.sentence_weight, holdout=args.holdout,
                           freeze_embeddings=args.freeze_embeddings, train_layers=args.train_layers,
                           seed=args.seed)
    path = distill(config, args.output, args.device, args.validate, args.overwrite)
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "distill"))
