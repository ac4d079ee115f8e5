"""Shared fixtures: the public-data mirror (../shared/data) and a private cache per session."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def _mirror() -> Path | None:
    env = os.environ.get("OPTICAL_IR_MIRROR")
    if env and Path(env).is_dir():
        return Path(env)
    return SHARED if SHARED.is_dir() else None


MIRROR = _mirror()
needs_mirror = pytest.mark.skipif(
    MIRROR is None,
    reason="no data mirror: set OPTICAL_IR_MIRROR or put the shared data at ../shared/data",
)


@pytest.fixture(autouse=True, scope="session")
def _data_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests read the mirror, never the network, and write indexes to a private cache."""
    if MIRROR is not None:
        os.environ["OPTICAL_IR_MIRROR"] = str(MIRROR)
    os.environ["OPTICAL_IR_OFFLINE"] = "1"
    os.environ.setdefault("OPTICAL_IR_CACHE", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="module")
def me5() -> Any:
    """The embedded multilingual-e5-small encoder (built offline on first use)."""
    from optical_ir.encoders import DenseEncoder

    return DenseEncoder("multilingual-e5-small")


@pytest.fixture(scope="module")
def minilm() -> Any:
    """The embedded all-MiniLM-L6-v2 encoder."""
    from optical_ir.encoders import DenseEncoder

    return DenseEncoder("all-MiniLM-L6-v2")


def tiny_bert(directory: Path, encoder_config: bool = True) -> Path:
    """A random 2-layer BERT as wide as all-MiniLM-L6-v2 (384) with its tokenizer, without
    dropout (so distributed ranks draw no masks of their own): a quick stand-in for a teacher
    or student where a test checks what the loop does, not what a model knows. With
    ``encoder_config`` it carries an ``optical_ir-encoder.json`` (mean pooling, normalised)."""
    from transformers import AutoTokenizer, BertConfig, BertModel

    from optical_ir.encoders import EncoderConfig
    from optical_ir.encoders.embedded import resolve

    BertModel(BertConfig(vocab_size=30522, hidden_size=384, num_hidden_layers=2, num_attention_heads=6,
                         intermediate_size=256, hidden_dropout_prob=0.0,
                         attention_probs_dropout_prob=0.0)).save_pretrained(directory)
    AutoTokenizer.from_pretrained(resolve("all-MiniLM-L6-v2")).save_pretrained(directory)
    if encoder_config:
        EncoderConfig(pooling="mean", normalize=True).save(directory)
    return directory


def interrupt_after_first_checkpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the next training run stop (``KeyboardInterrupt``) right after it writes its
    first checkpoint, as a killed run would; later checkpoints are written as usual."""
    from optical_ir.distillation import trainer

    real = trainer._save_checkpoint
    calls = {"n": 0}

    def save_then_stop(*args: object, **kwargs: object) -> None:
        real(*args, **kwargs)  # type: ignore[arg-type]
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt("simulated interruption after epoch 1")

    monkeypatch.setattr(trainer, "_save_checkpoint", save_then_stop)
