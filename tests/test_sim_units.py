"""Pure parts of the simulator: detector, scenario files, wire helpers, voice."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from voicecli.errors import ConfigError
from voicecli.sim import bundled_scenarios, load_scenario
from voicecli.sim.detect import End, Onset, TurnDetector
from voicecli.sim.protocol import b64decode, close_reason, duration, get, mime_rate
from voicecli.sim.reply import fill, transcript_pieces
from voicecli.sim.testing import dominant_frequency, silence, speechlike
from voicecli.sim.voice import PREBUILT_VOICES, TONE_FREQS_HZ, text_duration, tone


def test_detector_finds_turns_in_audio_time() -> None:
    det = TurnDetector(end_silence_ms=200)
    events = det.feed(silence(0.5) + speechlike(1.0) + silence(0.3) + speechlike(0.4))
    assert isinstance(events[0], Onset) and events[0].at_s == pytest.approx(0.5, abs=0.03)
    assert isinstance(events[1], End)
    assert events[1].reason == "silence"
    assert events[1].speech_s == pytest.approx(1.0, abs=0.05)
    assert events[1].at_s == pytest.approx(1.7, abs=0.05)
    assert isinstance(events[2], Onset) and det.in_speech
    (end,) = det.stream_end()
    assert isinstance(end, End) and end.reason == "stream_end"
    assert det.stream_end() == []


def test_detector_ignores_quiet_noise_and_split_frames() -> None:
    det = TurnDetector()
    rng = __import__("numpy").random.default_rng(1)
    noise = (rng.normal(0, 0.002, 16000) * 32767).astype("<i2").tobytes()  # about -54 dBFS
    assert det.feed(noise) == []
    pcm = speechlike(0.6) + silence(0.85)  # the default needs 800 ms of trailing silence
    events = [e for i in range(0, len(pcm), 333) for e in det.feed(pcm[i : i + 333])]
    assert [type(e) for e in events] == [Onset, End]


def test_bundled_scenarios_load() -> None:
    names = bundled_scenarios()
    assert "default" in names
    for name in names:
        scen = load_scenario(name)
        assert scen.name == name
    default = load_scenario(None)
    assert len(default.turns) >= 3 and all(t.reply for t in default.turns)


def test_scenario_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "s.toml"
    toml.write_text(
        'voice = "tone"\nlatency_ms = 10\n[[turns]]\nheard = "a"\nreply = "b"\n'
        '[[turns]]\ntool_calls = [{name = "f", args = {x = 1}}]\nfault = "drop"\n'
    )
    s = load_scenario(toml)
    assert (s.voice, s.latency_ms, s.turns[0].reply) == ("tone", 10, "b")
    assert s.turns[1].tool_calls[0].args == {"x": 1} and s.turns[1].fault == "drop"
    assert s.turn(5).reply == s.default_reply
    js = tmp_path / "s.json"
    js.write_text(json.dumps({"realtime": 0, "turns": [{"silent": True}]}))
    assert load_scenario(js).turns[0].silent


@pytest.mark.parametrize(
    "text",
    [
        "bogus = 1",
        '[[turns]]\nfault = "explode"',
        'voice = "robot"',
        'fault = "drop"',
        "x =",
        "late_chunks = -1",
        'turn_complete_after_interrupt = "no"',
    ],
)
def test_scenario_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError):
        load_scenario(path)


def test_missing_scenario_names_bundled() -> None:
    with pytest.raises(ConfigError) as info:
        load_scenario("/nonexistent/x.toml")
    assert "default" in (info.value.hint or "")


def test_wire_helpers() -> None:
    raw = bytes(range(256))
    assert b64decode(base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw
    assert b64decode(base64.b64encode(raw).decode()) == raw
    with pytest.raises(ValueError):
        b64decode("!!!")
    assert get({"audioStreamEnd": True}, "audio_stream_end") is True
    assert get({"audio_stream_end": True}, "audio_stream_end") is True
    assert mime_rate("audio/pcm;rate=16000") == 16000 and mime_rate("audio/pcm") is None
    assert duration(5) == "5s" and duration(0.25) == "0.250s"
    assert len(close_reason("é" * 100).encode()) <= 123


def test_fill_and_transcript_pieces() -> None:
    assert fill("It is {result.t} in {result.c}", "", {"t": 3, "c": "Oslo"}) == "It is 3 in Oslo"
    assert fill("{result}", "", {"result": "ok"}) == "ok"
    assert fill("{result}", "", {"a": 1, "b": 2}) == '{"a": 1, "b": 2}'
    assert fill("You said {heard}", "hi", None) == "You said hi"
    assert fill("{other} {result.missing}", "", {}) == "{other} "
    text = "one two three four five"
    for n in (1, 2, 3, 7, 12):
        pieces = transcript_pieces(text, n)
        assert len(pieces) == n and "".join(pieces) == text


def test_tone_is_exact() -> None:
    pcm = tone(TONE_FREQS_HZ[3], 0.5)
    assert len(pcm) == 24000
    assert dominant_frequency(pcm) == pytest.approx(TONE_FREQS_HZ[3], abs=0.5)
    assert text_duration("x" * 10) == 0.7 and text_duration("") == 0.5
    assert {"Kore", "Puck", "Charon", "Fenrir", "Aoede", "Leda", "Orus", "Zephyr"} <= set(
        PREBUILT_VOICES
    )
