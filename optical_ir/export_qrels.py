"""Export the qrels of the embedded collections as TREC files (into ``qrels/``).

One file per collection and split (:mod:`optical_ir.collections.qrels`).

Command line::

    python -m optical_ir.export_qrels [--output-dir qrels]
"""

from __future__ import annotations

from collections.abc import Sequence

from . import cli


def main(argv: Sequence[str] | None = None) -> int:
    parser = cli.parser("export_qrels", __doc__)
    parser.add_argument("--output-dir", default="qrels", help="directory for the qrels files")
    cli.add_data_flags(parser)
    args = parser.parse_args(argv)
    cli.apply_data_flags(args)
    from .collections.qrels import export_qrels
    from .files import check_writable

    check_writable(args.output_dir, directory=True)
    for path, n in export_qrels(args.output_dir).items():
        print(f"{path}\t{n} judgements")
    return 0


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "export_qrels"))
