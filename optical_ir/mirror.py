"""Access to the public data files: a local mirror, the download cache, or the pinned URL.

Every file the toolkit reads is listed in ``optical_ir/resources/manifest.tsv`` with its
upstream URL (pinned to a commit), md5 and size. :func:`fetch` returns a local path for a
manifest path, looking in this order:

1. a mirror directory laid out like the upstream repositories — the ``--mirror`` option of
   the command-line tools (:func:`set_mirror`), else the ``OPTICAL_IR_MIRROR`` environment
   variable (several directories separated by ``os.pathsep`` are allowed);
2. the download cache, ``OPTICAL_IR_CACHE`` (default ``~/.cache/optical_ir``), under ``data/``;
3. the pinned upstream URL, downloaded into the cache and checked against the md5.

Set ``OPTICAL_IR_OFFLINE=1`` to forbid step 3. Nothing here runs at import time.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from .errors import MissingInputError, OpticalIRError

MIRROR_ENV = "OPTICAL_IR_MIRROR"
CACHE_ENV = "OPTICAL_IR_CACHE"
OFFLINE_ENV = "OPTICAL_IR_OFFLINE"

_mirror_override: list[Path] | None = None
_verified: dict[tuple[str, int, float], str] = {}


class ManifestEntry(NamedTuple):
    """One public file: its path under the mirror, pinned URL, md5 and size in bytes."""

    path: str
    url: str
    md5: str
    size: int


class MissingDataError(MissingInputError):
    """A data file is neither in a mirror, nor in the cache, nor downloadable."""


class ChecksumError(OpticalIRError, OSError):
    """A data file's md5 differs from the manifest's."""


@lru_cache(maxsize=1)
def manifest() -> dict[str, ManifestEntry]:
    """The manifest of every public file the toolkit may read, keyed by mirror path."""
    text = resources.files("optical_ir.resources").joinpath("manifest.tsv").read_text("utf-8")
    rows = csv.DictReader(text.splitlines(), delimiter="\t")
    return {
        r["local_path"]: ManifestEntry(r["local_path"], r["upstream_url"], r["md5"], int(r["bytes"]))
        for r in rows
    }


def cache_dir() -> Path:
    """Root of the toolkit's cache (downloads, indexes): ``$OPTICAL_IR_CACHE``."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "optical_ir")


def set_mirror(path: str | os.PathLike[str] | None) -> None:
    """Use ``path`` as the mirror directory (what ``--mirror`` sets); ``None`` resets."""
    global _mirror_override
    if path is None:
        _mirror_override = None
        return
    p = Path(path)
    if not p.is_dir():
        raise MissingInputError(f"mirror directory {p} does not exist; give --mirror a directory laid out like "
                                f"the upstream repositories (e.g. ../shared/data)")
    _mirror_override = [p]


def mirror_dirs() -> list[Path]:
    """The mirror directories in force, first match wins."""
    if _mirror_override is not None:
        return list(_mirror_override)
    value = os.environ.get(MIRROR_ENV, "")
    return [Path(p) for p in value.split(os.pathsep) if p]


def md5sum(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _check(path: Path, entry: ManifestEntry) -> Path:
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime)
    if key not in _verified:
        _verified[key] = md5sum(path)
    if _verified[key] != entry.md5:
        raise ChecksumError(
            f"{path} has md5 {_verified[key]}, but the manifest pins {entry.md5} for "
            f"{entry.path} ({entry.url}). Replace the file with an unmodified copy, or delete "
            f"it so that it is downloaded again."
        )
    return path


def _entry(path: str) -> ManifestEntry:
    try:
        return manifest()[path]
    except KeyError:
        raise MissingDataError(
            f"{path!r} is not a file of the toolkit's manifest (optical_ir/resources/manifest.tsv)"
        ) from None


def fetch(path: str, entry: ManifestEntry | None = None) -> Path:
    """Local path of the manifest file ``path`` (mirror, cache, or download).

    Raises
    ------
    MissingDataError
        If the file is in no mirror and cannot be downloaded; the message names the file,
        its URL and the mirror variable.
    ChecksumError
        If a local or downloaded copy does not match the manifest's md5.
    """
    entry = entry or _entry(path)
    local = _local_copy(entry)
    if local is not None:
        return _check(local, entry)
    cached = cache_dir() / "data" / entry.path
    searched = ", ".join(str(m) for m in mirror_dirs()) or "none set"
    if os.environ.get(OFFLINE_ENV, "") not in ("", "0"):
        raise MissingDataError(
            f"data file {entry.path} is missing: not in the mirror ({searched}) and "
            f"{OFFLINE_ENV} forbids downloading it from {entry.url}. Point {MIRROR_ENV} "
            f"(or --mirror) at a directory that holds it, or unset {OFFLINE_ENV}."
        )
    try:
        _download(entry, cached)
    except (OSError, ValueError) as err:
        raise MissingDataError(
            f"data file {entry.path} is missing: not in the mirror ({searched}) and the "
            f"download from {entry.url} failed ({err}). Point {MIRROR_ENV} (or --mirror) "
            f"at a directory that holds it, laid out as the upstream repository."
        ) from err
    return cached


def _download(entry: ManifestEntry, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(entry.url, timeout=60) as resp:
            shutil.copyfileobj(resp, out)
        got = md5sum(Path(tmp))
        if got != entry.md5:
            raise ChecksumError(f"downloaded md5 {got} differs from the pinned {entry.md5}")
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def read_lines(path: str) -> list[str]:
    """The lines of a manifest text file (``.gz`` is decompressed), without line ends."""
    return list(iter_lines(path))


def iter_lines(path: str) -> Iterator[str]:
    local = fetch(path)
    opener = gzip.open if local.suffix == ".gz" else open
    with opener(local, "rt", encoding="utf-8", newline="") as f:  # type: ignore[operator]
        for line in f:
            yield line.rstrip("\r\n")


def read_text(path: str) -> str:
    return fetch(path).read_text(encoding="utf-8")


def exists(path: str) -> bool:
    """Whether ``path`` is a file of the manifest (it may still have to be downloaded)."""
    return path in manifest()


def _local_copy(entry: ManifestEntry) -> Path | None:
    """The first copy of ``entry`` in the mirror directories, then the cache (unchecked), if any."""
    for candidate in [m / entry.path for m in mirror_dirs()] + [cache_dir() / "data" / entry.path]:
        if candidate.is_file():
            return candidate
    return None


def is_local(path: str) -> bool:
    """Whether the manifest file ``path`` is on this machine (a mirror or the cache): no download needed."""
    return _local_copy(_entry(path)) is not None
