r"""Multi-vector (token) indexes: every content token of every passage, for late interaction.

:func:`build_token_index` encodes a collection's English documents with an encoder's
passage side and keeps, for each passage :math:`d`, its content tokens' vectors
:math:`\hat d_1, \dots, \hat d_{n_d}` (:meth:`~optical_ir.encoders.DenseEncoder.encode_tokens`:
no special, padding or prefix tokens; each of unit length) and its pooled vector
:math:`\bar d`. On disk, in a directory beside the flat indexes
(``$OPTICAL_IR_CACHE/indexes/tokens/<document set>/<encoder>``):

=====================  =========================================================================
``index``              a FAISS ``IndexScalarQuantizer`` (``QT_fp16``, inner product) of the token
                       vectors, passage after passage: 2 bytes a dimension, searchable by FAISS
``doclens.npy``        tokens of each passage (int32), in ``docid`` order
``pooled.npy``         the pooled passage vectors (float16)
``docid``              one document id a line (Pyserini's layout)
``optical_ir-index.json``  dataset, documents fingerprint, encoder and its configuration,
                       ``kind: tokens``, token count
=====================  =========================================================================

It is built in a temporary directory and renamed into place like every index
(:mod:`.lifecycle`); :class:`TokenIndex` reads it back; :mod:`optical_ir.retrieval.late`
scores with it. Half precision is what ColBERT-style indexes store at least; the scores
are computed in float32 from the float16 values.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..encoders import DenseEncoder
from ..errors import MissingInputError
from .faiss import CHUNK, document_chunks, encoder_key, new_encoder_index
from .lifecycle import building, default_index_dir, read_index_config

KIND = "tokens"


def default_token_dir(dataset_id: str, encoder: DenseEncoder) -> Path:
    return default_index_dir(dataset_id, KIND) / encoder_key(encoder)


def build_token_index(dataset_id: str, encoder: DenseEncoder, index_dir: str | os.PathLike[str] | None = None,
                      batch_size: int = 64, overwrite: bool = False, chunk: int = CHUNK) -> Path:
    """Encode the documents of ``dataset_id`` token by token and write a token index; return its
    directory. A finished index of the same documents and encoder is reused (``overwrite``
    rebuilds)."""
    import faiss

    target = Path(index_dir) if index_dir else default_token_dir(dataset_id, encoder)
    new = new_encoder_index(dataset_id, encoder, target, overwrite, KIND)
    if new is None:
        return target
    dataset, config = new
    config["faiss"] = "SQfp16"
    index = faiss.IndexScalarQuantizer(encoder.dim, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    docids: list[str] = []
    lengths: list[int] = []
    pooled: list[np.ndarray] = []
    with building(target, config) as tmp:
        for ids, texts in document_chunks(dataset.docs_iter(), config["docs_count"], chunk,
                                          f"encoding {dataset_id} document tokens"):
            tokens, vectors = encoder.encode_tokens(texts, "passage", batch_size)
            for t in tokens:
                if len(t):
                    index.add(np.ascontiguousarray(t, dtype=np.float32))
            docids.extend(ids)
            lengths.extend(len(t) for t in tokens)
            pooled.append(vectors.astype(np.float16))
        config["tokens"] = int(sum(lengths))
        tmp.mkdir(parents=True, exist_ok=True)
        faiss.write_index(index, str(tmp / "index"))
        np.save(tmp / "doclens.npy", np.asarray(lengths, dtype=np.int32))
        np.save(tmp / "pooled.npy", np.concatenate(pooled) if pooled else np.zeros((0, encoder.dim), np.float16))
        (tmp / "docid").write_text("".join(f"{d}\n" for d in docids), encoding="utf-8")
        encoder.config.save(tmp)
    return target


class TokenIndex:
    """A token index read back into memory (float16), with the passage of every token row.

    Attributes
    ----------
    docids : list[str]
        Passage ids; passage ``i``'s tokens are rows ``offsets[i]:offsets[i + 1]``.
    vectors : np.ndarray
        ``(n_tokens, dim)`` float16 token vectors.
    offsets : np.ndarray
        ``(n_docs + 1,)`` int64 row offsets.
    pooled : np.ndarray
        ``(n_docs, dim)`` float16 pooled passage vectors.
    """

    def __init__(self, index_dir: str | os.PathLike[str]) -> None:
        import faiss

        path = Path(index_dir)
        config = read_index_config(path) or {}
        if config.get("kind") != KIND or not (path / "doclens.npy").is_file():
            raise MissingInputError(f"{path} is not a token index (needs optical_ir-index.json with kind 'tokens' "
                                    f"and doclens.npy); build one with python -m optical_ir.index --encoder MODEL "
                                    f"--tokens")
        self.path, self.config = path, config
        index = faiss.read_index(str(path / "index"))
        lengths = np.load(path / "doclens.npy").astype(np.int64)
        self.docids = (path / "docid").read_text(encoding="utf-8").split("\n")[: len(lengths)]
        self.offsets = np.concatenate([[0], np.cumsum(lengths)])
        if int(self.offsets[-1]) != index.ntotal or len(self.docids) != len(lengths):
            raise MissingInputError(f"{path}: its files disagree ({index.ntotal} token vectors, {len(lengths)} "
                                    f"passage lengths, {len(self.docids)} ids); rebuild it with --overwrite")
        self.vectors = np.empty((index.ntotal, index.d), dtype=np.float16)
        for start in range(0, index.ntotal, 65536):  # decode in slices: no float32 copy of the whole index
            n = min(65536, index.ntotal - start)
            self.vectors[start : start + n] = index.reconstruct_n(start, n)
        self.pooled = np.load(path / "pooled.npy")
        self.row = {d: i for i, d in enumerate(self.docids)}
        self._flat: Any = None

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])

    def doc_of_rows(self, rows: np.ndarray) -> np.ndarray:
        """The passage (its position in :attr:`docids`) of each token row."""
        return np.searchsorted(self.offsets, rows, side="right") - 1

    def _flat_index(self) -> Any:
        """The exact inner-product FAISS index of every token vector (float32; built once)."""
        import faiss

        if self._flat is None:
            self._flat = faiss.IndexFlatIP(self.dim)
            for start in range(0, len(self.vectors), 65536):
                self._flat.add(np.ascontiguousarray(self.vectors[start : start + 65536], dtype=np.float32))
        return self._flat

    def token_vectors(self, rows: np.ndarray) -> np.ndarray:
        """The float32 vectors of the token ``rows``.

        Once :meth:`nearest_docs` has built the flat index, they are read from its float32
        storage (a view, no copy: numpy's float16 to float32 conversion is what a MaxSim
        first stage otherwise spends most of its time on); before, converted from
        :attr:`vectors`, so that a reranker over a large index holds no float32 copy.
        """
        if self._flat is None:
            return self.vectors[rows].astype(np.float32)
        import faiss

        flat = faiss.rev_swig_ptr(self._flat.get_xb(), self._flat.ntotal * self._flat.d)
        return flat.reshape(self._flat.ntotal, self._flat.d)[rows]

    def nearest_docs(self, queries: Sequence[np.ndarray], k: int) -> list[np.ndarray]:
        """For each query's token matrix, the passages holding one of the ``k`` nearest tokens
        of one of its tokens (exact inner-product search over all token vectors)."""
        self._flat_index()
        sizes = [len(q) for q in queries]
        if not sum(sizes):
            return [np.zeros(0, dtype=np.int64) for _ in queries]
        _, rows = self._flat.search(np.ascontiguousarray(np.concatenate(queries), dtype=np.float32),
                                    min(k, len(self.vectors)))
        out, start = [], 0
        for n in sizes:
            hit = rows[start : start + n].ravel()
            out.append(np.unique(self.doc_of_rows(hit[hit >= 0])))
            start += n
        return out
