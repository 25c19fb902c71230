"""Issue 3 errors through the real CLI: one line, a documented exit code, no traceback,
never the key; and the scripted CLI run end to end against the simulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_scenario

from voicecli.audio import synth
from voicecli.errors import ExitCode

SECRET = "fake-key-THIS-IS-A-SECRET-TEST-KEY-0123456789"


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 60):
    full_env = {
        k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "voicecli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def assert_one_line_error(proc, code: ExitCode, *words: str) -> None:
    assert proc.returncode == int(code), proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in lines[0], lines[0]
    assert SECRET not in proc.stdout + proc.stderr


@pytest.fixture
def speech_wav(tmp_path: Path) -> Path:
    path = tmp_path / "in.wav"
    synth.make_utterances_wav(path, [(1.0, 0.6)], rate=22050)
    return path


def sim_env(sim, key: str = SECRET) -> dict[str, str]:
    return {**sim.env(), "GEMINI_API_KEY": key}


def test_no_key_says_how_and_mentions_sim(speech_wav: Path) -> None:
    proc = run_cli("talk", "--input", str(speech_wav))
    assert_one_line_error(proc, ExitCode.AUTH, "no API key", "--sim")


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"RIFF\x00\x00garbage-not-audio", ("in.wav",)), (b"", ("in.wav",))],
)
def test_corrupt_or_empty_audio(tmp_path: Path, content: bytes, words: tuple[str, ...]) -> None:
    bad = tmp_path / "in.wav"
    bad.write_bytes(content)
    proc = run_cli("talk", "--sim", "--input", str(bad))
    assert_one_line_error(proc, ExitCode.AUDIO, *words)


@pytest.mark.parametrize("command", ["talk", "listen"])
def test_missing_audio_file(tmp_path: Path, command: str) -> None:
    proc = run_cli(command, "--sim", "--input", str(tmp_path / "nope.wav"))
    assert_one_line_error(proc, ExitCode.AUDIO, "nope.wav")
    # checked before any banner ("voicecli: ... speaking FILE", "tools: ...")
    assert proc.stderr.strip().splitlines() == [
        f"error: audio file not found: {tmp_path / 'nope.wav'} (check the path)"
    ]


def test_unknown_model_refused_before_connecting(speech_wav: Path) -> None:
    proc = run_cli("talk", "--sim", "--input", str(speech_wav), "--model", "gemini-9-live")
    assert_one_line_error(proc, ExitCode.MODEL, "gemini-9-live")


def test_impossible_combination_refused(speech_wav: Path) -> None:
    proc = run_cli("talk", "--sim", "--input", str(speech_wav), "--no-proactive")
    assert_one_line_error(proc, ExitCode.USAGE, "proactive")


def test_bad_config_file(tmp_path: Path, speech_wav: Path) -> None:
    conf = tmp_path / "c.toml"
    conf.write_text("vad = [")
    proc = run_cli("talk", "--sim", "--input", str(speech_wav), "--config", str(conf))
    assert_one_line_error(proc, ExitCode.USAGE, "c.toml")


def test_server_rejects_key(sim_factory, speech_wav: Path) -> None:
    sim = sim_factory(api_key="the-only-good-key")
    proc = run_cli("talk", "--input", str(speech_wav), env=sim_env(sim))
    assert_one_line_error(proc, ExitCode.AUTH, "1007", "key")


def test_untrusted_certificate(sim_factory, speech_wav: Path) -> None:
    sim = sim_factory()
    env = {"GOOGLE_GEMINI_BASE_URL": sim.base_url, "GEMINI_API_KEY": SECRET}
    proc = run_cli("talk", "--input", str(speech_wav), env=env)
    assert_one_line_error(proc, ExitCode.NETWORK, "not trusted")


def test_connection_refused(speech_wav: Path) -> None:
    env = {"GEMINI_API_KEY": SECRET}
    proc = run_cli("talk", "--input", str(speech_wav), "--base-url", "https://127.0.0.1:9", env=env)
    assert_one_line_error(proc, ExitCode.NETWORK, "cannot connect")


@pytest.mark.parametrize(
    ("fault", "code", "word"),
    [("close_1011", ExitCode.SERVER, "1011"), ("drop", ExitCode.NETWORK, "1006")],
)
def test_server_faults_mid_reply(sim_factory, tmp_path, speech_wav, fault, code, word) -> None:
    """With reconnects turned off, a fault ends the run with a clear error; files are kept."""
    scenario = make_scenario(
        f'voice = "tone"\nlatency_ms = 50\n[[turns]]\nreply = "x"\nduration_s = 2\nfault = "{fault}"\n',
        tmp_path,
    )
    sim = sim_factory(scenario)
    out = tmp_path / "reply.wav"
    transcript = tmp_path / "t.jsonl"
    proc = run_cli(
        "talk",
        "--input",
        str(speech_wav),
        "--output",
        str(out),
        "--transcript",
        str(transcript),
        env={**sim_env(sim), "VOICECLI_RECONNECT_ATTEMPTS": "0"},
    )
    assert_one_line_error(proc, code, word)
    assert out.exists() and transcript.exists()  # what was received is kept and finalized
    import soundfile as sf

    assert sf.info(str(out)).frames >= 0


def test_debug_shows_traceback(speech_wav: Path) -> None:
    proc = run_cli("--debug", "talk", "--input", str(speech_wav))
    assert proc.returncode == int(ExitCode.AUTH)
    assert "Traceback" in proc.stderr


def test_scripted_cli_run_against_sim(tmp_path: Path) -> None:
    wav = tmp_path / "in.flac"
    synth.make_utterances_wav(wav, [(1.0, 1.0), (1.2, 1.0)], rate=44100, subtype="PCM_24")
    scenario = tmp_path / "s.toml"
    scenario.write_text(
        'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n'
        '[[turns]]\nheard = "one"\nreply = "uno"\nduration_s = 0.5\n'
        '[[turns]]\nheard = "two"\nreply = "dos"\nduration_s = 0.7\n'
    )
    proc = run_cli(
        "talk",
        "--sim",
        "--scenario",
        str(scenario),
        "--input",
        str(wav),
        "--fast",
        "--output",
        str(tmp_path / "r.wav"),
        "--record",
        str(tmp_path / "c.wav"),
        "--transcript",
        str(tmp_path / "t.jsonl"),
    )
    assert proc.returncode == 0, proc.stderr
    assert "you: one" in proc.stdout and "gemini: dos" in proc.stdout
    assert "2 spoken" in proc.stderr
    records = [json.loads(x) for x in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert [r["model_text"] for r in records if r["type"] == "turn"] == ["uno", "dos"]
    import soundfile as sf

    assert abs(sf.info(str(tmp_path / "r.wav")).duration - 1.2) < 0.01
    assert sf.info(str(tmp_path / "c.wav")).channels == 2


def test_debug_logs_never_show_the_key(sim_factory, speech_wav: Path) -> None:
    """--debug turns on library logs (the websocket dumps its request headers): redacted."""
    sim = sim_factory()
    proc = run_cli("--debug", "talk", "--input", str(speech_wav), "--no-history", env=sim_env(sim))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "x-goog-api-key: ***" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


def test_summary_line_counts_in_words() -> None:
    from voicecli.live.conversation import Summary
    from voicecli.ui.summary import format_summary

    one = format_summary(Summary(turns=1, spoken=1, total_tokens=1, reconnects=1, malformed=1))
    assert one.startswith("done: 1 turn (1 spoken, 0 silent by choice, 0 interrupted, ")
    assert "1 malformed message skipped, 1 reconnect)" in one and "; 1 token (in: " in one
    two = format_summary(Summary(turns=2, total_tokens=0))
    assert two.startswith("done: 2 turns (") and "; 0 tokens (in: " in two
