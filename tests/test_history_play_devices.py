"""``voicecli history play`` on the virtual speaker, end to end (issue 16 gap 2).

A ``--fast`` conversation with the simulator's tone voice is stored with its recording
(in process, no devices); then ``history play`` runs as a child process on the virtual
PulseAudio speaker (scripts/vaudio.sh) while the test records the speaker. Each reply is a
sine of its own frequency (440 Hz, then 550 Hz) and known length, so what was played is
measured exactly: the whole session plays both replies and both utterances; ``--turn 2``
plays the second turn only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import make_scenario
from test_devices_e2e import band_runs, read_wav

from voicecli.audio import synth
from voicecli.cli import main

pytestmark = [pytest.mark.devices, pytest.mark.flaky(reruns=2, reruns_delay=1)]

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "first question"
reply = "first answer"
duration_s = 0.8
[[turns]]
heard = "second question"
reply = "second answer"
duration_s = 0.6
"""
PATTERN = [(1.0, 0.8), (0.7, 0.8)]  # (speech s, silence s)


def loud_runs(x: np.ndarray, rate: int, floor: float = 0.01) -> list[tuple[float, float]]:
    """(start s, end s) of 20 ms windows louder than ``floor`` (RMS); 160 ms gaps bridged."""
    n = rate // 50
    frames = x[: len(x) // n * n].reshape(-1, n).astype(np.float64) / 32768
    idx = np.flatnonzero(np.sqrt((frames**2).mean(axis=1)) > floor)
    out: list[tuple[float, float]] = []
    for i in idx:
        if out and i * 0.02 - out[-1][1] <= 0.16:
            out[-1] = (out[-1][0], (i + 1) * 0.02)
        else:
            out.append((i * 0.02, (i + 1) * 0.02))
    return out


@pytest.fixture
def session(sim_factory: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    """Session 1 in the history, with its kept recording."""
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-123456")
    wav = tmp_path / "two.wav"
    synth.make_utterances_wav(wav, PATTERN, rate=16000)
    assert main(["talk", "--fast", "-i", str(wav), "--no-tools"]) == 0
    return 1


def play(vaudio: Any, tmp_path: Path, *args: str) -> tuple[np.ndarray, int, str]:
    """Run ``history play`` as a child on the virtual speaker; what the speaker played."""
    out = tmp_path / f"speaker{'-'.join(args)}.wav"
    with vaudio.record_speaker(out):
        proc = subprocess.run(
            [sys.executable, "-m", "voicecli", "history", "play", *args],
            env={**os.environ},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert proc.returncode == 0, proc.stderr
    x, rate = read_wav(out)
    return x, rate, proc.stderr


def test_history_play_on_the_virtual_speaker(vaudio, session, tmp_path) -> None:
    x, rate, err = play(vaudio, tmp_path, str(session))
    assert "playing session 1:" in err
    first, second = band_runs(x, rate, 440, 0.04), band_runs(x, rate, 550, 0.04)
    assert len(first) == 1 and abs(first[0][1] - first[0][0] - 0.8) < 0.06, first
    assert len(second) == 1 and abs(second[0][1] - second[0][0] - 0.6) < 0.06, second
    assert first[0][1] <= second[0][0]  # in order
    # both utterances too (speech-like, broadband): each before its reply
    speech = [r for r in loud_runs(x, rate) if not any(a - 0.05 <= r[0] < b for a, b in
                                                        first + second)]  # fmt: skip
    assert len(speech) == 2, (speech, first, second)
    for (a, b), (s, _gap) in zip(speech, PATTERN, strict=True):
        assert abs((b - a) - s) < 0.15, speech
    assert speech[0][1] <= first[0][0] + 0.05 and speech[1][1] <= second[0][0] + 0.05


def test_history_play_one_turn(vaudio, session, tmp_path) -> None:
    x, rate, err = play(vaudio, tmp_path, str(session), "--turn", "2")
    assert "playing turn 2 of session 1:" in err
    assert band_runs(x, rate, 440, 0.04) == []  # nothing of the first reply
    second = band_runs(x, rate, 550, 0.04)
    assert len(second) == 1 and abs(second[0][1] - second[0][0] - 0.6) < 0.06, second
    runs = loud_runs(x, rate)
    speech = [r for r in runs if r[1] <= second[0][0] + 0.05]
    assert len(speech) == 1 and abs(speech[0][1] - speech[0][0] - PATTERN[1][0]) < 0.15, runs
    played = sum(b - a for a, b in runs)
    assert played < PATTERN[1][0] + 0.6 + 0.4, runs  # that turn only
