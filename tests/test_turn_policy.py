"""Issue 29: the turn policy as a pure state machine (times passed in), and the voice check
on real and synthetic audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from voicecli.audio import synth
from voicecli.audio.vad import GateState, WebRtcDetector
from voicecli.audio.voicing import RUN_FRAMES, Voicing
from voicecli.live import events as ev
from voicecli.live.turn_policy import EAGERNESS, TurnPolicy, phrase_kind
from voicecli.live.turns import TurnBook

DATA = Path(__file__).parent / "data"
FRAME = 320  # 20 ms at 16 kHz


def chunk(t: float) -> ev.AudioChunk:
    return ev.AudioChunk(b"\x00\x01" * 960, t=t)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("What time is it?", "question"),
        ("Can you tell me", "unfinished"),
        ("I was thinking about", "unfinished"),
        ("so, um,", "unfinished"),
        ("I was thinking about dinner tonight.", "default"),
        ("the weather in Paris", "default"),
        ("", "default"),
    ],
)
def test_phrase_kind(text: str, kind: str) -> None:
    assert phrase_kind(text) == kind


def test_a_reply_that_comes_inside_the_window_is_held_then_released() -> None:
    p = TurnPolicy("normal")
    p.user_ended(10.0)
    assert p.admit(chunk(10.3), 10.3) == []  # the window (0.8 s, nothing heard) runs
    assert p.holding and p.due() == pytest.approx(10.8)
    assert p.admit(chunk(10.4), 10.4) == []
    assert p.release(10.5) == []  # not yet
    out = p.release(10.8)
    assert [e.t for e in out] == [10.8, 10.8]  # stamped when heard
    assert p.admit(chunk(10.9), 10.9) != []  # the rest of the reply passes


def test_the_window_follows_what_was_heard() -> None:
    for heard, window in (("How far is the moon?", 0.3), ("Can you tell me", 1.15)):
        p = TurnPolicy("normal")
        p.user_ended(0.0)
        p.heard(heard)
        p.admit(chunk(0.2), 0.2)
        assert p.due() == pytest.approx(window)
    assert (
        EAGERNESS["low"].unfinished > EAGERNESS["normal"].unfinished > EAGERNESS["high"].unfinished
    )


def test_a_reply_after_the_window_passes_at_once() -> None:
    p = TurnPolicy("normal")
    p.user_ended(0.0)
    assert len(p.admit(chunk(0.9), 0.9)) == 1


def test_the_user_going_on_drops_the_held_reply_and_what_the_service_sends_for_it() -> None:
    p = TurnPolicy("normal")
    p.user_ended(0.0)
    p.admit(ev.OutputTranscript("Sure", t=0.2), 0.2)
    p.admit(chunk(0.3), 0.3)
    assert p.user_started() is True and p.held_back == 1
    assert not p.holding and p.due() is None
    assert p.admit(chunk(0.5), 0.5) == []  # the dropped reply still in flight
    assert p.admit(ev.Interrupted(t=0.6), 0.6) == []  # its end: nothing was heard
    # what the service still sends of it and the turnComplete closing it: the turn book's
    # (the conversation tells it that the reply was dropped, as after a cut)
    book = TurnBook()
    book.user_started(0.4)
    book.dropped(0.6)
    assert book.late(0.7) and book.close_cut(0.8) and book.turns == []
    p.user_ended(2.0)
    p.heard("Can you tell me how far the moon is?")
    assert p.admit(chunk(2.2), 2.2) == []  # the real answer: held for the question window
    assert len(p.release(2.3)) == 1


def test_without_hold_everything_passes() -> None:
    p = TurnPolicy("normal", hold=False)
    p.user_ended(0.0)
    assert len(p.admit(chunk(0.1), 0.1)) == 1


def test_a_barge_in_during_a_heard_reply_is_not_swallowed() -> None:
    p = TurnPolicy("normal")
    p.user_ended(0.0)
    assert p.admit(chunk(1.0), 1.0)  # heard
    assert p.user_started() is False
    assert p.admit(ev.Interrupted(t=1.2), 1.2) != []


def frames(x: np.ndarray) -> list[bytes]:
    return [x[i : i + FRAME].astype("<i2").tobytes() for i in range(0, len(x) - FRAME + 1, FRAME)]


def keyboard(dbfs: float) -> np.ndarray:
    x, _ = sf.read(DATA / "keyboard-typing-4s.flac", dtype="float64")
    x *= 10 ** (dbfs / 20) / np.sqrt(np.mean(x**2))
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


@pytest.mark.parametrize("dbfs", [-40.0, -30.0, -20.0])
def test_real_keyboard_typing_is_no_voice(dbfs: float) -> None:
    """webrtcvad takes most of the typing for speech; the voice check takes none of it."""
    det, p = WebRtcDetector(2), TurnPolicy()
    said_speech = started = 0
    for f in frames(keyboard(dbfs)):
        raw = det.is_speech(f)
        said_speech += raw
        speech, _noise = p.onset(f, raw, GateState.QUIET, 0.0)
        started += speech
    assert said_speech > 50  # webrtcvad alone: many frames of "speech"
    assert started == 0 and p.noise_ignored >= 1


def test_a_voice_is_confirmed_within_its_first_syllable() -> None:
    det, v = WebRtcDetector(2), Voicing()
    confirmed = [v.push(f, det.is_speech(f)) for f in frames(synth.steady_speech(0.5))]
    assert confirmed.index(True) == RUN_FRAMES - 1
    if synth.espeak_available():
        pcm = synth.espeak_pcm("Wait, stop.")
        assert pcm is not None
        det, v = WebRtcDetector(2), Voicing()
        x = np.frombuffer(pcm, dtype="<i2")
        confirmed = [v.push(f, det.is_speech(f)) for f in frames(x)]
        first_speech = next(
            i for i, f in enumerate(frames(x)) if np.abs(np.frombuffer(f, "<i2")).max() > 300
        )
        assert confirmed.index(True) - first_speech <= 8  # within 160 ms of the first sound


def test_status_line_stats_and_summary_show_the_hold() -> None:
    from voicecli.live.stats import Summary
    from voicecli.ui.status import SessionStatus
    from voicecli.ui.summary import format_summary

    s = SessionStatus()
    s.on_event(ev.UserSpeechEnded(), 1.0)
    s.on_event(ev.TurnHold("waiting"), 1.2)
    assert s.shown_state == "waiting to be sure you've finished"
    s.on_event(ev.TurnHold("discarded"), 1.5)
    s.on_event(ev.TurnHold("noise"), 2.0)
    assert s.shown_state == "hearing you"
    assert "1 false start held back, 1 noise ignored" in s.stats_line(3.0)
    line = format_summary(Summary(turns=1, spoken=1, held_back=2, noise_ignored=3))
    assert "2 false starts held back" in line and "3 noises ignored" in line


def test_typing_straight_after_speech_ends_the_utterance() -> None:
    """Speech, then typing with no pause: the gate closes ~200 ms + its hangover after the
    last word (webrtcvad alone kept it open until the typing stopped)."""
    from voicecli.audio.vad import Act, Gate, gate_params_for

    det, p = WebRtcDetector(2), TurnPolicy()
    gate = Gate(gate_params_for(False))
    x = np.concatenate([synth.silence(0.3), synth.steady_speech(1.0), keyboard(-30.0)[:48000]])
    ends = []
    for i, f in enumerate(frames(x)):
        speech, _ = p.onset(f, det.is_speech(f), gate.state, i * 0.02)
        if any(a.kind is Act.SPEECH_END for a in gate.push(f, speech)):
            ends.append(i * 0.02)
    assert len(ends) == 1 and 1.3 < ends[0] < 1.3 + 0.2 + 0.25 + 0.1, ends


def barge(p: TurnPolicy, frames: list[tuple[bool, bool]], t0: float) -> list:
    """(raw speech, loud) a frame at a time while the model speaks: (gate speech, act)."""
    return [p.barge_in(raw, raw, loud, True, t0 + i * 0.02) for i, (raw, loud) in enumerate(frames)]


def test_a_short_burst_pauses_the_reply_then_resumes_it_without_opening_the_gate() -> None:
    """A single loud syllable (100 ms) while the model speaks: playback pauses at its first
    frame, the gate never sees speech (no activityStart), and 0.4 s later it plays on."""
    p = TurnPolicy()
    out = barge(p, [(True, True)] * 5 + [(False, False)] * 30, 10.0)
    acts = [a for _, a in out if a]
    assert acts == ["pause", "resume"]
    assert out[0][1] == "pause"
    assert not any(s for s, _ in out)
    resume_at = [i for i, (_, a) in enumerate(out) if a == "resume"][0]
    assert (resume_at - 4) * 0.02 >= 0.4 - 1e-9
    assert p.resumed == 1 and p.confirmed == 0 and p.barge_confirmed(True) is None


def test_speech_long_and_loud_enough_is_confirmed_and_stays_paused_for_the_cut() -> None:
    p = TurnPolicy(barge_in_ms=160, onset_ms=60, frame_ms=20)
    out = barge(p, [(True, True)] * 8, 10.0)
    assert out[0][1] == "pause"
    speech = [s for s, _ in out]
    assert speech.index(True) == 5  # loud for more than 100 ms (160 ms with the onset)
    assert p.barge_confirmed(True) == "confirmed" and p.confirmed == 1
    # the gate is open: no resume; the service's interrupted clears it
    assert p.unpause() and p.paused_at is None


def test_a_confirmed_barge_in_after_the_turn_is_over_is_cut_at_once() -> None:
    p = TurnPolicy()
    barge(p, [(True, True)] * 8, 10.0)
    assert p.barge_confirmed(False) == "cut" and p.paused_at is None


def test_a_pause_that_never_becomes_speech_resumes_after_the_longest_pause() -> None:
    """Quiet voice below the barge-in level goes on: no confirmation, resumed at 1.5 s."""
    p = TurnPolicy()
    out = barge(p, [(True, True)] + [(True, False)] * 100, 10.0)
    acts = [(i, a) for i, (_, a) in enumerate(out) if a]
    assert acts[0] == (0, "pause") and acts[1][1] == "resume"
    assert abs(acts[1][0] * 0.02 - 1.5) < 0.03


def test_status_line_stats_and_summary_count_barge_ins() -> None:
    from voicecli.live.stats import Summary
    from voicecli.ui.status import SessionStatus
    from voicecli.ui.summary import format_summary

    s = SessionStatus()
    s.on_event(ev.TurnHold("paused"), 1.0)
    assert s.shown_state == "hearing you"
    s.on_event(ev.TurnHold("resumed"), 1.5)
    s.on_event(ev.TurnHold("paused"), 2.0)
    s.on_event(ev.TurnHold("confirmed"), 2.2)
    assert "1 interruption confirmed, 1 resumed (false alarms)" in s.stats_line(3.0)
    line = format_summary(Summary(turns=1, spoken=1, barge_ins=2, resumed=3))
    assert "2 interruptions confirmed" in line and "3 resumed (false alarms)" in line
