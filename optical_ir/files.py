"""Files and directories written so that nothing is lost: atomic writes, safe replacement, readers.

* :func:`atomic_write` / :func:`atomic_text` write beside the target and rename into place;
  a crash leaves the old file and no partial one.
* :func:`replace_dir` puts a finished directory in place of another in two renames (the old
  one is moved aside first, then deleted), so a reader never finds the path missing.
* :func:`check_replaceable` refuses to delete a directory that is not the toolkit's own
  output (it must hold one of the marker files, or be empty).
* :func:`check_writable` finds out before the work starts that an output cannot be written.
* :func:`iter_lines` reads a text file, gzip-compressed or not, line by line: it drops a
  leading UTF-8 byte-order mark, and a decoding error or a truncated ``.gz`` names the file
  (and the line).
"""

from __future__ import annotations

import gzip
import io
import os
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from .errors import DataFormatError, MissingInputError, OutputError

BOM = "\ufeff"


@contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w") -> Iterator[IO]:
    """Write to a temporary file beside ``path`` and rename it into place on success.

    A crash or an exception leaves any earlier ``path`` untouched and no partial file. A
    target that exists and is not a regular file (``/dev/null``, a pipe) is written directly,
    never replaced.
    """
    target = Path(path)
    if target.exists() and not target.is_file():
        with open(target, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
        return
    _mkdir(target.parent)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_text(path: str | os.PathLike[str]) -> Iterator[IO[str]]:
    """:func:`atomic_write` for text, gzip-compressed (with a fixed header) when ``path`` ends in ``.gz``."""
    if not str(path).endswith(".gz"):
        with atomic_write(path) as f:
            yield f
        return
    with atomic_write(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            io.TextIOWrapper(gz, encoding="utf-8", newline="\n") as f:
        yield f


def _mkdir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        blocking = next((p for p in [directory, *directory.parents] if p.exists() and not p.is_dir()), None)
        why = f"{blocking} is a file, not a directory" if blocking else (err.strerror or str(err))
        raise OutputError(f"cannot create the directory {directory}: {why}") from None


def check_writable(path: str | os.PathLike[str], directory: bool = False) -> Path:
    """Make sure ``path`` (a file, or with ``directory`` a directory) can be written, before the work.

    Creates the missing parent directories and writes and removes a probe file there.

    Raises
    ------
    OutputError
        Naming the path and the reason (a parent that is a file, no permission, a read-only
        file system).
    """
    target = Path(path)
    if not directory and target.is_dir():
        raise OutputError(f"{target} is a directory; give a file name as the output")
    parent = target if directory else target.parent
    _mkdir(parent)
    try:
        fd, probe = tempfile.mkstemp(dir=parent, prefix=".optical_ir-probe-")
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise OutputError(f"cannot write into {parent}: {err.strerror or err}; choose another output") from None
    return target


def check_replaceable(directory: str | os.PathLike[str], markers: Iterable[str], what: str) -> None:
    """Refuse to replace ``directory`` unless it is empty or holds one of the ``markers``.

    ``what`` names the toolkit's output kind in the message (``a student``, ``an index``).

    Raises
    ------
    OutputError
        If ``directory`` is a file, the working directory or one of its ancestors, or a
        directory holding none of the markers.
    """
    d = Path(directory)
    if not d.exists():
        return
    if not d.is_dir():
        raise OutputError(f"{d} is a file, not {what}; choose another output")
    resolved, cwd = d.resolve(), Path.cwd().resolve()
    if resolved == cwd or resolved in cwd.parents:
        raise OutputError(f"{d} is the working directory or holds it; it is never replaced")
    names = list(markers)
    if any((d / m).exists() for m in names) or not any(d.iterdir()):
        return
    raise OutputError(f"{d} is not {what} (it holds none of {', '.join(names)}) and is not empty: it is never "
                      f"deleted; choose another output")


def replace_dir(new: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Put the finished directory ``new`` at ``target``, replacing what is there, in two renames.

    The old ``target`` is renamed aside, ``new`` renamed in, and only then is the old one
    deleted: at every moment ``target`` is either the old directory or the new one.
    """
    new, target = Path(new), Path(target)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    try:
        os.replace(new, target)
    except OSError:
        if old is not None:
            os.replace(old, target)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


def iter_lines(path: str | os.PathLike[str]) -> Iterator[tuple[int, str]]:
    """``(line number, line)`` of a text file, line ends kept; see the module text.

    Raises
    ------
    DataFormatError
        For bytes that are not UTF-8 (with the line number) or a truncated or corrupt ``.gz``.
    MissingInputError
        If there is no such file.
    """
    if not Path(path).is_file():
        raise MissingInputError(f"no file {path}")
    lineno = 0
    try:
        # decoded in blocks (lines end at "\n" only, as in the bytes); a decoding error is
        # then located line by line
        with io.TextIOWrapper(_open_bytes(path), encoding="utf-8", newline="\n") as f:
            try:
                for lineno, line in enumerate(f, 1):
                    yield lineno, (line[1:] if lineno == 1 and line.startswith(BOM) else line)
            except UnicodeDecodeError:
                _raise_decoding_error(path, after=lineno)
                raise
    except (EOFError, gzip.BadGzipFile, zlib.error) as err:
        raise DataFormatError(path, f"a truncated or corrupt gzip file ({err}); make it again") from None


def _open_bytes(path: str | os.PathLike[str]) -> IO[bytes]:
    return gzip.open(path, "rb") if str(path).endswith(".gz") else open(path, "rb")  # type: ignore[return-value]


def _raise_decoding_error(path: str | os.PathLike[str], after: int) -> None:
    """Raise the :class:`DataFormatError` of the first line after line ``after`` that is not UTF-8."""
    with _open_bytes(path) as f:
        for lineno, raw in enumerate(f, 1):
            if lineno <= after:
                continue
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as err:
                raise DataFormatError(path, f"not valid UTF-8 (byte {err.start + 1} of the line); save the "
                                            f"file as UTF-8", lineno) from None
