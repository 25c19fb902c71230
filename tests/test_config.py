"""Settings precedence: flags > environment > config file > defaults; key lookup; errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from voicecli import config as cfg
from voicecli.errors import ConfigError


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOICECLI_HOME", str(tmp_path))
    for var in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL", "SSL_CERT_FILE"):
        monkeypatch.delenv(var, raising=False)
    return tmp_path


def test_defaults_without_file(home: Path) -> None:
    s = cfg.load(env={})
    assert s.model == "gemini-3.8-live"
    assert s.vad == "webrtc" and s.frame_ms == 20
    assert s.api_key is None


def test_precedence_flags_env_file_defaults(home: Path) -> None:
    (home / "config.toml").write_text('model = "from-file"\nvoice = "Kore"\nstyle = "calm"\n')
    env = {"VOICECLI_VOICE": "Puck", "VOICECLI_STYLE": "excited"}
    s = cfg.load(env=env, flags={"style": "whisper", "voice": None})
    assert s.model == "from-file"  # file beats default
    assert s.voice == "Puck"  # env beats file
    assert s.style == "whisper"  # flag beats env


def test_env_values_are_typed(home: Path) -> None:
    s = cfg.load(env={"VOICECLI_VAD_AGGRESSIVENESS": "3", "VOICECLI_AFFECTIVE": "yes"})
    assert s.vad_aggressiveness == 3 and s.affective is True
    with pytest.raises(ConfigError, match="VOICECLI_TIMEOUT"):
        cfg.load(env={"VOICECLI_TIMEOUT": "soon"})


def test_bad_config_file_is_one_clear_error(home: Path) -> None:
    (home / "config.toml").write_text("model = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        cfg.load(env={})
    (home / "config.toml").write_text('modle = "x"\n')
    with pytest.raises(ConfigError, match="unknown setting 'modle'"):
        cfg.load(env={})
    (home / "config.toml").write_text('vad = "maybe"\n')
    with pytest.raises(ConfigError, match="vad must be one of"):
        cfg.load(env={})
    (home / "config.toml").write_text("frame_ms = true\n")
    with pytest.raises(ConfigError, match="frame_ms must be"):
        cfg.load(env={})


def test_explicit_missing_config_is_an_error(home: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        cfg.load(home / "nope.toml", env={})


def test_key_lookup_order_and_storage(home: Path) -> None:
    (home / "config.toml").write_text('api_key = "file-key"\n')
    assert cfg.load(env={"GEMINI_API_KEY": "g", "GOOGLE_API_KEY": "o"}).api_key == "o"
    assert cfg.load(env={"GEMINI_API_KEY": "g"}).api_key == "g"
    assert cfg.load(env={}).api_key == "file-key"
    (home / "config.toml").unlink()
    path = cfg.store_api_key("stored-key\n")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert cfg.load(env={}).api_key == "stored-key"


def test_key_never_in_repr(home: Path) -> None:
    s = cfg.load(env={"GEMINI_API_KEY": "secret-value-123"})
    assert "secret-value-123" not in repr(s)
    assert cfg.redact("bad key secret-value-123", s.api_key) == "bad key ***"


def test_base_url_and_ca_from_sdk_variables(home: Path) -> None:
    s = cfg.load(env={"GOOGLE_GEMINI_BASE_URL": "https://x:1", "SSL_CERT_FILE": "/ca.pem"})
    assert s.base_url == "https://x:1" and s.ca_file == "/ca.pem"


def test_every_setting_is_documented_in_example() -> None:
    example = (Path(__file__).parent.parent / "config.example.toml").read_text()
    for name in cfg.Settings.__dataclass_fields__:
        if name not in ("tables", "key_problem", "file_warnings"):
            assert f"{name} =" in example, f"{name} missing from config.example.toml"


def test_key_remove_twice_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    from voicecli.cli import main

    path = cfg.store_api_key("k-123")
    assert main(["key", "remove"]) == 0
    assert f"removed {path}" in capsys.readouterr().err
    assert main(["key", "remove"]) == 0
    err = capsys.readouterr().err
    assert "removed" not in err and "no key stored" in err


@pytest.mark.parametrize(
    ("where", "message"),
    [
        ("flag", r"^unknown voice 'Nobody' \(`voicecli voices` lists them\)$"),
        ("file", r"config.toml:1: unknown voice 'Nobody'"),  # issue 31: with the line
        ("env", r"^VOICECLI_VOICE: unknown voice 'Nobody'"),
    ],
)
def test_voices_are_checked_from_the_voice_table_wherever_they_come_from(
    tmp_path: Path, where: str, message: str
) -> None:
    import re

    from voicecli.errors import VoicecliError

    conf = tmp_path / "config.toml"
    conf.write_text('voice = "Nobody"\n' if where == "file" else "")
    env = {"VOICECLI_VOICE": "Nobody"} if where == "env" else {}
    flags = {"voice": "Nobody"} if where == "flag" else {}
    with pytest.raises(VoicecliError) as info:
        cfg.load(conf, flags, env=env)
    assert re.search(message, info.value.one_line()), info.value.one_line()
    assert info.value.exit_code == 2


def test_a_voice_close_to_a_real_one_gets_a_suggestion_and_case_is_forgiven() -> None:
    from voicecli.errors import UsageError

    with pytest.raises(UsageError) as info:
        cfg.load(None, {"voice": "Kroe"}, env={})
    assert info.value.one_line().startswith("unknown voice 'Kroe' (did you mean Kore?")
    s = cfg.load(None, {"voice": "puck", "tts_voice": "zephyr"}, env={})
    assert (s.voice, s.tts_voice) == ("Puck", "Zephyr")


@pytest.mark.parametrize("command", ["talk", "listen", "say"])
def test_every_command_refuses_an_unknown_voice_the_same_way(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from voicecli.cli import main

    args = [command, "--sim", "--voice", "Nobody"]
    args += ["hi", "-o", "x.wav"] if command == "say" else ["--input", "missing.wav"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: unknown voice 'Nobody' (`voicecli voices` lists them)"]
