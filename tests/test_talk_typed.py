"""Typed commands in a real ``voicecli talk --sim`` session: lines on a pipe (plain view) and
keys on a pseudo-terminal (the rich live view with its prompt line)."""

from __future__ import annotations

import fcntl
import json
import os
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from voicecli.audio import synth

SCENARIO = """
voice = "tone"
latency_ms = 100
realtime = 1.0
[[turns]]
heard = "first question"
reply = "first answer"
duration_s = 1.0
[[turns]]
heard = "second question"
reply = "second answer"
duration_s = 1.0
[[turns]]
heard = "third question"
reply = "third answer"
duration_s = 1.0
"""


@pytest.fixture
def talk_args(tmp_path: Path) -> list[str]:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)
    wav = tmp_path / "in.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.5), (1.0, 1.5), (1.0, 1.0)])
    return [sys.executable, "-m", "voicecli", "talk", "--sim", "--scenario", str(scenario),
            "--input", str(wav)]  # fmt: skip


def test_typed_commands_from_a_pipe(talk_args: list[str]) -> None:
    proc = subprocess.Popen(
        talk_args,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    assert proc.stdin and proc.stdout
    first = [proc.stdout.readline() for _ in range(2)]  # you: ..., gemini: ... of turn 1
    assert "you: first question" in first[0] and "gemini: first answer" in first[1]
    proc.stdin.write("/stats\n/mute\n/style calm and slow\n/bogus\n/quit\n")
    proc.stdin.flush()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "stats: 1 turn (1 spoken, 0 silent, 0 interrupted)" in err
    assert "microphone muted" in err and "unknown command /bogus" in err
    assert "ending the session" in err and "done: " in err
    assert "speaking style now: calm and slow" in err  # a notice, not a user turn
    assert "From now on" not in out and "(typed)" not in out
    assert "third" not in out  # /quit ended the session before the input was over

    listing = subprocess.run(
        [sys.executable, "-m", "voicecli", "history"], capture_output=True, text=True, check=True
    )
    assert "first question" in listing.stdout  # the session was stored
    shown = subprocess.run(
        [sys.executable, "-m", "voicecli", "history", "show", "1"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "· style: calm and slow" in shown.stdout  # the change is in history, as a notice


ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\r")


def test_live_view_and_prompt_in_a_terminal(talk_args: list[str]) -> None:
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(slave)
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen(talk_args, stdin=slave, stdout=slave, stderr=slave, env=env)
    chunks: list[bytes] = []

    def pump() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()

    def screen() -> str:
        return ANSI.sub("", b"".join(chunks).decode("utf-8", "replace"))

    def wait_for(text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in screen():
            assert time.monotonic() < deadline, f"{text!r} not shown:\n{screen()[-2000:]}"
            time.sleep(0.05)

    try:
        wait_for("gemini: first answer")
        wait_for("│ latency")  # the status line (no "mic" while a file streams)
        os.write(master, b"/sta")
        wait_for("› /sta")  # the prompt line draws what is typed
        os.write(master, b"ts\r")
        wait_for("stats: 1 turn (")
        os.write(master, b"/mute\r")
        wait_for("● muted")
        os.write(master, b"/quit\r")
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(0.2)
    text = screen()
    assert "microphone muted" in text and "ending the session" in text
    assert "done: " in text
    after = termios.tcgetattr(slave)
    assert after[3] & termios.ECHO and after[3] & termios.ICANON  # the terminal is restored
    assert after[3] == before[3]
    os.close(slave)
    os.close(master)


FAST_SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "first question"
reply = "first answer"
duration_s = 0.5
"""


def test_json_output_is_only_json_and_no_history(tmp_path: Path) -> None:
    scenario = tmp_path / "fast.toml"
    scenario.write_text(FAST_SCENARIO)
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0)])
    run = subprocess.run(
        [sys.executable, "-m", "voicecli", "talk", "--sim", "--scenario", str(scenario),
         "--input", str(wav), "--fast", "--json", "--no-history"],
        input="/stats\n",
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    records = [json.loads(line) for line in run.stdout.splitlines()]  # every line is JSON
    kinds = [r["type"] for r in records]
    assert all("t" in r for r in records)
    for kind in ("user_speech_end", "audio", "latency", "model_partial", "turn", "usage"):
        assert kind in kinds, kind
    assert kinds[-1] == "session_end"
    assert any(r["type"] == "notice" and r["text"].startswith("stats:") for r in records)
    turn = next(r for r in records if r["type"] == "turn")
    assert turn["model_text"] == "first answer" and turn["outcome"] == "spoken"
    assert "done: 1 turn (" in run.stderr  # status on stderr only
    home = Path(os.environ["VOICECLI_HOME"])
    assert not (home / "history.sqlite3").exists()  # --no-history


def test_json_error_record(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "voicecli", "talk", "--input", str(tmp_path / "missing.wav"),
         "--json", "--base-url", "https://127.0.0.1:9", "--no-history"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "GEMINI_API_KEY": "k"},
    )  # fmt: skip
    assert run.returncode != 0
    records = [json.loads(line) for line in run.stdout.splitlines()]
    assert records[-1]["type"] == "error" and records[-1]["exit_code"] == run.returncode
    assert run.stderr.strip().splitlines()[-1].startswith("error: ")


def test_a_corrupt_history_warns_once_and_the_talk_goes_on(tmp_path: Path) -> None:
    home = Path(os.environ["VOICECLI_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    (home / "history.sqlite3").write_bytes(b"garbage " * 1000)
    scenario = tmp_path / "fast.toml"
    scenario.write_text(FAST_SCENARIO)
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0)])
    run = subprocess.run(
        [sys.executable, "-m", "voicecli", "talk", "--sim", "--scenario", str(scenario),
         "--input", str(wav), "--fast"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "gemini: first answer" in run.stdout
    assert run.stderr.count("history is off for this session") == 1
    warning = next(line for line in run.stderr.splitlines() if "history is off" in line)
    assert warning.startswith("warning: ") and "corrupt" in warning
