r"""The training loop: a student *query* encoder distilled from a frozen English teacher, from bitext alone.

For a pair (sentence :math:`s` in language X, its English translation :math:`e`), the
teacher is frozen and the student learns to put :math:`s` where the teacher puts :math:`e`.
The loop is generic: the loss is an object of the registry
(:mod:`optical_ir.distillation.losses`, built from the configuration), optionally wrapped by
an adversary (:mod:`.adversaries`); a batching policy (:mod:`.policies`) says which side of
each batch is in X and which in English; the features come from :mod:`.features`, the rows
from :mod:`.data` (perturbed by :mod:`.augment`), the validation from :mod:`.evaluators`.

The output directory is a model directory (weights, tokenizer, ``optical_ir-encoder.json``)
that :class:`~optical_ir.encoders.DenseEncoder`, ``optical_ir.search --encoder`` and
Pyserini's searcher load, with ``optical_ir-distill.json`` (the configuration, the teacher,
per-epoch metrics). ``checkpoints/last`` holds the latest epoch with the optimizer, the
schedule, the random states and the configuration: an interrupted run resumes from it when
asked for the same configuration, and refuses, naming the settings that differ, when asked
for another; a finished student is not trained again. ``overwrite`` deletes only a student
directory (one holding ``optical_ir-distill.json`` or ``checkpoints``) or an empty one.

Started by ``torchrun`` (``--nproc-per-node``, ``--nnodes``), the same loop trains data-
parallel (:mod:`.distributed`): each rank takes its share of every global batch, the
gradients are summed over the ranks, rank 0 alone writes checkpoints and the student, and
every rank resumes from the same checkpoint, each with its own random state.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, MismatchError, check_device
from ..files import check_replaceable, check_writable, replace_dir
from .config import DistillConfig
from .data import training_pairs
from .distributed import current

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


def _rng_state() -> dict[str, Any]:  # this process's random state
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
            validate: bool = False, overwrite: bool = False, save_model: bool = True,
            track: Sequence[str] = ()) -> Path:
    """Train a student with ``config`` into the model directory ``output``; return it.

    A finished student with the same configuration is returned as it is; an unfinished one
    resumes from its last epoch checkpoint (see the module text). ``validate`` computes MAP
    after each epoch on the train-article collection (``optical-ir/ntrex/<xx>-en/train``;
    with ``config.holdout``, on the held-out ``…/dev``) and keeps the best epoch.
    ``save_model=False`` writes no weights and no checkpoints, only ``optical_ir-distill.json``
    (its per-epoch metrics): for settings searches, which need the metrics alone. ``track``
    names more NTREX splits scored after each epoch the same way (``<split>_AP`` in the
    history; e.g. ``test``, to measure how well the validation split tracks it), never used
    to choose an epoch.
    """
    import torch
    from tqdm.auto import tqdm

    from ..encoders import DenseEncoder
    from .adversaries import build_adversary
    from .evaluators import RetrievalMAP
    from .features import TokenSide, stack, teacher_cache
    from .losses import Batch, build_loss
    from .policies import build_policy

    check_device(device)
    world = current(device)
    device = world.device(device)
    out = Path(output)
    with world.main_first():  # rank 0 alone deletes (overwrite) and creates; the others find its result
        state = _prepare_output(out, config, overwrite and world.main)
        if world.main:
            out.mkdir(parents=True, exist_ok=True)
    found = world.gather(None if state is None else ("finished" if state.get("finished") else state["epoch"]))
    if len(set(found)) > 1:
        raise ConfigError(f"the ranks do not see the same {out} (what each finds there: {found}): every node must "
                          f"see the output directory, so put --output on a file system they share")
    if state is not None and state.get("finished"):
        return out
    ckpt = out / "checkpoints" / "last"

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    teacher = DenseEncoder(config.teacher, device=device)
    teacher.model.eval().requires_grad_(False)
    fresh = state is None  # a resumed student is its checkpoint: already cut, projected, configured
    start_from = config.student if fresh else ckpt
    student = DenseEncoder(start_from, _student_config(config) if fresh else None, device=device)
    if fresh and config.student_layers:
        _cut(student, config.student_layers, config.student)
    if fresh and config.projection:
        student.add_projection(teacher.dim, config.seed)
    if world.distributed and world.rank:  # the same start on every rank, then each its own dropout masks
        torch.manual_seed(config.seed + 7919 * world.rank)
    if config.epochs == 0:  # the start model (cut to student_layers) as it is: a zero-shot student
        if not world.main:
            return out
        if save_model:
            student.save(out)
        _write_json(out / DISTILL_FILE, {"config": config.to_dict(), "teacher": config.teacher,
                                          "student_init": config.student, "pairs": 0, "history": [],
                                          "selected_epoch": 0, "finished": True})
        return out
    if teacher.dim != student.dim:
        raise ConfigError(f"teacher {config.teacher} makes {teacher.dim}-d vectors, student {config.student} "
                          f"{student.dim}-d; token and sentence distillation need the same dimension: pass "
                          f"--projection to learn a map into the teacher's")
    base = _base_model(config.student)
    if not fresh and student.config.base_model != base:
        raise MismatchError(f"{ckpt} is a checkpoint of {student.config.base_model!r}, not of {base!r}")
    if config.freeze_embeddings:
        student.model.get_input_embeddings().weight.requires_grad_(False)
    loss_fn = build_loss(config)
    adversary = build_adversary(config)
    policy = build_policy(config)
    pairs = training_pairs(config)
    retrieves = config.retrieves
    # the student reads English sentences: for the loss (mse), or as the query side of a batch
    english_queries = retrieves or policy.monolingual_share() > 0
    epoch_texts = _augmented(config, pairs)
    teacher_side = TokenSide(teacher, config.max_length, config.mass)
    student_side = TokenSide(student, config.max_length, config.mass, config.train_layers, config.precision)
    if config.train_layers:
        student_side.train_only_top()
        english_too = [p.english for p in pairs] if loss_fn.student_reads_english or english_queries else []
        noisy = [t for texts in (epoch_texts or {}).values() for t in texts]
        with world.main_first():
            student_side.prepare(list(dict.fromkeys([p.source for p in pairs] + noisy + english_too)),
                                 config.batch_size * 4)
    student.model.train()
    cache = teacher_cache(teacher_side, [p.english for p in pairs], config.batch_size, world)
    passage_cache = _passage_cache(teacher, config, {p.passage for p in pairs}) if retrieves else {}
    params = [p for p in student.model.parameters() if p.requires_grad]
    if student.projection is not None:
        params += list(student.projection.parameters())
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
        ranks = state.get("rng_ranks") or []
        _set_rng_state(ranks[world.rank] if len(ranks) == world.size else state["rng"])
        history = state["history"]
        first_epoch = state["epoch"] + 1
        if world.main:
            print(f"resuming {out} after epoch {first_epoch} of {config.epochs}")

    split = "dev" if config.holdout else "train"
    evaluator = RetrievalMAP(teacher, config.languages, split=split) if validate and world.main else None
    trackers = {name: RetrievalMAP(teacher, config.languages, split=name) for name in track} if world.main else {}
    best = max((h for h in history if "val_AP" in h), key=lambda h: h["val_AP"], default=None)
    for epoch in range(first_epoch, config.epochs):
        order = torch.randperm(len(pairs), generator=torch.Generator().manual_seed(config.seed + epoch)).tolist()
        start, total_loss, monolingual = time.time(), 0.0, 0
        bar = tqdm(range(steps_per_epoch), desc=f"{config.method} epoch {epoch + 1}/{config.epochs}", unit="step",
                   disable=not world.main)
        for step in bar:
            batch = order[step * config.batch_size : (step + 1) * config.batch_size]
            index = world.shard(batch)
            share = len(index) / len(batch)  # this rank's weight in the mean over the global batch
            if not index:  # a last batch smaller than the world: a row with weight 0 keeps this rank in step
                index = batch[:1]
            rows = [pairs[i] for i in index]
            english = [p.english for p in rows]
            sides = policy.sides(random.Random(f"{config.seed}:batch:{epoch}:{step}"), retrieves)
            monolingual += sides.monolingual
            if sides.query == "en":
                queries = english
            else:
                queries = [epoch_texts[epoch][i] for i in index] if epoch_texts else [p.source for p in rows]
            inputs = student_side.inputs(queries)
            target = stack([cache[e] for e in english], student.device)
            passages = positive = None
            if retrieves:
                keys = [(p.passage, p.lang if sides.passage == "x" else "en") for p in rows]
                distinct = list(dict.fromkeys(keys))
                passages = torch.stack([passage_cache[k] for k in distinct]).to(student.device)
                positive = torch.tensor([distinct.index(k) for k in keys], device=student.device)
            if adversary is None:
                feats = student_side.encode(inputs)
                student_english = student_side.run(english) if loss_fn.student_reads_english else None
                loss, parts = loss_fn(Batch(feats, target, student_english, passages, positive))
            else:
                student_english = student_side.run(english) if loss_fn.student_reads_english else None

                def objective(delta: Any, inputs: Any = inputs, target: Any = target, se: Any = student_english,
                              passages: Any = passages, positive: Any = positive) -> Any:
                    return loss_fn(Batch(student_side.encode(inputs, delta), target, se, passages, positive))

                loss, parts = adversary(objective, inputs.vectors, inputs.attention_mask)
            optimizer.zero_grad(set_to_none=True)
            if world.distributed:
                loss = loss * share
            loss.backward()
            world.all_reduce_gradients(params)
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            scheduler.step()
            total_loss += world.sum(float(loss.detach()))
            bar.set_postfix(loss=f"{total_loss / (step + 1):.4f}", **{k: f"{v:.4f}" for k, v in parts.items()})
        seconds = time.time() - start
        record: dict[str, Any] = {"epoch": epoch + 1, "loss": total_loss / steps_per_epoch,
                                  "seconds": round(seconds, 1), "pairs_per_second": round(len(pairs) / seconds, 2)}
        if policy.monolingual_share() > 0:
            record["monolingual_batches"] = monolingual
        if world.distributed:
            record["processes"] = world.size
        if evaluator is not None or trackers:
            student.model.eval()
            if evaluator is not None:
                record["val_AP"] = evaluator(student)
            record.update({f"{name}_AP": score(student) for name, score in trackers.items()})
            student.model.train()
        record = world.broadcast(record)  # rank 0's scores choose the epoch on every rank
        history.append(record)
        rng_ranks = world.gather(_rng_state())
        if save_model and world.main:
            _save_checkpoint(student, ckpt, config, epoch, history, optimizer, scheduler, rng_ranks)
        world.barrier()
        if "val_AP" in record and (best is None or record["val_AP"] > best["val_AP"]):
            best = record
            if save_model and world.main:
                _copy_model(ckpt, out / "checkpoints" / "best")
    if not world.main:
        world.barrier()  # until rank 0 has written the student
        return out
    if save_model:
        final = out / "checkpoints" / ("best" if validate and best is not None else "last")
        _copy_model(final, out)
    _write_json(out / DISTILL_FILE, {"config": config.to_dict(), "teacher": config.teacher,
                                      "teacher_config": teacher.config.to_dict(), "student_init": config.student,
                                      "pairs": len(pairs), "pairs_per_language": {
                                          lang: sum(1 for p in pairs if p.lang == lang) for lang in config.languages},
                                      "history": history, "selected_epoch": (best or history[-1])["epoch"],
                                      "finished": True, **({"processes": world.size} if world.distributed else {})})
    world.barrier()
    return out


def _student_config(config: DistillConfig) -> Any:
    """The encoder config of a student without a saved one, from the ``student_*`` settings."""
    if config.student_pooling is None and config.student_query_prefix is None and config.student_passage_prefix is None:
        return None
    from ..encoders import EncoderConfig

    return EncoderConfig(pooling=config.student_pooling or "mean", query_prefix=config.student_query_prefix or "",  # type: ignore[arg-type]
                         passage_prefix=config.student_passage_prefix or "", base_model=config.student)


def _cut(student: Any, n: int, name: str) -> None:
    """Keep the first ``n`` transformer layers of a BERT-like ``student`` (in place)."""
    layers = getattr(getattr(student.model, "encoder", None), "layer", None)
    if layers is None:
        raise ConfigError(f"{name}: student_layers needs a BERT-like model (model.encoder.layer)")
    if n > len(layers):
        raise ConfigError(f"student_layers {n}: {name} has {len(layers)} layers")
    student.model.encoder.layer = layers[:n]
    student.model.config.num_hidden_layers = n


def _augmented(config: DistillConfig, pairs: list[Any]) -> dict[int, list[str]] | None:
    """The X sentences of every epoch with data-space augmentation (``None`` without)."""
    if not config.augment:
        return None
    from .augment import Augmenter

    by_lang: dict[str, list[str]] = {}
    for p in pairs:
        by_lang.setdefault(p.lang, []).append(p.source)
    augmenter = Augmenter(config.augment, config.augment_rate, config.augment_share, config.seed, by_lang)
    for lang, kinds in augmenter.skipped.items():
        print(f"augment: {', '.join(kinds)} cannot apply to {lang}; left out for it")
    rows = [(p.lang, p.source) for p in pairs]
    return {e: augmenter.epoch(e, rows) for e in range(config.epochs)}


def _passage_cache(teacher: Any, config: DistillConfig, ids: set[Any]) -> dict[tuple[str, str], Any]:
    """The frozen teacher's passage vectors of the NTREX train passages ``ids``, in English and in X."""
    import torch

    from .data import passage_texts
    from .features import fingerprint, stored

    texts = passage_texts(config.languages)
    keys = [k for k in texts if k[0] in ids]
    batch = [texts[k] for k in keys]

    def compute() -> Any:
        return torch.from_numpy(teacher.encode(batch, "passage", batch_size=config.batch_size * 2, progress=True))

    vectors = stored("passages", [fingerprint(teacher.path), teacher.device, config.batch_size * 2, *batch], compute)
    return {k: vectors[i] for i, k in enumerate(keys)}


def _base_model(student: str) -> str:
    """The base model a student starts from, as its encoder config names it."""
    from ..encoders.embedded import saved_config

    config = saved_config(student)
    return (config.base_model if config else "") or str(student)


def _save_checkpoint(student: Any, ckpt: Path, config: DistillConfig, epoch: int, history: list[dict[str, Any]],
                     optimizer: Any, scheduler: Any, rng_ranks: list[dict[str, Any]] | None = None) -> None:
    import torch

    tmp = ckpt.with_name(f".{ckpt.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    student.save(tmp)
    torch.save({"epoch": epoch, "history": history, "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "rng": _rng_state(), "config": config.to_dict(),
                **({"rng_ranks": rng_ranks} if rng_ranks and len(rng_ranks) > 1 else {})},
               tmp / STATE_FILE)
    replace_dir(tmp, ckpt)


def _copy_model(src: Path, dst: Path) -> None:
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.iterdir():
        if f.is_file() and f.name != STATE_FILE:
            shutil.copyfile(f, dst / f".{f.name}.tmp")
            os.replace(dst / f".{f.name}.tmp", dst / f.name)
