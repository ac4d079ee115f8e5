r"""The training loop: a student *query* encoder distilled from a frozen English teacher, from bitext alone.

For a pair (sentence :math:`s` in language X, its English translation :math:`e`), the
teacher is frozen and the student learns to put :math:`s` where the teacher puts :math:`e`.
The loop is generic: the loss is an object of the registry
(:mod:`optical_ir.distillation.losses`, built from the configuration), the features come
from :mod:`.features`, the validation from :mod:`.evaluators`.

The output directory is a model directory (weights, tokenizer, ``optical_ir-encoder.json``)
that :class:`~optical_ir.encoders.DenseEncoder`, ``optical_ir.search --encoder`` and
Pyserini's searcher load, with ``optical_ir-distill.json`` (the configuration, the teacher,
per-epoch metrics). ``checkpoints/last`` holds the latest epoch with the optimizer, the
schedule, the random states and the configuration: an interrupted run resumes from it when
asked for the same configuration, and refuses, naming the settings that differ, when asked
for another; a finished student is not trained again. ``overwrite`` deletes only a student
directory (one holding ``optical_ir-distill.json`` or ``checkpoints``) or an empty one.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MismatchError, check_device
from ..files import check_replaceable, check_writable, replace_dir
from .config import DistillConfig

DISTILL_FILE = "optical_ir-distill.json"
STATE_FILE = "trainer_state.pt"
STUDENT_MARKERS = (DISTILL_FILE, "checkpoints")


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _saved_config(data: dict[str, Any]) -> DistillConfig | None:
    try:
        return DistillConfig.from_dict(data["config"])
    except (KeyError, TypeError, ValueError):
        return None


def read_distill_info(model_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    path = Path(model_dir) / DISTILL_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def describe_differences(saved: DistillConfig | None, requested: DistillConfig) -> str:
    """``key: saved → requested`` for each differing setting (or why they cannot be compared)."""
    if saved is None:
        return "its saved configuration cannot be read"
    diffs = saved.differences(requested)
    return "; ".join(f"{k}: {a!r} there, {b!r} now" for k, (a, b) in diffs.items())


def training_pairs(config: DistillConfig) -> list[tuple[str, str, str]]:
    """``(lang, sentence, english)`` for every language, each capped at ``max_pairs`` (seeded)."""
    from ..parallel import load_bitext

    out = []
    for lang in config.languages:
        pairs = [(p.lang, p.source, p.english) for p in load_bitext(lang, config.sources, config.holdout)]
        if not pairs:
            raise ConfigError(f"no bitext for {lang} in sources {', '.join(config.sources)}")
        if config.max_pairs is not None and len(pairs) > config.max_pairs:
            pairs = random.Random(config.seed).sample(pairs, config.max_pairs)
        out += pairs
    return out


def _rng_state() -> dict[str, Any]:
    import torch

    return {"python": random.getstate(), "torch": torch.get_rng_state()}


def _set_rng_state(state: dict[str, Any]) -> None:
    import torch

    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])


def _prepare_output(out: Path, config: DistillConfig, overwrite: bool) -> dict[str, Any] | None:
    """Check what ``out`` holds; return the resumable checkpoint state, or ``None`` to start anew.

    Raises :class:`~optical_ir.errors.MismatchError` naming the differing settings when ``out``
    holds a student (finished or not) of another configuration, and
    :class:`~optical_ir.errors.OutputError` when it is not a student directory.
    """
    import torch

    check_replaceable(out, STUDENT_MARKERS, "a student directory")
    if overwrite and out.exists():
        shutil.rmtree(out)
    check_writable(out, directory=True)
    info = read_distill_info(out)
    if info:
        saved = _saved_config(info)
        if saved != config:
            raise MismatchError(f"{out} holds a student trained with another configuration "
                                f"({describe_differences(saved, config)}); pass --overwrite or another --output")
        if info.get("finished"):
            return {"finished": True}
    state_file = out / "checkpoints" / "last" / STATE_FILE
    if not state_file.is_file():
        return None
    state = torch.load(state_file, weights_only=False)
    saved = _saved_config(state)
    if saved != config:
        raise MismatchError(f"{out} holds an interrupted run of another configuration "
                            f"({describe_differences(saved, config)}); resuming it would train with the old "
                            f"settings: run it with those settings, or pass --overwrite or another --output")
    return state


def distill(config: DistillConfig, output: str | os.PathLike[str], device: str = "cpu",
            validate: bool = False, overwrite: bool = False, save_model: bool = True) -> Path:
    """Train a student with ``config`` into the model directory ``output``; return it.

    A finished student with the same configuration is returned as it is; an unfinished one
    resumes from its last epoch checkpoint (see the module text). ``validate`` computes MAP
    after each epoch on the train-article collection (``optical-ir/ntrex/<xx>-en/train``;
    with ``config.holdout``, on the held-out ``…/dev``) and keeps the best epoch.
    ``save_model=False`` writes no weights and no checkpoints, only ``optical_ir-distill.json``
    (its per-epoch metrics): for settings searches, which need the metrics alone.
    """
    import torch
    from tqdm.auto import tqdm

    from ..encoders import DenseEncoder
    from .evaluators import RetrievalMAP
    from .features import TokenSide, stack, teacher_cache
    from .losses import Batch, build_loss

    check_device(device)
    out = Path(output)
    state = _prepare_output(out, config, overwrite)
    if state is not None and state.get("finished"):
        return out
    out.mkdir(parents=True, exist_ok=True)
    ckpt = out / "checkpoints" / "last"

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    teacher = DenseEncoder(config.teacher, device=device)
    teacher.model.eval().requires_grad_(False)
    start_from = ckpt if state is not None else config.student
    student = DenseEncoder(start_from, device=device)
    if teacher.dim != student.dim:
        raise ConfigError(f"teacher {config.teacher} makes {teacher.dim}-d vectors, student {config.student} "
                          f"{student.dim}-d; token and sentence distillation need the same dimension")
    base = _base_model(config.student)
    if start_from == ckpt and student.config.base_model != base:
        raise MismatchError(f"{ckpt} is a checkpoint of {student.config.base_model!r}, not of {base!r}")
    if config.freeze_embeddings:
        student.model.get_input_embeddings().weight.requires_grad_(False)
    loss_fn = build_loss(config)
    pairs = training_pairs(config)
    teacher_side = TokenSide(teacher, config.max_length, config.mass)
    student_side = TokenSide(student, config.max_length, config.mass, config.train_layers)
    if config.train_layers:
        layers = student_side.layers()
        if config.train_layers > len(layers):
            raise ConfigError(f"train_layers {config.train_layers}: {config.student} has {len(layers)} layers")
        student.model.requires_grad_(False)
        for layer in layers[-config.train_layers :]:
            layer.requires_grad_(True)
        english_too = [e for _, _, e in pairs] if loss_fn.student_reads_english else []
        student_side.prepare([s for _, s, _ in pairs] + english_too, config.batch_size * 4)
    student.model.train()
    cache = teacher_cache(teacher_side, [e for _, _, e in pairs], config.batch_size)
    params = [p for p in student.model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr)
    steps_per_epoch = math.ceil(len(pairs) / config.batch_size)
    total = steps_per_epoch * config.epochs
    warm = max(1, int(config.warmup * total))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warm, max(0.0, (total - s) / max(1, total - warm))))
    history: list[dict[str, Any]] = []
    first_epoch = 0
    if state is not None:
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        _set_rng_state(state["rng"])
        history = state["history"]
        first_epoch = state["epoch"] + 1
        print(f"resuming {out} after epoch {first_epoch} of {config.epochs}")

    split = "dev" if config.holdout else "train"
    evaluator = RetrievalMAP(teacher, config.languages, split=split) if validate else None
    best = max((h for h in history if "val_AP" in h), key=lambda h: h["val_AP"], default=None)
    for epoch in range(first_epoch, config.epochs):
        order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(config.seed + epoch)).tolist()
        start, total_loss = time.time(), 0.0
        bar = tqdm(range(steps_per_epoch), desc=f"{config.method} epoch {epoch + 1}/{config.epochs}", unit="step")
        for step in bar:
            rows = [pairs[i] for i in order[step * config.batch_size : (step + 1) * config.batch_size]]
            english = [e for _, _, e in rows]
            batch = Batch(student_side.run([s for _, s, _ in rows]), stack([cache[e] for e in english], student.device),
                          student_side.run(english) if loss_fn.student_reads_english else None)
            loss, parts = loss_fn(batch)
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
        if evaluator is not None:
            student.model.eval()
            record["val_AP"] = evaluator(student)
            student.model.train()
        history.append(record)
        if save_model:
            _save_checkpoint(student, ckpt, config, epoch, history, optimizer, scheduler)
        if evaluator is not None and (best is None or record["val_AP"] > best["val_AP"]):
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
    from ..encoders.embedded import saved_config

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
    replace_dir(tmp, ckpt)


def _copy_model(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.name != STATE_FILE:
            shutil.copyfile(f, dst / f".{f.name}.tmp")
            os.replace(dst / f".{f.name}.tmp", dst / f.name)
