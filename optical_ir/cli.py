"""Flags shared by the command-line verbs (defined once, used everywhere)."""

from __future__ import annotations

import argparse


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
