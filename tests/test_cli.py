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


def test_the_distill_flags_are_generated_from_the_config(monkeypatch: pytest.MonkeyPatch,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    import dataclasses

    import optical_ir.distillation as distillation
    from optical_ir.distill import main

    seen = {}
    monkeypatch.setattr(distillation, "distill", lambda config, output, *a: seen.setdefault("config", config))
    assert main(["--language", "sw", "so", "--output", "s", "--method", "token-position", "--lr", "1e-4",
                 "--sources", "ntrex", "tatoeba", "--backprop-through-sinkhorn", "--no-freeze-embeddings",
                 "--train-layers", "2"]) == 0
    config = seen["config"]
    assert config.languages == ("sw", "so") and config.method == "token-position" and config.lr == 1e-4
    assert config.sources == ("ntrex", "tatoeba") and config.detach_plan is False
    assert config.freeze_embeddings is False and config.train_layers == 2 and config.max_pairs is None
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    for field in dataclasses.fields(distillation.DistillConfig):
        flag = field.metadata.get("flag") or "--" + field.name.replace("_", "-")
        assert flag in text and field.metadata["help"].split()[0] in text, field.name
    with pytest.raises(SystemExit) as stop:
        main(["--output", "s"])  # no language
    assert stop.value.code == 2
    with pytest.raises(SystemExit) as stop:
        main(["--language", "sw", "--output", "s", "--method", "ot"])  # choices from the loss registry
    assert stop.value.code == 2 and "invalid choice: 'ot'" in capsys.readouterr().err
