"""TREC run and qrels files: strict readers (errors give the line number), atomic writers.

A run line is ``qid Q0 docid rank score tag``; a qrels line is ``qid iter docid rel``.
Records are ir-measures' own ``ScoredDoc`` and ``Qrel`` tuples, so they go straight into
``ir_measures.calc_aggregate`` / ``iter_calc``. A path ending in ``.gz`` is read and
written gzip-compressed (written reproducibly: no time stamp or name in the header).
"""

from __future__ import annotations

import gzip
import io
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ir_measures import Qrel, ScoredDoc

Run = dict[str, dict[str, float]]
"""query id → doc id → score."""


class TrecFormatError(ValueError):
    """A malformed line in a TREC run or qrels file."""

    def __init__(self, path: str | os.PathLike[str], lineno: int, line: str, why: str) -> None:
        super().__init__(f"{path}, line {lineno}: {why}: {line.rstrip()!r}")
        self.path, self.lineno = str(path), lineno


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
    target.parent.mkdir(parents=True, exist_ok=True)
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


def open_text(path: str | os.PathLike[str]) -> IO[str]:
    """A text file for reading, decompressed on the fly when its name ends in ``.gz``."""
    if str(path).endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8")
    return open(path, encoding="utf-8")


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


def iter_run(path: str | os.PathLike[str]) -> Iterator[ScoredDoc]:
    """Scored documents of a TREC run file, validated line by line."""
    with open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 6:
                raise TrecFormatError(path, lineno, line,
                                      f"expected 6 columns (qid Q0 docid rank score tag), got {len(parts)}")
            qid, _, docid, rank, score, _ = parts
            try:
                int(rank)
            except ValueError:
                raise TrecFormatError(path, lineno, line, f"rank {rank!r} is not an integer") from None
            try:
                value = float(score)
            except ValueError:
                raise TrecFormatError(path, lineno, line, f"score {score!r} is not a number") from None
            if not math.isfinite(value):
                raise TrecFormatError(path, lineno, line, f"score {score!r} is not finite")
            yield ScoredDoc(qid, docid, value)


def read_run(path: str | os.PathLike[str]) -> Run:
    """A run as ``{qid: {docid: score}}``; a docid twice for one query is an error."""
    run: Run = {}
    for lineno, sd in enumerate(iter_run(path), 1):
        hits = run.setdefault(sd.query_id, {})
        if sd.doc_id in hits:
            raise TrecFormatError(path, lineno, f"{sd.query_id} {sd.doc_id}", "document listed twice for this query")
        hits[sd.doc_id] = sd.score
    return run


def iter_qrels(path: str | os.PathLike[str]) -> Iterator[Qrel]:
    """Judgements of a TREC qrels file, validated line by line."""
    with open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.split()
            if len(parts) != 4:
                raise TrecFormatError(path, lineno, line, f"expected 4 columns (qid iter docid rel), got {len(parts)}")
            qid, _, docid, rel = parts
            try:
                relevance = int(rel)
            except ValueError:
                raise TrecFormatError(path, lineno, line, f"relevance {rel!r} is not an integer") from None
            yield Qrel(qid, docid, relevance)


def sorted_hits(hits: Mapping[str, float]) -> list[tuple[str, float]]:
    """Hits by decreasing score, ties broken by doc id (as trec_eval orders them)."""
    return sorted(hits.items(), key=lambda kv: (-kv[1], kv[0]))


def write_run(run: Mapping[str, Mapping[str, float]], path: str | os.PathLike[str], tag: str,
              query_order: Sequence[str] | None = None) -> None:
    """Write a TREC run atomically; queries in ``query_order`` (default: as given)."""
    if not tag or any(c.isspace() for c in tag):
        raise ValueError(f"run tag {tag!r} must be a non-empty word without spaces")
    order = list(query_order) if query_order is not None else list(run)
    with atomic_text(path) as f:
        for qid in order:
            for rank, (docid, score) in enumerate(sorted_hits(run.get(qid, {})), 1):
                f.write(f"{qid} Q0 {docid} {rank} {score:.6f} {tag}\n")


def write_qrels(qrels: Iterable[Qrel], path: str | os.PathLike[str]) -> int:
    """Write qrels atomically (``qid 0 docid rel``); returns the number of lines."""
    n = 0
    with atomic_write(path) as f:
        for q in qrels:
            f.write(f"{q.query_id} 0 {q.doc_id} {q.relevance}\n")
            n += 1
    return n


def read_topics(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Topics from a TSV file of ``qid<TAB>text`` lines (Pyserini's format).

    An empty text is kept (the searcher reports it); a line without a tab is an error.
    """
    topics, seen = [], set()
    with open_text(path) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            if "\t" not in line:
                raise TrecFormatError(path, lineno, line, "expected 'qid<TAB>query text'")
            qid, text = line.rstrip("\r\n").split("\t", 1)
            if not qid.strip() or any(c.isspace() for c in qid.strip()):
                raise TrecFormatError(path, lineno, line, "query id must be one non-empty word")
            if qid in seen:
                raise TrecFormatError(path, lineno, line, f"query id {qid!r} repeated")
            seen.add(qid)
            topics.append((qid.strip(), text.strip()))
    return topics


def write_topics(topics: Iterable[tuple[str, str]], path: str | os.PathLike[str]) -> None:
    """Write ``qid<TAB>text`` topics atomically (tabs and newlines in text become spaces)."""
    with atomic_write(path) as f:
        for qid, text in topics:
            f.write(f"{qid}\t{' '.join(text.split())}\n")
