import hashlib
from pathlib import Path

import pytest

from optical_ir import mirror
from optical_ir.mirror import ChecksumError, ManifestEntry, MissingDataError

from .conftest import needs_mirror


def test_manifest_pins_urls_and_md5() -> None:
    entry = mirror.manifest()["ntrex-128/DOCUMENT_IDS.tsv"]
    assert entry.url.startswith("https://raw.githubusercontent.com/MicrosoftTranslator/NTREX/")
    assert len(entry.md5) == 32 and entry.size > 0


def test_missing_file_names_file_url_and_mirror_variable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPTICAL_IR_MIRROR", str(tmp_path / "empty"))
    monkeypatch.setenv("OPTICAL_IR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("OPTICAL_IR_OFFLINE", "1")
    with pytest.raises(MissingDataError) as err:
        mirror.fetch("ntrex-128/DOCUMENT_IDS.tsv")
    message = str(err.value)
    assert "ntrex-128/DOCUMENT_IDS.tsv" in message
    assert mirror.manifest()["ntrex-128/DOCUMENT_IDS.tsv"].url in message
    assert "OPTICAL_IR_MIRROR" in message


def test_unknown_path_is_an_error() -> None:
    with pytest.raises(MissingDataError, match="not a file of the toolkit's manifest"):
        mirror.fetch("no/such/file.txt")


def _entry_for(path: Path, name: str) -> ManifestEntry:
    data = path.read_bytes()
    return ManifestEntry(name, path.as_uri(), hashlib.md5(data).hexdigest(), len(data))


def test_download_checks_md5_and_lands_in_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = tmp_path / "upstream.txt"
    upstream.write_text("hello\n")
    monkeypatch.setenv("OPTICAL_IR_MIRROR", "")
    monkeypatch.setenv("OPTICAL_IR_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("OPTICAL_IR_OFFLINE", raising=False)
    local = mirror.fetch("x/upstream.txt", _entry_for(upstream, "x/upstream.txt"))
    assert local == tmp_path / "cache" / "data" / "x" / "upstream.txt"
    assert local.read_text() == "hello\n"
    bad = _entry_for(upstream, "x/other.txt")._replace(md5="0" * 32)
    with pytest.raises(MissingDataError, match="md5"):
        mirror.fetch("x/other.txt", bad)
    assert not (tmp_path / "cache" / "data" / "x" / "other.txt").exists()


def test_modified_mirror_file_fails_the_checksum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ntrex-128").mkdir()
    (tmp_path / "ntrex-128" / "DOCUMENT_IDS.tsv").write_text("changed\n")
    mirror.set_mirror(tmp_path)
    try:
        with pytest.raises(ChecksumError, match="md5"):
            mirror.fetch("ntrex-128/DOCUMENT_IDS.tsv")
    finally:
        mirror.set_mirror(None)


@needs_mirror
def test_mirror_file_is_found_and_verified() -> None:
    path = mirror.fetch("ntrex-128/DOCUMENT_IDS.tsv")
    assert mirror.md5sum(path) == mirror.manifest()["ntrex-128/DOCUMENT_IDS.tsv"].md5
    assert len(mirror.read_lines("ntrex-128/DOCUMENT_IDS.tsv")) == 1997
