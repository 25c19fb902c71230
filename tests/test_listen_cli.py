"""``voicecli listen`` as a user runs it: the CLI in a child process against the simulator.
With the virtual PulseAudio speaker, the recording is heard while it is streamed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import read_live

from voicecli.audio import synth
from voicecli.errors import ExitCode

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "how was your weekend"
silent = true
[[turns]]
heard = "we made fresh pasta"
reply = "Salt the water well."
duration_s = 0.5
[[turns]]
heard = "what did they make"
reply = "Fresh pasta."
duration_s = 0.5
"""


def voicecli(
    *args: str, stdin: str | None = None, timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GEMINI_API_KEY", "GOOGLE_API_KEY")}
    return subprocess.run(
        [sys.executable, "-m", "voicecli", *args],
        input=stdin,
        stdin=None if stdin is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    scenario = tmp_path / "scenario.toml"
    scenario.write_text(SCENARIO)
    wav = tmp_path / "podcast.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.8), (1.0, 1.0)], rate=22050)
    return scenario, wav


def test_listen_to_a_file_quietly(files: tuple[Path, Path], tmp_path: Path) -> None:
    scenario, wav = files
    out = tmp_path / "t.jsonl"
    proc = voicecli(
        "listen", "--sim", "--scenario", str(scenario), "--input", str(wav), "--quiet",
        "--topic", "Italian cooking", "--transcript", str(out), "--no-history",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "gemini: (chose not to answer)" in proc.stdout
    assert "gemini: Salt the water well." in proc.stdout
    assert "topics: Italian cooking" in proc.stderr and "(not played)" in proc.stderr
    assert "done: 2 turns (1 spoken, 1 silent by choice, 0 interrupted)" in proc.stderr
    end = json.loads(out.read_text().splitlines()[-1])
    assert (end["type"], end["spoken"], end["silent"]) == ("session_end", 1, 1)


def test_then_talk_with_typed_questions(files: tuple[Path, Path], tmp_path: Path) -> None:
    scenario, wav = files
    proc = voicecli(
        "listen", "--sim", "--scenario", str(scenario), "--input", str(wav), "--quiet", "--fast",
        "--then-talk", "--output", str(tmp_path / "reply.wav"), "--no-history",
        stdin="what did they make\n",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    typed = next(i for i, line in enumerate(lines) if "you (typed): what did they make" in line)
    assert "gemini: Fresh pasta." in lines[typed + 1]
    assert any("Salt the water well." in line for line in lines[:typed])  # heard first
    assert "the recording is over" in proc.stderr
    assert "2 spoken, 1 silent by choice" in proc.stderr
    reply, rate = sf.read(tmp_path / "reply.wav")
    assert len(reply) / rate == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--quiet"], "need --input"),
        (["--then-talk"], "need --input"),
        (["--input", "{wav}", "--fast"], "--fast needs --quiet"),
        (
            ["--sim", "--input", "{wav}", "--quiet", "-m", "gemini-3.1-flash-live-preview"],
            "does not support proactive audio",
        ),
    ],
)
def test_usage_errors(files: tuple[Path, Path], args: list[str], words: str) -> None:
    _, wav = files
    proc = voicecli("listen", *(a.replace("{wav}", str(wav)) for a in args), "--no-history")
    assert proc.returncode == int(ExitCode.USAGE), proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and words in errors[0]


def test_help_lists_the_listen_flags() -> None:
    proc = voicecli("listen", "--help")
    assert proc.returncode == 0
    for flag in ("--topic", "--quiet", "--then-talk", "--input", "--system", "--record"):
        assert flag in proc.stdout


@pytest.mark.devices
def test_the_recording_is_played_while_streamed(vaudio, files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    scenario, wav = files
    with vaudio.record_speaker(tmp_path / "speaker.wav") as rec:
        proc = voicecli(
            "listen", "--sim", "--scenario", str(scenario), "--input", str(wav),
            "--no-history", "--echo", "off",
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "not playing" not in proc.stderr and "(not played)" not in proc.stderr
    heard, rate = sf.read(rec)
    heard = heard if heard.ndim == 1 else heard.mean(axis=1)
    win = rate // 50  # 20 ms windows
    rms = np.sqrt(np.mean(heard[: len(heard) // win * win].reshape(-1, win) ** 2, axis=1))
    # the two utterances (2 s of speech) and the reply (0.5 s) came out of the speaker
    assert 2.2 <= (rms > 0.01).sum() * 0.02 <= 3.2


def turns(transcript: Path) -> int:
    """Turn records so far (the JSON lines are compact: ``"type":"turn"``; counting
    ``"type": "turn"`` found none, so the test waited out its deadline every time)."""
    records = []
    for line in read_live(transcript).splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line being written
            records.append(json.loads(line))
    return sum(r.get("type") == "turn" for r in records)


@pytest.mark.devices
def test_listen_to_the_room_through_the_microphone(vaudio, files, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Without --input: the microphone and speaker as talk opens them; Ctrl-C ends."""
    scenario, _ = files
    room = tmp_path / "room.wav"
    synth.make_utterances_wav(room, [(1.0, 2.0), (1.0, 1.0)], rate=48000)
    transcript = tmp_path / "t.jsonl"
    cmd = [sys.executable, "-m", "voicecli", "listen", "--sim", "--scenario", str(scenario)]
    cmd += ["--echo", "off", "--transcript", str(transcript), "--no-history", "-t", "pasta"]
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        vaudio.wait_mic_open(30)
        vaudio.play_into_mic(room)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and turns(transcript) < 2:
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert proc.returncode == 0, err
    assert "gemini: (chose not to answer)" in out and "gemini: Salt the water well." in out
    assert "echo: off" in err and "topics: pasta" in err
    assert "(1 spoken, 1 silent by choice" in err
