"""Issue 18 items 2-5 through the real CLI against the simulator (real SDK, real TLS):
SIGTERM/SIGHUP end a session like Ctrl-C, kill -9 leaves readable WAVs, the key is checked
and never shown (--debug included), MCP start-up failures and an oversized server message
are one line each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest
from conftest import make_scenario, read_live
from test_cli_errors import SECRET, assert_one_line_error, run_cli, sim_env

from voicecli.audio import synth
from voicecli.errors import ExitCode
from voicecli.history import HistoryStore, default_path

SLOW_REPLIES = """
latency_ms = 100
voice = "tone"
[[turns]]
heard = "one"
reply = "first answer"
duration_s = 0.8
[[turns]]
heard = "two"
reply = "second answer"
duration_s = 0.8
"""


@pytest.fixture
def long_talk(tmp_path: Path) -> Path:
    path = tmp_path / "in.wav"  # three utterances, 12 s in all: stopped after the first
    synth.make_utterances_wav(path, [(0.8, 2.5), (0.8, 2.5), (0.8, 4.0)], rate=16000)
    return path


def _start(sim, wav: Path, tmp_path: Path, *extra: str) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "voicecli", "talk", "--input", str(wav), "--no-tools"]
    cmd += ["--output", str(tmp_path / "o.wav"), "--record", str(tmp_path / "r.wav")]
    cmd += ["--transcript", str(tmp_path / "t.jsonl"), *extra]
    return subprocess.Popen(
        cmd,
        env={**os.environ, **sim_env(sim)},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_first_turn(proc: subprocess.Popen[str], transcript: Path, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and proc.poll() is None:
        if '"type":"turn"' in read_live(transcript).replace(" ", ""):
            return
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"no turn before the signal: {proc.communicate()}")


def _valid_wav(path: Path) -> int:
    """Frames in a WAV whose header agrees with its size (what `wave` reads)."""
    with wave.open(str(path)) as w:
        frames, width, channels = w.getnframes(), w.getsampwidth(), w.getnchannels()
        assert len(w.readframes(frames)) == frames * width * channels
    return frames


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_sighup_end_the_session_like_ctrl_c(
    sig: int, sim_factory, long_talk: Path, tmp_path: Path
) -> None:
    sim = sim_factory(make_scenario(SLOW_REPLIES, tmp_path))
    proc = _start(sim, long_talk, tmp_path)
    _wait_first_turn(proc, tmp_path / "t.jsonl")
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "done: 1 turn" in err or "done: 2 turns" in err, err
    assert "Traceback" not in err
    assert _valid_wav(tmp_path / "o.wav") > 0 and _valid_wav(tmp_path / "r.wav") > 0
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    assert records[-1]["type"] == "session_end" and records[-1]["turns"] >= 1
    store = HistoryStore(default_path())
    try:
        (row,) = store.sessions()
        assert row["turns"] >= 1
    finally:
        store.close()
    assert not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_kill_9_leaves_readable_partial_wavs(sim_factory, long_talk: Path, tmp_path) -> None:
    sim = sim_factory(make_scenario(SLOW_REPLIES, tmp_path))
    proc = _start(sim, long_talk, tmp_path, "--no-history")
    _wait_first_turn(proc, tmp_path / "t.jsonl")
    time.sleep(0.5)  # the writer threads catch up
    proc.kill()
    proc.communicate(timeout=10)
    partial_out = list(tmp_path.glob("o.*.partial.wav"))
    partial_rec = list(tmp_path.glob("r.*.partial.wav"))
    assert len(partial_out) == 1 and len(partial_rec) == 1, list(tmp_path.iterdir())
    assert _valid_wav(partial_out[0]) > 0  # the model's first answer
    # the recorder keeps its last few seconds in memory (late audio is placed there):
    # what reached the disk is a valid WAV, maybe empty this early
    assert _valid_wav(partial_rec[0]) >= 0
    assert not (tmp_path / "o.wav").exists()  # never a truncated file under the real name


def test_invisible_character_in_the_key_under_debug(sim_factory, speech_wav: Path) -> None:
    sim = sim_factory()
    key = "AIzaSyFAKE\u200bKEY-0123456789abcdef"
    proc = run_cli("--debug", "talk", "--input", str(speech_wav), env=sim_env(sim, key))
    assert proc.returncode == int(ExitCode.AUTH), proc.stderr
    line = [x for x in proc.stderr.splitlines() if x.startswith("error:")]
    assert line and "invisible character at position 11" in line[0], proc.stderr
    everything = proc.stdout + proc.stderr
    for piece in (key, key.replace("\u200b", ""), "AIzaSyFAKE", "KEY-0123456789abcdef"):
        assert piece not in everything


@pytest.mark.parametrize("key", ["   ", "\t\n"])
def test_a_key_of_whitespace_is_one_line(sim_factory, speech_wav: Path, key: str) -> None:
    proc = run_cli("talk", "--input", str(speech_wav), env=sim_env(sim_factory(), key))
    assert_one_line_error(proc, ExitCode.AUTH, "empty")
    assert "***" not in proc.stderr


def test_a_one_letter_key_is_hidden_without_garbling(sim_factory, speech_wav: Path) -> None:
    sim = sim_factory(api_key="the-only-right-key-0000")
    proc = run_cli("--debug", "talk", "--input", str(speech_wav), env=sim_env(sim, "e"))
    assert proc.returncode == int(ExitCode.AUTH), proc.stderr
    line = [x for x in proc.stderr.splitlines() if x.startswith("error:")][0]
    assert "API key not valid" in line and "***" not in line, line  # the message intact
    assert "x-goog-api-key: ***" in proc.stderr  # --debug's header dump: hidden there
    assert "api-key: e\n" not in proc.stderr


@pytest.fixture
def speech_wav(tmp_path: Path) -> Path:
    path = tmp_path / "q.wav"
    synth.make_utterances_wav(path, [(0.2, 0.5)], rate=16000)
    return path


@pytest.mark.parametrize(
    "name,code,words",
    [
        ("silent", "import time; time.sleep(30)", ["'silent'", "did not answer"]),
        (
            "chatty",
            "import time; print('hello, not JSON', flush=True); time.sleep(30)",
            ["'chatty'", "not MCP", "hello, not JSON"],
        ),
    ],
)
def test_mcp_start_up_failures_are_one_line_exit_10(
    sim_factory, speech_wav: Path, tmp_path: Path, name: str, code: str, words: list[str]
) -> None:
    config = tmp_path / "config.toml"
    argv = json.dumps([sys.executable, "-c", code])
    config.write_text(f'[[mcp_servers]]\nname = "{name}"\ncommand = {argv}\nstartup_timeout = 1\n')
    proc = run_cli(
        "talk",
        "--input",
        str(speech_wav),
        "--fast",
        "--config",
        str(config),
        env=sim_env(sim_factory()),
    )
    assert_one_line_error(proc, ExitCode.TOOL, *words)
    assert "ExceptionGroup" not in proc.stderr and "pydantic" not in proc.stderr


def test_a_server_message_over_1_mib_is_not_retried(sim_factory, speech_wav, tmp_path) -> None:
    huge = "x" * (1100 * 1024)  # a tool call argument over the websocket's 1 MiB limit
    scenario = make_scenario(
        f'[[turns]]\nheard = "calc"\nreply = "{{result}}"\n'
        f'tool_calls = [{{name = "calculator", args = {{expression = "{huge}"}}}}]\n',
        tmp_path,
    )
    sim = sim_factory(scenario)
    proc = run_cli("talk", "--input", str(speech_wav), "--fast", env=sim_env(sim), timeout=90)
    assert_one_line_error(proc, ExitCode.SERVER, "1009", "1 MiB")
    assert len(sim.sessions) == 1, "a message that cannot be received is not asked for again"
    assert max(len(line) for line in proc.stderr.splitlines()) < 400
    assert SECRET not in proc.stdout + proc.stderr
