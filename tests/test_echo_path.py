"""Echo-path detection and stream clocks, on synthesized signals (no devices)."""

from __future__ import annotations

import numpy as np
import pytest

from voicecli.audio.echo_path import PIECE, EchoPath, StreamClock, fast_size, phat_peak


def far_signal(seconds: float, seed: int = 0) -> np.ndarray:
    """Voice-like audio, phase-continuous: harmonics of a wandering pitch with a syllable
    envelope and some breath noise; different seeds are unrelated voices."""
    rng = np.random.default_rng(seed)
    n = round(seconds * 16000)
    knots = np.interp(np.arange(n), np.linspace(0, n, 20), rng.uniform(100, 220, 20))
    phase = 2 * np.pi * np.cumsum(knots) / 16000
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    syllables = np.interp(
        np.arange(n), np.linspace(0, n, round(seconds * 8)), rng.uniform(0, 1, round(seconds * 8))
    )
    x = voice * syllables + 0.05 * rng.standard_normal(n)
    return 8000 * x / np.max(np.abs(x))


def feed(path: EchoPath, far: np.ndarray, near: np.ndarray) -> None:
    for k in range(0, min(len(far), len(near)) - PIECE + 1, PIECE):
        path.push(
            far[k : k + PIECE].astype("<i2").tobytes(), near[k : k + PIECE].astype("<i2").tobytes()
        )


def test_phat_finds_the_delay_both_ways() -> None:
    far = far_signal(1.0)
    near = np.zeros(8000)
    for delay in (480, -320):  # 30 ms after the far end, 20 ms before it
        before, after = 4800, 1600
        start = before  # near window start inside far
        near = far[start - delay : start - delay + 8000]
        ratio, found = phat_peak(near, far[: start + 8000 + after], before, after)
        assert found == delay and ratio > 50


def test_an_echo_path_is_found_with_its_delay() -> None:
    far = far_signal(4.0)
    echo = np.concatenate([np.zeros(480), 0.5 * far[:-480]])  # 30 ms, 6 dB down
    noise = np.random.default_rng(1).normal(0, 20, len(far))
    path = EchoPath()
    feed(path, far, echo + noise)
    assert path.coupled and path.delay is not None and abs(path.delay - 480) <= 2
    assert path.last_ratio is not None and path.last_ratio > 30


def test_user_talking_over_the_echo_keeps_the_path() -> None:
    far = far_signal(4.0)
    user = far_signal(4.0, seed=7)
    echo = np.concatenate([np.zeros(480), 0.5 * far[:-480]])
    path = EchoPath()
    feed(path, far, echo + user)
    assert path.coupled and path.delay is not None and abs(path.delay - 480) <= 2


def test_headphones_no_echo_path() -> None:
    far = far_signal(4.0)
    user = far_signal(4.0, seed=7)  # the user talks, the speaker is not heard
    path = EchoPath()
    feed(path, far, user + np.random.default_rng(2).normal(0, 20, len(far)))
    assert not path.coupled and path.delay is None
    assert path.windows >= 3


def test_a_silent_microphone_while_the_speaker_plays_is_no_echo_path() -> None:
    far = far_signal(3.0)
    path = EchoPath()
    feed(path, far, np.zeros(len(far)))
    assert not path.coupled


def test_a_quiet_speaker_is_no_evidence_either_way() -> None:
    path = EchoPath()
    quiet = np.zeros(16000 * 3)
    feed(path, quiet, far_signal(3.0))
    assert path.coupled and path.windows == 0


def test_stream_clock_smooths_jitter_and_follows_jumps() -> None:
    clock = StreamClock(16000, slack_s=0.02)
    times = [clock.place(10.0 + i * 0.01 + (0.003 if i % 2 else -0.003), 160)[0] for i in range(5)]
    assert times == pytest.approx([9.997 + i * 0.01 for i in range(5)])  # anchored at first
    t, jumped = clock.place(10.2, 160)  # a dropout: 150 ms of audio never came
    assert jumped and t == pytest.approx(10.2) and clock.jumps == 1


def tone(seconds: float, hz: float, amp: float = 8000.0) -> np.ndarray:
    return amp * np.sin(2 * np.pi * hz * np.arange(round(seconds * 16000)) / 16000)


def test_a_tone_through_an_echo_path_keeps_the_path() -> None:
    # tones have no sharp correlation peak: they once switched the canceller off for good
    far = tone(4.0, 660)
    echo = np.concatenate([np.zeros(640), far[:-640]])  # 40 ms, 0 dB
    path = EchoPath()
    feed(path, far, echo + np.random.default_rng(3).normal(0, 20, len(far)))
    assert path.coupled and path.narrow_windows >= 3 and path.windows == 0


def test_the_correlation_size_is_the_next_fast_fft_size() -> None:
    def smooth(m: int) -> bool:
        for p in (2, 3, 5):
            while m % p == 0:
                m //= p
        return m == 1

    for n in [*range(1, 2000), 22400, 32769]:
        want = next(m for m in range(n, 2 * n + 1) if smooth(m))
        assert fast_size(n) == want
