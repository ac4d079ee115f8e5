"""The toolkit's encoders as Pyserini plug-ins.

:class:`OpticalQueryEncoder` subclasses ``pyserini.encode.QueryEncoder`` (``encode(str)`` →
1-D float32 vector, ``encode_batch(list)`` → 2-D, which ``FaissSearcher.batch_search``
uses), and :class:`OpticalDocumentEncoder` subclasses ``DocumentEncoder`` (``encode(texts)``
→ 2-D), so either drops into Pyserini's ``FaissSearcher`` and ``FaissRepresentationWriter``.
Both read pooling, prefixes and normalisation from the model directory's
``optical_ir-encoder.json``.

``pyserini.encode`` talks to Anserini when imported, so importing this module starts the
Java 21 VM first (:func:`optical_ir.jvm.start`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import jvm
from .config import EncoderConfig
from .dense import DenseEncoder, EmptyQueryError

jvm.start()

from pyserini.encode import DocumentEncoder, QueryEncoder  # noqa: E402


def _encoder(encoder_dir: str | os.PathLike[str] | DenseEncoder | None, config: EncoderConfig | None,
             device: str) -> DenseEncoder:
    if isinstance(encoder_dir, DenseEncoder):
        return encoder_dir
    if encoder_dir is None:
        raise ValueError("give a model (an embedded name, a directory or a Hugging Face id)")
    return DenseEncoder(encoder_dir, config, device)


class OpticalQueryEncoder(QueryEncoder):
    """A Pyserini query encoder over a :class:`DenseEncoder`.

    Parameters
    ----------
    encoder_dir
        A model (embedded name, directory, Hugging Face id) or a loaded :class:`DenseEncoder`.
    device
        ``cpu`` or ``cuda[:N]``.
    config
        Overrides the directory's ``optical_ir-encoder.json``.
    batch_size
        Queries per forward pass in :meth:`encode_batch`.

    Pyserini passes other keyword arguments (``tokenizer_name``, ``prefix``, ``fp16``, …)
    to encoder classes; they are accepted and ignored, because the configuration comes
    from the model directory.
    """

    def __init__(self, encoder_dir: str | os.PathLike[str] | DenseEncoder | None = None, device: str = "cpu",
                 config: EncoderConfig | None = None, batch_size: int = 64, **_: Any) -> None:
        super().__init__(None)
        self.encoder = _encoder(encoder_dir, config, device)
        self.has_model = True
        self.batch_size = batch_size

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def encode(self, query: str, **_: Any) -> np.ndarray:
        if not isinstance(query, str):
            raise TypeError(f"encode takes one query string, not {type(query).__name__}; use encode_batch")
        if not query.strip():
            raise EmptyQueryError("the query is empty; an empty query has no vector")
        return self.encoder.encode([query], "query", batch_size=1)[0]

    def encode_batch(self, queries: Sequence[str], **_: Any) -> np.ndarray:
        return self.encoder.encode(list(queries), "query", batch_size=self.batch_size)


class OpticalDocumentEncoder(DocumentEncoder):
    """A Pyserini document encoder over a :class:`DenseEncoder` (passage prefix and pooling
    from the model's configuration)."""

    def __init__(self, encoder_dir: str | os.PathLike[str] | DenseEncoder | None = None, device: str = "cpu",
                 config: EncoderConfig | None = None, batch_size: int = 64, **_: Any) -> None:
        self.encoder = _encoder(encoder_dir, config, device)
        self.batch_size = batch_size

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def encode(self, texts: Sequence[str], titles: Sequence[str] | None = None, **_: Any) -> np.ndarray:
        if titles is not None:
            texts = [f"{title} {text}".strip() for title, text in zip(titles, texts, strict=True)]
        return self.encoder.encode(list(texts), "passage", batch_size=self.batch_size)
