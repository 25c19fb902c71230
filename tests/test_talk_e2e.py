"""Issue 3 end to end: a WAV file in, a Live conversation with the simulator through the real
SDK over TLS, the reply out (WAV, two-sided recording, transcript)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import make_scenario

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.sim.testing import dominant_frequency
from voicecli.sim.voice import tone_frequency

TONE_SCENARIO = """
voice = "tone"
latency_ms = 100
realtime = 0
[[turns]]
heard = "first question"
reply = "first answer"
duration_s = 0.8
[[turns]]
heard = "second question"
reply = "second answer"
duration_s = 1.2
[[turns]]
heard = "third question"
reply = "third answer"
duration_s = 0.6
"""

PATTERN = [(1.2, 1.5), (1.0, 1.5), (1.4, 1.0)]


def settings_for(sim, **kw) -> Settings:
    return Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="test-key", **kw)


def segments(x: np.ndarray, threshold: float = 0.05) -> list[tuple[int, int]]:
    """Runs of non-silent samples (gaps shorter than 10 ms are bridged)."""
    loud = np.abs(x) > threshold
    idx = np.flatnonzero(loud)
    if idx.size == 0:
        return []
    runs, start, prev = [], idx[0], idx[0]
    for i in idx[1:]:
        if i - prev > 240:
            runs.append((start, prev + 1))
            start = i
        prev = i
    runs.append((start, prev + 1))
    return runs


@pytest.fixture
def three_utterances(tmp_path: Path) -> tuple[Path, list]:
    path = tmp_path / "in.wav"
    spans = synth.make_utterances_wav(path, PATTERN, rate=48000, channels=2)
    return path, spans


async def test_multi_turn_conversation_from_file(sim_factory, tmp_path, three_utterances) -> None:
    sim = sim_factory(make_scenario(TONE_SCENARIO, tmp_path))
    wav, spans = three_utterances
    req = TalkRequest(
        input=wav,
        output=tmp_path / "reply.wav",
        record=tmp_path / "conv.wav",
        transcript=tmp_path / "t.jsonl",
        fast=True,
    )
    summary = await run_talk(settings_for(sim), req)
    assert (summary.turns, summary.spoken, summary.utterances) == (3, 3, 3)
    assert len(summary.latencies_s) == 3

    # the reply: three tones, one per turn, with the scripted durations and frequencies
    reply, rate = sf.read(tmp_path / "reply.wav")
    assert rate == 24000 and reply.ndim == 1
    assert abs(len(reply) / rate - (0.8 + 1.2 + 0.6)) < 0.01
    bounds = np.cumsum([0, 0.8, 1.2, 0.6])
    for n in range(3):
        seg = reply[int(bounds[n] * rate) + 100 : int(bounds[n + 1] * rate) - 100]
        assert abs(dominant_frequency(seg, rate) - tone_frequency(n)) < 3

    # transcript: user and model lines per turn, times, usage, the closing summary
    records = [json.loads(line) for line in (tmp_path / "t.jsonl").read_text().splitlines()]
    turns = [r for r in records if r["type"] == "turn"]
    assert [t["user_text"] for t in turns] == [
        "first question",
        "second question",
        "third question",
    ]
    assert [t["model_text"] for t in turns] == ["first answer", "second answer", "third answer"]
    assert all(t["outcome"] == "spoken" and t["latency_s"] > 0 for t in turns)
    assert [r["t"] for r in records] == sorted(r["t"] for r in records)
    assert any(r["type"] == "usage" for r in records)
    assert records[-1]["type"] == "session_end" and records[-1]["turns"] == 3

    # the two-sided recording: stereo 24 kHz, user on the left, model on the right
    rec, rrate = sf.read(tmp_path / "conv.wav")
    assert rrate == 24000 and rec.shape[1] == 2
    assert np.abs(rec[:, 0]).max() > 0.05 and np.abs(rec[:, 1]).max() > 0.05
    loud_right = sum(b - a for a, b in segments(rec[:, 1])) / rrate
    assert abs(loud_right - 2.6) < 0.05  # all three replies, nothing lost or doubled
    loud_left = sum(b - a for a, b in segments(rec[:, 0], 0.01)) / rrate
    assert loud_left > 3.0  # the user's speech (3.6 s, quiet syllable dips not counted)
    # fast mode records the conversation's own timeline (not the clock's, where the input
    # ran ahead and the recorder's memory grew without bound): each reply right after its
    # utterance, and the next utterance after the reply, as the run sent them
    replies = segments(rec[:, 1])
    assert len(replies) == 3
    user = np.abs(rec[:, 0]) > 0.01
    for start, end in replies:
        assert not user[start:end].any()  # nobody speaks over a reply
        assert user[max(0, start - int(1.5 * rrate)) : start].any()  # it answers what was said

    # what the server got: proactive audio and transcription on, 16 kHz PCM, gated audio
    record = sim.last_session
    setup = record.setup
    gen = json.dumps(setup)
    assert "proactiv" in gen.lower() and "inputAudioTranscription" in gen
    assert set(record.audio_mimes) == {"audio/pcm;rate=16000"}
    speech = sum(s for s, _ in PATTERN)
    assert record.audio_in_s <= speech + 0.6 * len(PATTERN) + 0.05
    assert record.audio_stream_end == 0  # gemini-3.8-live ignores it: not sent


async def test_realtime_pacing_and_latency(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(TONE_SCENARIO, tmp_path))
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, [(1.0, 0.8)], rate=16000)
    import time

    t0 = time.monotonic()
    summary = await run_talk(settings_for(sim), TalkRequest(input=wav))
    elapsed = time.monotonic() - t0
    assert elapsed >= 2.2  # 0.5 lead + 1.0 speech + 0.8 silence, paced in real time
    assert summary.spoken == 1
    # latency: end of speech -> first audio: the server's silence wait + its latency
    assert 0.1 <= summary.latencies_s[0] < 1.0


async def test_vad_off_streams_everything(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(TONE_SCENARIO, tmp_path))
    wav = tmp_path / "one.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0)], rate=16000)
    summary = await run_talk(settings_for(sim, vad="off"), TalkRequest(input=wav, fast=True))
    assert summary.spoken == 1  # the run waited for the answer
    # all of the file, then silence until the server had ended the turn
    assert sim.last_session.audio_in_s >= 2.5
    assert summary.seconds_sent == pytest.approx(sim.last_session.audio_in_s, abs=0.03)


async def test_stream_end_sent_to_models_that_honour_it(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(TONE_SCENARIO, tmp_path))
    wav = tmp_path / "two.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0), (1.0, 1.0)], rate=16000)
    model = "gemini-2.5-flash-native-audio-preview-12-2025"
    s = settings_for(sim, model=model, turn_detection="server")
    summary = await run_talk(s, TalkRequest(input=wav, fast=True))
    assert summary.spoken == 2
    assert sim.last_session.audio_stream_end == 2  # after the trailing audio, per utterance
    assert len(sim.last_session.replied_turns) == 2


async def test_manual_activity_detection(sim_factory, tmp_path) -> None:
    sim = sim_factory(make_scenario(TONE_SCENARIO, tmp_path))
    wav = tmp_path / "two.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0), (0.8, 1.0)], rate=16000)
    s = settings_for(sim, turn_detection="manual")
    summary = await run_talk(s, TalkRequest(input=wav, fast=True))
    rec = sim.last_session
    assert (rec.activity_start, rec.activity_end) == (2, 2)
    assert summary.spoken == 2
    realtime = rec.setup.get("realtimeInputConfig") or rec.setup.get("realtime_input_config")
    assert '"disabled": true' in json.dumps(realtime)


async def test_silent_turn_is_not_an_error(sim_factory, tmp_path) -> None:
    scenario = make_scenario(
        'voice = "tone"\nlatency_ms = 50\nrealtime = 0\n'
        '[[turns]]\nheard = "background chatter"\nsilent = true\n'
        '[[turns]]\nheard = "hey gemini"\nreply = "yes?"\nduration_s = 0.5\n',
        tmp_path,
    )
    sim = sim_factory(scenario)
    wav = tmp_path / "two.wav"
    synth.make_utterances_wav(wav, [(1.0, 1.0), (1.0, 1.0)], rate=16000)
    summary = await run_talk(settings_for(sim), TalkRequest(input=wav, fast=True))
    assert (summary.silent, summary.spoken) == (1, 1)
