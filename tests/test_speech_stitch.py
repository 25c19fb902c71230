"""Click-free joins: the streaming Stitcher against whole-buffer stitching."""

from __future__ import annotations

import numpy as np
import pytest

from voicecli.audio.format import bytes_to_int16, int16_to_bytes
from voicecli.speech.stitch import Stitcher, crossfade, stitch

RATE = 24000
FADE = RATE * 10 // 1000


def sine(freq: float, seconds: float, phase: float = 0.0, level: float = 0.5) -> bytes:
    t = np.arange(round(seconds * RATE)) / RATE
    return int16_to_bytes(np.rint(level * 32767 * np.sin(2 * np.pi * freq * t + phase)))


def dc(value: int, seconds: float) -> bytes:
    return int16_to_bytes(np.full(round(seconds * RATE), value, dtype=np.int16))


def max_step(pcm: bytes) -> int:
    return int(np.max(np.abs(np.diff(bytes_to_int16(pcm).astype(np.int32)))))


def test_abrupt_segments_join_without_a_step() -> None:
    # a sine cut at its peak, then a DC level of the opposite sign: a raw join jumps 32000
    segments = [sine(200, 0.3, phase=np.pi / 2 - 2 * np.pi * 200 * 0.3), dc(-16000, 0.2)]
    raw = b"".join(segments)
    assert max_step(raw) > 30000
    joined = stitch(segments)
    # the sine alone changes by at most 2*pi*f/rate*A per sample (~862); the fade adds
    # at most the level difference spread over the fade (~32000/240 ~ 134, times pi/2)
    assert max_step(joined) < 1200
    assert len(joined) // 2 == len(raw) // 2 - FADE  # each join overlaps one fade


def test_streaming_pieces_give_the_same_result_as_whole_segments() -> None:
    rng = np.random.default_rng(1)
    segments = [sine(f, d) for f, d in ((300, 0.25), (500, 0.004), (700, 0.4), (150, 0.1))]
    whole = stitch(segments)
    s = Stitcher(RATE)
    out = []
    for seg in segments:
        s.start_segment()
        pos = 0
        while pos < len(seg):
            n = int(rng.integers(1, 300)) * 2
            out.append(s.push(seg[pos : pos + n]))
            pos += n
    out.append(s.finish())
    assert b"".join(out) == whole


def test_short_segments_and_empty_ones() -> None:
    a, tiny, b = sine(300, 0.1), sine(300, 0.002), sine(300, 0.1)
    out = stitch([a, b"", tiny, b""])
    assert len(out) // 2 == len(a) // 2  # the tiny segment is faded over completely
    out = stitch([a, tiny, b])
    assert len(out) // 2 == (len(a) + len(b)) // 2 - FADE
    assert max_step(out) < 1500  # a 300 Hz sine at half scale alone moves up to ~1290
    assert stitch([b"", b""]) == b""
    assert stitch([a]) == a  # one segment passes through untouched


def test_no_fade_is_plain_concatenation() -> None:
    a, b = sine(300, 0.1), dc(1000, 0.05)
    assert stitch([a, b], fade_ms=0) == a + b


def test_crossfade_gains_sum_to_one() -> None:
    x = np.full(FADE, 10000, dtype=np.int16)
    assert np.all(np.abs(crossfade(x, x).astype(int) - 10000) <= 1)
    ramp = crossfade(np.full(FADE, 20000, np.int16), np.zeros(FADE, np.int16))
    assert ramp[0] > 19000 and ramp[-1] < 1000 and np.all(np.diff(ramp.astype(int)) <= 0)


@pytest.mark.parametrize("hold", [1, FADE - 1, FADE, FADE + 1])
def test_audio_is_held_back_by_at_most_one_fade(hold: int) -> None:
    s = Stitcher(RATE)
    s.start_segment()
    first = s.push(bytes(2 * (FADE + hold)))
    assert len(first) // 2 == hold
