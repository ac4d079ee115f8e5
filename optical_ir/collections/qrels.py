"""The qrels of the embedded collections as TREC files (``python -m optical_ir.export_qrels``).

The judgements of each collection do not depend on the query language (query ids are
shared across languages), so one file per collection and split is written:
``ntrex.test.txt`` (also the qrels of ``test-large``), ``ntrex.train.txt``,
``xquad-r.txt`` and ``multi30k.test2016.txt``.
"""

from __future__ import annotations

from pathlib import Path

EXPORTS: dict[str, str] = {
    "ntrex.test.txt": "optical-ir/ntrex/en-en/test",
    "ntrex.train.txt": "optical-ir/ntrex/en-en/train",
    "xquad-r.txt": "optical-ir/xquad-r/en-en",
    "multi30k.test2016.txt": "optical-ir/multi30k/en-en/test2016",
}


def export_qrels(output_dir: str | Path = "qrels") -> dict[Path, int]:
    """Write every file of :data:`EXPORTS`; returns path → number of judgements."""
    from ir_measures import Qrel

    from ..trec import write_qrels
    from . import load

    written = {}
    for name, dataset_id in EXPORTS.items():
        path = Path(output_dir) / name
        qrels = (Qrel(q.query_id, q.doc_id, q.relevance) for q in load(dataset_id).qrels_iter())
        written[path] = write_qrels(qrels, path)
    return written
