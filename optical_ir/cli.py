"""Flags shared by the command-line verbs (defined once, used everywhere)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mirror", help="directory holding the public data files (else $OPTICAL_IR_MIRROR; "
                        "files not found there are downloaded from their pinned URLs into $OPTICAL_IR_CACHE)")


def apply_data_flags(args: argparse.Namespace) -> None:
    from . import mirror

    if getattr(args, "mirror", None):
        mirror.set_mirror(args.mirror)


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose description is the first paragraph of ``doc``."""
    first = (doc or "").strip().split("\n\n")[0]
    return argparse.ArgumentParser(prog=f"python -m optical_ir.{prog}", description=first,
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def add_encoder_flags(parser: argparse.ArgumentParser) -> None:
    """Flags that give or override a model's encoder configuration (optical_ir-encoder.json)."""
    group = parser.add_argument_group(
        "encoder configuration", "needed for a model without optical_ir-encoder.json (e.g. a Hugging Face id); "
        "otherwise they override the saved values")
    group.add_argument("--pooling", choices=["mean", "cls"], help="token vectors → one vector")
    group.add_argument("--query-prefix", help="text put before each query, verbatim (e5: 'query: ')")
    group.add_argument("--passage-prefix", help="text put before each passage, verbatim (e5: 'passage: ')")
    group.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None,
                       help="L2-normalise the vectors")
    group.add_argument("--max-length", type=int, help="tokens kept per text")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")


def encoder_config_flags(args: argparse.Namespace) -> dict[str, object]:
    return {k: getattr(args, k, None) for k in ("pooling", "query_prefix", "passage_prefix", "normalize",
                                                 "max_length")}


USER_ERRORS: tuple[type[BaseException], ...] = (OSError, ValueError)
"""Missing or unreadable files (``MissingDataError``, ``FileExistsError`` … are ``OSError``s) and bad
input (``UnknownLanguageError``, ``EncoderConfigError``, ``TrecFormatError`` … are ``ValueError``s)."""


def run(main: Callable[[], int], prog: str) -> int:
    """Run a verb's ``main``; a user error (bad input, missing file, wrong Java) is one line, exit 2.

    ``OPTICAL_IR_DEBUG=1`` shows the traceback instead.
    """
    from .jvm import JavaError

    try:
        return main()
    except (*USER_ERRORS, JavaError) as err:
        if os.environ.get("OPTICAL_IR_DEBUG"):
            raise
        print(f"python -m optical_ir.{prog}: error: {err}", file=sys.stderr)
        return 2


def add_table_flags(parser: argparse.ArgumentParser) -> None:
    """Flags of the eflomal lexical table (``translate --method table``, ``search --psq``)."""
    from .translate.table import TableConfig

    d = TableConfig(lang="sw")
    group = parser.add_argument_group("lexical translation table (eflomal, learned from bitext)")
    group.add_argument("--sources", nargs="+", default=list(d.sources),
                       help="bitext sources: ntrex tatoeba mafand multi30k, or all")
    group.add_argument("--min-prob", type=float, default=d.min_prob, help="drop translations with p(e|f) below this")
    group.add_argument("--top-k", type=int, default=d.top_k, help="at most this many translations per word")
    group.add_argument("--cumulative", type=float, default=d.cumulative,
                       help="keep translations until their probability mass reaches this")
    group.add_argument("--table", help="directory of the table (default: under $OPTICAL_IR_CACHE/translation/tables)")
    group.add_argument("--relearn", action="store_true", help="learn the table again even if it is saved")


def table_from_args(args: argparse.Namespace, lang: str) -> object:
    """The lexical table the table flags describe, learned on first use (a ``TranslationTable``)."""
    from .translate.table import TableConfig, learn_table

    config = TableConfig(lang=lang, sources=tuple(args.sources), min_prob=args.min_prob, top_k=args.top_k,
                         cumulative=args.cumulative)
    return learn_table(config, args.table, args.relearn)
