"""Issue 14 item 6: a failed run is stored with its failure (kind and message) or not at all,
never as an empty session; ``voicecli history`` says talk/listen, sim/real and the outcome.
Issue 16 item 4: usage by modality and an estimated cost are stored and shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from voicecli.audio import synth
from voicecli.cli import main
from voicecli.history import HistoryStore, default_path

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "hello there"
reply = "hi back"
duration_s = 0.5
"""


@pytest.fixture
def speech_wav(tmp_path: Path) -> Path:
    path = tmp_path / "in.wav"
    synth.make_utterances_wav(path, [(0.8, 0.8)], rate=16000)
    return path


def rows() -> list[dict]:
    if not default_path().exists():
        return []
    store = HistoryStore(default_path())
    try:
        return store.sessions()
    finally:
        store.close()


def test_refused_runs_store_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["talk", "--sim", "--fast", "-i", str(tmp_path / "missing.wav")]) != 0
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage")
    assert main(["talk", "--sim", "--fast", "-i", str(bad)]) != 0
    assert rows() == []
    assert main(["history"]) == 0
    assert "no conversations stored yet" in capsys.readouterr().out


def test_rejected_key_is_stored_as_a_failure(
    tmp_path: Path, speech_wav: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text('api_key = "the-right-key"\n')
    monkeypatch.setenv("GEMINI_API_KEY", "a-wrong-key-123456")
    code = main(["talk", "--sim", "--scenario", str(scen), "--fast", "-i", str(speech_wav)])
    assert code == 3
    (row,) = rows()
    assert (row["outcome"], row["error_kind"], row["command"], row["sim"]) == (
        "error",
        "auth",
        "talk",
        1,
    )
    assert "API key" in row["error_message"] and "a-wrong-key" not in row["error_message"]
    capsys.readouterr()
    assert main(["history"]) == 0
    listing = capsys.readouterr().out
    assert "talk" in listing and "sim" in listing and "auth!" in listing
    assert main(["history", "show", str(row["id"])]) == 0
    assert "failed (auth)" in capsys.readouterr().out


def test_usage_by_modality_and_cost(tmp_path: Path, speech_wav: Path, capsys) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text(SCENARIO)
    args = ["talk", "--sim", "--scenario", str(scen), "--fast", "-i", str(speech_wav)]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "tokens (in: " in err and "about $" in err  # the summary line
    (row,) = rows()
    assert (row["outcome"], row["command"], row["sim"]) == ("ok", "talk", 1)
    assert row["prompt_audio_tokens"] > 0 and row["response_audio_tokens"] > 0
    assert row["cost_usd"] > 0
    store = HistoryStore(default_path())
    data = store.session(row["id"])
    store.close()
    assert data["usage"][0]["turn_idx"] == data["turns"][0]["idx"]
    assert main(["history", "show", str(row["id"])]) == 0
    shown = capsys.readouterr().out
    assert "cost: about $" in shown and "tokens]" in shown and "outcome: ok" in shown


def test_price_table_from_config(tmp_path: Path, speech_wav: Path, capsys) -> None:
    scen = tmp_path / "s.toml"
    scen.write_text(SCENARIO)
    cfg = tmp_path / "config.toml"
    cfg.write_text(
        "[prices.default]\naudio_in = 0\ntext_in = 0\naudio_out = 0\ntext_out = 0\n"
        '[prices."gemini-3.8-live"]\naudio_out = 1000000\n'
    )
    args = ["talk", "--sim", "--scenario", str(scen), "--fast", "-i", str(speech_wav)]
    assert main([*args, "--config", str(cfg)]) == 0
    (row,) = rows()
    assert row["cost_usd"] == pytest.approx(row["response_audio_tokens"], rel=1e-6)
