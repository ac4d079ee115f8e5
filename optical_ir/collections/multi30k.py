"""Multi30k test2016 as a CLIR collection: a caption in language X finds the English captions
of the same image.

Multi30k (Elliott et al., 2016): task 1 holds one caption per image translated into
German, French and Czech; task 2 holds five independent English captions per image. Here:

* **documents** — the 5,000 task-2 English captions of the 1,000 test2016 images (doc id
  ``<image>-<k>``, k = 1..5);
* **queries** — the task-1 test2016 caption in language X (query id = image id);
* **qrels** — 1 for each of the five English captions of the same image.
"""

from __future__ import annotations

from typing import NamedTuple

from ir_datasets.formats import TrecQrel

from .. import mirror
from ..languages import get_language
from ._base import NAMESPACE, Built, language_dataset, register, register_pattern

LANGS: tuple[str, ...] = ("de", "fr", "cs", "en")
SPLITS: tuple[str, ...] = ("test2016",)
_T1 = "multi30k/data/task1"
_T2 = "multi30k/data/task2"
QRELS_DEFS = {1: "an English caption of the same image"}


class Multi30kDoc(NamedTuple):
    doc_id: str
    text: str
    image: str

    def default_text(self) -> str:
        return self.text


class Multi30kQuery(NamedTuple):
    query_id: str
    text: str
    lang: str
    english: str
    image: str

    def default_text(self) -> str:
        return self.text


def _image_ids(path: str) -> list[str]:
    return [line.strip().rsplit(".", 1)[0] for line in mirror.read_lines(path)]


def build(code: str) -> Built:
    images = _image_ids(f"{_T2}/image_splits/test_2016_images.txt")
    docs = []
    for k in range(1, 6):
        captions = mirror.read_lines(f"{_T2}/raw/test_2016.{k}.en.gz")
        if len(captions) != len(images):
            raise ValueError(f"task 2 caption file {k} has {len(captions)} lines for {len(images)} images")
        docs += [Multi30kDoc(f"{img}-{k}", c.strip(), img) for img, c in zip(images, captions, strict=True)]
    docs.sort(key=lambda d: (d.image, d.doc_id))
    query_images = _image_ids(f"{_T1}/image_splits/test_2016_flickr.txt")
    text = mirror.read_lines(f"{_T1}/raw/test_2016_flickr.{code}.gz")
    english = mirror.read_lines(f"{_T1}/raw/test_2016_flickr.en.gz")
    known = set(images)
    queries, qrels = [], []
    for img, t, e in zip(query_images, text, english, strict=True):
        if img not in known:
            continue
        queries.append(Multi30kQuery(img, t.strip(), code, e.strip(), img))
        qrels += [TrecQrel(img, f"{img}-{k}", 1, "0") for k in range(1, 6)]
    return Built(docs, queries, qrels)


def dataset_id(code: str, split: str = "test2016") -> str:
    return f"{NAMESPACE}/multi30k/{get_language(code).code}-en/{split}"


def _dataset(code: str) -> object:
    return language_dataset("multi30k", "Multi30k", code, LANGS, build, doc_cls=Multi30kDoc, query_cls=Multi30kQuery,
                            docs_namespace=f"{NAMESPACE}/multi30k/test2016", qrels_defs=QRELS_DEFS)


def register_all() -> None:
    for code in LANGS:
        register(dataset_id(code), _dataset(code))
    register_pattern(rf"^{NAMESPACE}/multi30k/(.+)-en/test2016$", lambda _id, g: _dataset(g[0]))
