"""The speaker's writer thread and jitter buffer on a device that plays in real time (issue 32).

``SpeakerSink`` runs as it does on a sound card, its blocking writes going to a stand-in for
the PortAudio stream that plays at the device rate from the moment it is written to and
plays silence when it runs dry (an underflow). What the "device" played is put back
together, silences included, and every reply must be as smooth as the sine it is: a chunk
boundary that became a hole or a jump shows in the second difference.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import numpy as np
import pytest

from voicecli.audio import speaker, synth
from voicecli.audio.speaker import START_S, SpeakerSink

pytestmark = pytest.mark.flaky(reruns=2, reruns_delay=1)  # real time on a shared machine

CHUNK_S = 0.04  # the service's chunk length
AMP = 0.3


class RealTimeOutput:
    """A blocking output stream with a ``latency``-long buffer, played in real time; what
    was played, in order, with the silence of every underflow."""

    def __init__(self, rate: int, channels: int, latency: float) -> None:
        self.rate, self.latency = rate, latency
        self.write_available = round(latency * rate)
        self.played: list[np.ndarray] = []
        self.underflows = 0
        self._end: float | None = None  # when the audio written so far has played out
        self._lock = threading.Lock()

    def start(self) -> None:
        self._end = None

    def stop(self) -> None:  # PortAudio plays out what the buffer holds
        if self._end is not None:
            time.sleep(max(0.0, self._end - time.monotonic()))

    def abort(self, ignore_errors: bool = True) -> None:
        pass

    def close(self, ignore_errors: bool = True) -> None:
        pass

    def write(self, block: np.ndarray) -> bool:
        now = time.monotonic()
        underflow = False
        with self._lock:
            if self._end is None:
                self._end = now + START_S
            elif now > self._end:  # ran dry: silence until this block
                underflow = True
                self.underflows += 1
                self.played.append(np.zeros(round((now - self._end) * self.rate), np.int16))
                self._end = now
            self.played.append(block[:, 0].copy())
            self._end += len(block) / self.rate
            wait = self._end - now - self.latency  # a full buffer blocks the writer
        if wait > 0:
            time.sleep(wait)
        return underflow


@pytest.fixture(params=[24000, 48000], ids=["24kHz", "48kHz-resampled"])
def device(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> dict[str, Any]:
    opened: dict[str, Any] = {"rate": request.param}

    class Info:
        name = "stand-in"

        def label(self) -> str:
            return "stand-in"

    def open_output(info: Any, rate: int, channels: int, latency: float) -> RealTimeOutput:
        opened["out"] = RealTimeOutput(rate, channels, latency)
        return opened["out"]

    monkeypatch.setattr(speaker, "find_device", lambda spec, kind: Info())
    monkeypatch.setattr(
        speaker, "choose_format", lambda info, kind, pref, rate=None: (request.param, 2)
    )
    monkeypatch.setattr(speaker, "open_output", open_output)
    monkeypatch.setattr(speaker, "stream_latency", lambda stream: stream.latency)
    monkeypatch.setattr(speaker, "close_stream", lambda stream, timeout=2.0: None)
    return opened


def play_reply(sink: SpeakerSink, freq: float, late_s: float) -> None:
    """A tone reply as the service sends it: 40 ms chunks at real time, every second chunk
    ``late_s`` late (the network, or the event loop busy with something else)."""
    pcm = synth.tone(freq, 1.2, 24000, AMP, fade_s=0.01).tobytes()
    step = round(24000 * CHUNK_S) * 2
    start = time.monotonic()
    for k, i in enumerate(range(0, len(pcm), step)):
        due = start + k * CHUNK_S + (late_s if k % 2 else 0.0)
        time.sleep(max(0.0, due - time.monotonic()))
        sink.write(pcm[i : i + step])
    sink.flush()
    end = time.monotonic() + 5
    while sink.is_playing and time.monotonic() < end:
        time.sleep(0.01)
    time.sleep(0.3)  # the stream is stopped between replies


def replies(played: np.ndarray, rate: int) -> list[np.ndarray]:
    """The audible stretches, split at silences of 100 ms or more."""
    loud = np.flatnonzero(np.abs(played) > 300)
    cuts = np.flatnonzero(np.diff(loud) > 0.1 * rate)
    firsts = [loud[0], *loud[cuts + 1]]
    lasts = [*loud[cuts], loud[-1]]
    return [played[a : b + 1].astype(np.float64) for a, b in zip(firsts, lasts, strict=True)]


def test_tone_replies_have_no_discontinuity_at_chunk_boundaries(device) -> None:  # type: ignore[no-untyped-def]
    """Chunks up to ~12 ms late must not be holes: the writer once kept the device within
    15 ms of running dry, so a late chunk (or a late wake-up of the writer) let it write
    5 ms of silence into the reply, one click per chunk."""
    sink = SpeakerSink()
    freqs = (440, 550, 660)
    try:
        for f in freqs:
            play_reply(sink, f, late_s=0.012)
    finally:
        sink.close()
    played = np.concatenate(device["out"].played)
    rate = device["rate"]
    got = replies(played, rate)
    assert len(got) == len(freqs), f"{len(got)} audible stretches, not one per reply"
    for n, (f, y) in enumerate(zip(freqs, got, strict=True), 1):
        assert abs(len(y) / rate - 1.2) < 0.03, (
            f"reply {n} lasts {len(y) / rate:.3f} s; {device['out'].underflows} underflows, {sink.stats()}"
        )
        bound = AMP * 32768 * (2 * math.pi * f / rate) ** 2  # a sine's largest |d2|
        d2 = np.abs(np.diff(y, 2))
        jumps = np.flatnonzero(d2 > 1.5 * bound + 4)
        assert not len(jumps), (
            f"reply {n} ({f} Hz): {len(jumps)} samples jump (|d2| up to {d2.max():.0f}, a sine "
            f"{bound:.0f}), first at {jumps[:5] / rate * 1000} ms; "
            f"{device['out'].underflows} underflows, {sink.stats()}"
        )


@pytest.mark.parametrize("device", [24000], indirect=True, ids=["24kHz"])
def test_a_paused_reply_resumes_from_the_same_sample_with_nothing_lost(device) -> None:  # type: ignore[no-untyped-def]
    """Issue 29: a possible barge-in pauses the speaker mid-reply (what the device holds
    plays out, then silence; the writer keeps the rest and what arrives meanwhile), and the
    false alarm's resume plays on from the sample where it paused: every sample of the reply
    is played once, in order, and the pause is heard as a gap."""
    n = round(24000 * 1.2)
    reply = (1000 + np.arange(n) % 20000).astype(np.int16)  # never 0: silence is ours
    pcm, step = reply.tobytes(), round(24000 * CHUNK_S) * 2
    sink = SpeakerSink()
    try:
        start = time.monotonic()
        for k, i in enumerate(range(0, len(pcm), step)):
            time.sleep(max(0.0, start + k * CHUNK_S - time.monotonic()))
            if k == 10:
                sink.pause()
            sink.write(pcm[i : i + step])
        time.sleep(0.3)
        sink.resume()
        sink.flush()
        end = time.monotonic() + 5
        while sink.is_playing and time.monotonic() < end:
            time.sleep(0.01)
    finally:
        sink.close()
    played = np.concatenate(device["out"].played)
    assert np.array_equal(played[played != 0], reply)  # all of it, once, in order
    loud = np.flatnonzero(played)
    assert np.diff(loud).max() / 24000 > 0.3  # the pause: silence while it lasted
