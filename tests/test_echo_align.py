"""RunAligner (pure): where each run of far end really played, from its echo."""

from __future__ import annotations

import numpy as np
import pytest

from voicecli.audio.echo_align import GIVE_UP_S, WINDOW_S, RunAligner

RATE, PIECE = 16000, 160


def feed(
    al: RunAligner, start: float, lag: float, tone: bool = False, seconds: float = 0.6
) -> None:
    """A run from ``start`` (pieces on its own clock) and the microphone hearing it ``lag``
    samples later (a fractional lag through an FFT delay), with a little noise."""
    rng = np.random.default_rng(round(start * 1000))
    n = round(seconds * RATE)
    t = np.arange(n) / RATE
    far = 3000 * np.sin(2 * np.pi * 440 * t) if tone else rng.normal(0, 3000, n)
    spec = np.fft.rfft(np.concatenate([far, np.zeros(n)]))
    k = np.arange(len(spec))
    near = np.fft.irfft(spec * np.exp(-2j * np.pi * k * lag / (2 * n)), 2 * n)[:n]
    near += rng.normal(0, 30, n)
    al.restart(start)
    for i in range(0, n, PIECE):
        al.push_far(start + i / RATE, far[i : i + PIECE].astype("<i2").tobytes())
    grid = np.ceil(start * 100) / 100  # the microphone's pieces: their own 10 ms grid
    off = round((grid - start) * RATE)
    for i in range(off, n - PIECE, PIECE):
        al.push_near(start + i / RATE, near[i : i + PIECE].astype("<i2").tobytes())


def test_the_first_run_is_the_reference_and_later_ones_are_moved_to_it() -> None:
    al = RunAligner()
    feed(al, 1.0, lag=600.0)
    assert al.holds(1.05) and not al.holds(0.9)
    assert al.locate(now=2.0) == 0.0 and al.ref == pytest.approx(600, abs=0.1)
    assert not al.holds(1.05)  # done with: nothing waits
    feed(al, 5.0031, lag=637.25)  # played 37.25 samples later than its play-head said
    assert al.locate(now=6.0) == pytest.approx(37.25 / RATE, abs=0.1 / RATE)


def test_a_run_waits_for_the_microphone_to_cover_its_window() -> None:
    al = RunAligner()
    al.restart(1.0)
    al.push_near(1.0, bytes(320))
    assert al.locate(now=1.1) is None  # still coming
    assert al.holds(1.2)
    assert al.locate(now=1.0 + WINDOW_S + GIVE_UP_S + 0.01) == 0.0  # the mic stalled
    assert not al.holds(1.2)


def test_tones_and_silence_are_left_as_they_are() -> None:
    al = RunAligner()
    feed(al, 1.0, lag=600.0)
    assert al.locate(now=2.0) == 0.0
    feed(al, 3.0, lag=700.0, tone=True)  # a tone: its correlation has no single peak
    assert al.locate(now=4.0) == 0.0 and al.lags == [pytest.approx(600, abs=0.1)]


def test_an_echo_path_that_moved_becomes_the_reference_the_second_time() -> None:
    al = RunAligner()
    feed(al, 1.0, lag=600.0)
    al.locate(now=2.0)
    for k, lag in enumerate([1400.0, 1402.0]):  # 50 ms later: the laptop was turned
        feed(al, 3.0 + 2 * k, lag=lag)
        assert al.locate(now=4.0 + 2 * k) == 0.0
    assert al.ref == pytest.approx(1402, abs=0.1)
    feed(al, 7.0, lag=1404.0)
    assert al.locate(now=8.0) == pytest.approx(2 / RATE, abs=0.1 / RATE)
