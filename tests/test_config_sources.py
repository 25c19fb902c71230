"""Issue 31, item 10: a config error says where the value came from (file and line, or the
environment variable); an unknown key gets a did-you-mean; ``voicecli config`` shows the
settings in effect and their sources, ``voicecli config --example`` every setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from voicecli import config as cfg
from voicecli.cli import main
from voicecli.errors import ConfigError


def _home_config(text: str) -> Path:
    path = Path(os.environ["VOICECLI_HOME"]) / "config.toml"
    path.write_text(text)
    return path


def test_a_bad_value_in_the_file_names_file_and_line() -> None:
    path = _home_config('model = "gemini-3.8-live"\n\nvad = "webrtcc"\n')
    with pytest.raises(ConfigError) as e:
        cfg.load()
    assert e.value.message.startswith(f"{path}:3: vad must be one of")


def test_a_bad_value_in_the_environment_names_the_variable() -> None:
    with pytest.raises(ConfigError) as e:
        cfg.load(env={"VOICECLI_VAD": "nope"})
    assert e.value.message.startswith("VOICECLI_VAD: vad must be one of")


def test_an_unknown_key_gets_a_suggestion_and_a_command_not_a_missing_file() -> None:
    path = _home_config('voise = "Kore"\n')
    with pytest.raises(ConfigError) as e:
        cfg.load()
    assert e.value.message == f"{path}:1: unknown setting 'voise'"
    assert "did you mean 'voice'?" in (e.value.hint or "")
    assert "voicecli config --example" in (e.value.hint or "")


def test_config_shows_each_setting_and_where_it_came_from(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _home_config('model = "gemini-3.1-flash-live-preview"\n')
    monkeypatch.setenv("VOICECLI_VAD", "silero")
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert rows["model"][1:] == ["gemini-3.1-flash-live-preview", f"{path}:1"]
    assert rows["vad"][1:] == ["silero", "VOICECLI_VAD"]
    assert rows["echo"][-1] == "default"
    assert "api_key" in rows


def test_config_example_is_shipped(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--example"]) == 0
    out = capsys.readouterr().out
    root = Path(__file__).parent.parent / "config.example.toml"
    assert out == root.read_text()
    for name in ("model =", "vad =", "turn_detection ="):
        assert name in out
