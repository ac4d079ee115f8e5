"""Command-line verbs report user errors in one line (exit 2), not with a traceback."""

from __future__ import annotations

import pytest

from optical_ir import cli


def _fails() -> int:
    from optical_ir.languages import get_language

    get_language("xx")
    return 0


def test_user_error_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPTICAL_IR_DEBUG", raising=False)
    assert cli.run(_fails, "search") == 2
    err = capsys.readouterr().err
    assert err.startswith("python -m optical_ir.search: error: unknown language code 'xx'")
    assert "Traceback" not in err
    monkeypatch.setenv("OPTICAL_IR_DEBUG", "1")
    with pytest.raises(ValueError, match="unknown language code"):
        cli.run(_fails, "search")


def test_search_flags_that_need_an_encoder() -> None:
    from optical_ir.search import main

    with pytest.raises(SystemExit) as stop:
        main(["--dataset", "optical-ir/ntrex/sw-en/test", "--output", "x.trec", "--rerank"])
    assert stop.value.code == 2
