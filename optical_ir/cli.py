"""Flag helpers shared by the command-line verbs; they know no domain.

* :func:`parser` — an argument parser whose description is the verb's module text;
* :func:`add_config_flags` / :func:`config_from_args` — flags generated from a typed
  configuration (a dataclass whose fields carry their help text in ``metadata``), so a
  configuration is stated once, with its help, and every verb that takes it agrees;
* :func:`add_encoder_flags`, :func:`add_data_flags` — flags several verbs share;
* :func:`run` — runs a verb's ``main``: an :class:`~optical_ir.errors.OpticalIRError` (bad
  input, a missing file, no GPU …) becomes one line and exit status 2; any other exception
  is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

from .errors import OpticalIRError


def parser(prog: str, doc: str | None) -> argparse.ArgumentParser:
    """An argument parser whose description is the first paragraph of ``doc``."""
    first = (doc or "").strip().split("\n\n")[0]
    return argparse.ArgumentParser(prog=f"python -m optical_ir.{prog}", description=first,
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)


def add_data_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mirror", help="directory holding the public data files (else $OPTICAL_IR_MIRROR; "
                        "files not found there are downloaded from their pinned URLs into $OPTICAL_IR_CACHE)")


def apply_data_flags(args: argparse.Namespace) -> None:
    from . import mirror

    if getattr(args, "mirror", None):
        mirror.set_mirror(args.mirror)


def add_topic_flags(parser: argparse.ArgumentParser, what: str = "searched") -> None:
    """``--dataset``, ``--topics`` and ``--language``: where the queries come from and their language."""
    parser.add_argument("--dataset", help=f"ir_datasets id whose queries are {what} (and, for search, whose documents "
                        f"the default index holds)")
    parser.add_argument("--topics", help="topics instead of the dataset's queries: a 'qid<TAB>text' file, an "
                        "ir_datasets id or a Pyserini topic set")
    parser.add_argument("--language", help="language of the topics (default: the dataset's query language)")


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


def _flag(field: dataclasses.Field) -> str:
    return field.metadata.get("flag") or "--" + field.name.replace("_", "-")


def add_config_flags(target: argparse.ArgumentParser | argparse._ArgumentGroup, cls: type,
                     exclude: Iterable[str] = ()) -> None:
    """One flag per field of the dataclass ``cls``, typed and documented from the field.

    A field's ``metadata`` may hold ``help``, ``flag`` (the option string, default
    ``--field-name``), ``choices`` (a sequence, or a callable returning one) and ``also``
    (extra ``(option string, value)`` pairs that set the field to a fixed value).
    ``tuple[str, ...]`` fields take several values; ``bool`` fields get ``--x/--no-x``.
    """
    hints = typing.get_type_hints(cls)
    skip = set(exclude)
    for field in dataclasses.fields(cls):
        if field.name in skip:
            continue
        kind = hints[field.name]
        default = field.default if field.default is not dataclasses.MISSING else None
        meta = field.metadata
        kwargs: dict[str, Any] = {"dest": field.name, "help": meta.get("help", "")}
        choices = meta.get("choices")
        if callable(choices):
            choices = choices()
        if choices is not None:
            kwargs["choices"] = list(choices)
        optional = typing.get_origin(kind) in (typing.Union, types.UnionType) and type(None) in typing.get_args(kind)
        base = next(a for a in typing.get_args(kind) if a is not type(None)) if optional else kind
        if base is bool:
            kwargs.update(action=argparse.BooleanOptionalAction, default=default)
        elif typing.get_origin(base) is tuple:
            kwargs.update(nargs="+", type=typing.get_args(base)[0], default=list(default or ()))
        else:
            kwargs.update(type=base, default=default)
        target.add_argument(_flag(field), **kwargs)
        for option, value in meta.get("also", ()):
            target.add_argument(option, dest=field.name, action="store_const", const=value,
                                help=f"the same as {_flag(field)} {value}")


def config_from_args(cls: type, args: argparse.Namespace, **fixed: Any) -> Any:
    """An instance of the dataclass ``cls`` from the flags :func:`add_config_flags` added
    (fields not given as flags come from ``fixed``, or keep their defaults)."""
    values: dict[str, Any] = {}
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in fixed:
            values[field.name] = fixed[field.name]
        elif hasattr(args, field.name):
            value = getattr(args, field.name)
            if isinstance(value, list) and typing.get_origin(hints[field.name]) is tuple:
                value = tuple(value)
            values[field.name] = value
    return cls(**values)


def run(main: Callable[[], int], prog: str) -> int:
    """Run a verb's ``main``; an :class:`OpticalIRError` is one line on stderr and exit status 2.

    ``OPTICAL_IR_DEBUG=1`` shows the traceback instead.
    """
    try:
        return main()
    except OpticalIRError as err:
        if os.environ.get("OPTICAL_IR_DEBUG"):
            raise
        print(f"python -m optical_ir.{prog}: error: {err}", file=sys.stderr)
        return 2
