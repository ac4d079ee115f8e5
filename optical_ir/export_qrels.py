"""Export the qrels of the embedded collections as TREC files (into ``qrels/``).

The judgements of each collection do not depend on the query language (query ids are
shared across languages), so one file per collection and split is written:
``qrels/ntrex.test.txt`` (also the qrels of ``test-large``), ``qrels/ntrex.train.txt``,
``qrels/xquad-r.txt`` and ``qrels/multi30k.test2016.txt``.

Command line::

    python -m optical_ir.export_qrels [--output-dir qrels]
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import cli

EXPORTS: dict[str, str] = {
    "ntrex.test.txt": "optical-ir/ntrex/en-en/test",
    "ntrex.train.txt": "optical-ir/ntrex/en-en/train",
    "xquad-r.txt": "optical-ir/xquad-r/en-en",
    "multi30k.test2016.txt": "optical-ir/multi30k/en-en/test2016",
}


def export_qrels(output_dir: str | Path = "qrels") -> dict[Path, int]:
    """Write every file of :data:`EXPORTS`; returns path → number of judgements."""
    from ir_measures import Qrel

    from .collections import load
    from .trec import write_qrels

    written = {}
    for name, dataset_id in EXPORTS.items():
        path = Path(output_dir) / name
        qrels = (Qrel(q.query_id, q.doc_id, q.relevance) for q in load(dataset_id).qrels_iter())
        written[path] = write_qrels(qrels, path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("export_qrels", __doc__)
    parser.add_argument("--output-dir", default="qrels", help="directory for the qrels files")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    for path, n in export_qrels(args.output_dir).items():
        print(f"{path}\t{n} judgements")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "export_qrels"))
