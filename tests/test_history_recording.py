"""Issue 16 gap 1: the kept recording and the times stored with it agree. A ``--fast`` run
lays the two-sided recording end to end (not on the wall clock); the SRT cues and the
``history play --turn`` span must point at the audio they describe. Real SDK, real TLS
websocket, the simulator's tone voice (each reply one sine of known length)."""

from __future__ import annotations

from dataclasses import astuple
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
import srt
from conftest import make_scenario

from voicecli import audio_history
from voicecli.audio import synth
from voicecli.cli import main
from voicecli.history import HistoryStore, default_path
from voicecli.live.events import TurnSpan
from voicecli.live.timeline import RecordingClock

SCENARIO = """
voice = "tone"
latency_ms = 50
realtime = 0
[[turns]]
heard = "first question"
reply = "first answer"
duration_s = 1.0
[[turns]]
heard = "second question"
reply = "second answer"
duration_s = 0.6
[[turns]]
heard = "third question"
reply = "third answer"
duration_s = 0.8
"""
PATTERN = [(1.2, 0.8), (0.8, 0.8), (1.0, 0.8)]
WIN_S = 0.02  # energy in 20 ms windows


def use_sim(sim: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in sim.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("GEMINI_API_KEY", "test-key-123456")


def loud(x: np.ndarray, rate: int, floor: float = 0.01) -> np.ndarray:
    """Per 20 ms window: is it louder than ``floor`` of full scale (RMS)?"""
    n = int(rate * WIN_S)
    frames = x[: len(x) // n * n].reshape(-1, n).astype(np.float64) / 32768
    return np.sqrt((frames**2).mean(axis=1)) > floor


def runs(mask: np.ndarray, bridge: int = 8) -> list[tuple[float, float]]:
    """(start s, end s) of the loud runs; gaps up to ``bridge`` windows (syllable dips)
    are bridged."""
    idx = np.flatnonzero(mask)
    if not idx.size:
        return []
    out, start, prev = [], idx[0], idx[0]
    for i in idx[1:]:
        if i - prev > bridge:
            out.append((start * WIN_S, (prev + 1) * WIN_S))
            start = i
        prev = i
    out.append((start * WIN_S, (prev + 1) * WIN_S))
    return out


def inside(run: tuple[float, float], cue: tuple[float, float], slack: float = 0.1) -> bool:
    return cue[0] - slack <= run[0] and run[1] <= cue[1] + slack


def test_fast_run_cues_and_turns_match_the_recording(
    sim_factory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    sim = sim_factory(make_scenario(SCENARIO, tmp_path))
    use_sim(sim, monkeypatch)
    wav = tmp_path / "three.wav"
    synth.make_utterances_wav(wav, PATTERN, rate=16000)
    assert main(["talk", "--fast", "-i", str(wav)]) == 0
    store = HistoryStore(default_path())
    try:
        data = store.session(1)
    finally:
        store.close()
    assert [t["outcome"] for t in data["turns"]] == ["spoken"] * 3
    rec, rate = sf.read(data["audio_path"], dtype="int16", always_2d=True)
    duration = len(rec) / rate
    you, model = runs(loud(rec[:, 0], rate)), runs(loud(rec[:, 1], rate))
    assert len(you) == 3 and len(model) == 3, (you, model)
    for (a, b), (speech_s, _gap) in zip(you, PATTERN, strict=True):
        assert abs((b - a) - speech_s) < 0.1, you  # each utterance in one piece
    for (a, b), reply_s in zip(model, (1.0, 0.6, 0.8), strict=True):
        assert abs((b - a) - reply_s) < 0.05, model

    capsys.readouterr()
    assert main(["history", "export", "1", "--format", "srt"]) == 0
    cues = list(srt.parse(capsys.readouterr().out))
    who = [c.content.split(":")[0] for c in cues]
    assert who == ["you", "gemini"] * 3, who
    spans = [(c.start.total_seconds(), c.end.total_seconds()) for c in cues]
    shown = list(zip(who, spans, strict=True))
    assert all(end <= duration + 0.05 for _, end in spans), (shown, duration)
    # each cue lies on the audio it names: your utterance on the left, the reply on the
    # right, and the other side is silent under it
    for k in range(3):
        (u0, u1), (m0, m1) = spans[2 * k], spans[2 * k + 1]
        assert inside(you[k], (u0, u1)), (k, you[k], shown)
        assert inside(model[k], (m0, m1)), (k, model[k], shown)
        assert abs((u1 - u0) - (you[k][1] - you[k][0])) < 0.15, (k, you[k], shown)
        assert abs((m1 - m0) - (model[k][1] - model[k][0])) < 0.1, (k, model[k], shown)
        for a, b in model:
            assert b <= u0 + 0.05 or a >= u1 - 0.05, ("a reply under your cue", k, shown)
        for a, b in you:
            assert b <= m0 + 0.05 or a >= m1 - 0.05, ("your speech under a reply", k, shown)

    # --turn N: that turn's utterance and reply, nothing of the others
    for n in (1, 2, 3):
        start, end = audio_history.turn_span(data, n)
        assert end <= duration + 0.5
        frames, frate = audio_history.read(Path(data["audio_path"]), start, end)
        got_you = runs(loud(frames[:, 0], frate))
        got_model = runs(loud(frames[:, 1], frate))
        assert len(got_you) == 1 and len(got_model) == 1, (n, start, end, got_you, got_model)
        want_you, want_model = you[n - 1], model[n - 1]
        assert abs((got_you[0][1] - got_you[0][0]) - (want_you[1] - want_you[0])) < 0.1
        assert abs((got_model[0][1] - got_model[0][0]) - (want_model[1] - want_model[0])) < 0.05
        assert start <= want_you[0] and want_model[1] <= end


def test_fast_clock_lays_audio_end_to_end() -> None:
    """The pure clock: with --fast each reply after its utterance, the next after it."""
    clock = RecordingClock(fast=True)
    for _ in range(10):  # 0.2 s of silence, then 0.4 s of speech
        clock.user(0.02, 0.001)
    clock.user(0.02, 0.001)
    clock.speech_started()
    for _ in range(19):
        clock.user(0.02, 0.002)
        clock.speech()
    for _ in range(10):  # hangover
        clock.user(0.02, 0.003)
    clock.speech_ended()
    assert clock.model(0.5, 0.004) == pytest.approx(0.8)
    clock.model(0.5, 0.005)
    span = clock.turn_ended(0.006)
    assert astuple(span) == pytest.approx((0.2, 0.6, 0.8, 1.8))
    assert clock.user(0.02, 0.007) == pytest.approx(1.8)  # the next input after the reply
    assert clock.turn_ended(0.008).user_start is None  # a fresh span per turn


def test_real_time_clock_follows_the_session_clock() -> None:
    clock = RecordingClock()
    assert clock.user(0.02, 1.0) == 1.0
    clock.speech_started()
    assert clock.model(0.5, 2.0) == 2.0
    assert clock.model(0.5, 2.1) == 2.5  # a burst: laid end to end
    assert clock.cut(2.7) == 2.7 and clock.model(0.1, 2.71) == pytest.approx(2.71)
    assert clock.turn_ended(3.0) == TurnSpan(1.0, None, 2.0, 3.0)
