"""Where the echo is: smooth stream clocks and an echo-path detector, for ``echo.py``.

Both are pure (fed samples and times, no I/O, no clock of their own), so tests drive them
exactly.
"""

from __future__ import annotations

from collections import deque
from functools import cache

import numpy as np

RATE = 16000
PIECE = RATE // 100  # 10 ms, the unit of the echo canceller
STEADY_SAMPLES = 32  # an echo path's delay moves less than 2 ms between windows
NARROW_SHARE = 0.8  # this much of the far end's energy in...
NARROW_BINS = 0.005  # ...this fraction of the spectrum: a tone, no delay can be read from it


@cache
def hann(n: int) -> np.ndarray:
    """A Hann window of ``n`` samples (the windows here have a few fixed lengths)."""
    w = np.hanning(n)
    w.flags.writeable = False
    return w


def narrowband(x: np.ndarray) -> bool:
    """A tone or a few (a sine's correlation repeats every period: no delay to find)."""
    power = np.abs(np.fft.rfft(x * hann(len(x)))) ** 2
    top = max(1, round(NARROW_BINS * len(power)))
    total = float(power.sum()) + 1e-12
    return float(np.sort(power)[-top:].sum()) / total >= NARROW_SHARE


class StreamClock:
    """Smooth start times for a continuous stream of samples: anchor + samples / rate.

    PortAudio's per-block timestamps jitter by a few ms; the stream itself does not. The
    anchor moves only when a measured time strays more than ``slack_s`` (a dropout, an xrun,
    a restart); ``place`` then reports the jump."""

    def __init__(self, rate: int, slack_s: float = 0.02) -> None:
        self.rate = rate
        self.slack = slack_s
        self.anchor: float | None = None
        self.count = 0
        self.jumps = 0

    def place(self, measured: float, n: int) -> tuple[float, bool]:
        """(start time of the next ``n`` samples, measured at ``measured``; re-anchored?)"""
        expected = None if self.anchor is None else self.anchor + self.count / self.rate
        jumped = expected is not None and abs(expected - measured) > self.slack
        if expected is None or jumped:
            self.jumps += jumped
            self.anchor = measured - self.count / self.rate
        assert self.anchor is not None
        t = self.anchor + self.count / self.rate
        self.count += n
        return t, jumped


def phat_peak(near: np.ndarray, far: np.ndarray, before: int, after: int) -> tuple[float, int]:
    """Echo of ``far`` in ``near``: (peak / median of the PHAT cross-correlation, delay in
    samples). ``far`` starts ``before`` samples earlier than ``near`` and ends ``after``
    samples later; delays -after..before are searched (> 0: the echo comes after the far
    end). PHAT weighting sharpens the peak of a reverberant path; tapered ends keep the
    window edges from lining up into false peaks."""
    ratio, delay = phat_fine(near, far, before, after, up=1)
    return ratio, round(delay)


def phat_fine(
    near: np.ndarray, far: np.ndarray, before: int, after: int, up: int
) -> tuple[float, float]:
    """``phat_peak`` to 1/``up`` of a sample (the correlation interpolated by zero-padding
    its spectrum)."""
    size = fast_size(len(near) + len(far))
    a = np.fft.rfft(near * hann(len(near)), size)
    b = np.fft.rfft(far * hann(len(far)), size)
    cross = a * np.conj(b)
    cross /= np.abs(cross) + 1e-12
    r = np.fft.irfft(cross, size * up)
    delays = np.arange(-after * up, before * up + 1)
    mags = np.abs(r[(delays - before * up) % (size * up)])
    k = int(np.argmax(mags))
    ratio = float(mags[k] / (_median(mags[::up]) + 1e-12))
    return ratio, float(delays[k]) / up


@cache
def fast_size(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= ``n``: FFTs of that size are fast (pocketfft takes
    24576 points in a third of the time of 32768, the next power of two)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def _median(x: np.ndarray) -> float:
    """``np.median`` of a 1-D float array without NaNs; numpy's own checks for NaNs in a way
    that imports ``numpy.ma`` (1 MB of memory) on first use."""
    h = len(x) // 2
    if len(x) % 2:
        return float(np.partition(x, h)[h])
    part = np.partition(x, (h - 1, h))
    return float((part[h - 1] + part[h]) / 2)


class EchoPath:
    """Does the microphone hear the speaker, and how late? With headphones it does not.

    AEC3 that finds no echo path stays cautious and chops the user's voice while the model
    speaks (barge-in on headphones would suffer), and AEC3 cannot cancel an echo that comes
    before the far end it is given (PortAudio's timestamps through some drivers are off by
    tens of ms). Every ``window_s`` of far-end activity this compares the raw microphone
    with the far end (``phat_peak``): an echo path gives a sharp peak (ratio 50..500 on the
    test loopback, also with the user talking over it; ~30 for an echo 30 dB down) at the
    same delay window after window. Unrelated audio gives ratios of ~6..12 at a different
    delay each time. A narrowband far end (a tone) is no evidence either way: its
    correlation has no single peak, whatever the path. The microphone window is taken ``max_lead_s`` in the past, so echoes
    that come up to that much *before* their far end are found too.
    """

    def __init__(
        self,
        window_s: float = 0.5,
        max_delay_s: float = 0.3,
        max_lead_s: float = 0.1,
        on_ratio: float = 15.0,
        off_ratio: float = 10.0,
        off_windows: int = 3,
        far_floor_dbfs: float = -50.0,
        near_floor_dbfs: float = -75.0,
    ) -> None:
        self.n = round(window_s * RATE) // PIECE
        self.before = -(-round(max_delay_s * RATE) // PIECE)  # in pieces
        self.after = -(-round(max_lead_s * RATE) // PIECE)
        self.on_ratio, self.off_ratio, self.off_windows = on_ratio, off_ratio, off_windows
        self._far_floor = 32768 * 10 ** (far_floor_dbfs / 20)
        self._near_floor = 32768 * 10 ** (near_floor_dbfs / 20)
        self._far: deque[bytes] = deque(maxlen=self.n + self.before + self.after)
        self._near: deque[bytes] = deque(maxlen=self.n + self.after)
        self._count = 0
        self._quiet = 0
        self._last_delay: int | None = None
        self.coupled = True  # until shown otherwise: cancelling is the safe side
        self.delay: int | None = None  # samples, once the same peak was seen twice
        self.last_ratio: float | None = None
        self.windows = 0
        self.narrow_windows = 0  # far windows too narrowband to judge

    def reset_delay(self) -> None:
        """The far end was re-aligned: forget the delay and the history."""
        self._far.clear()
        self._near.clear()
        self._last_delay = self.delay = None

    def push(self, far: bytes, near: bytes) -> None:
        """One 10 ms piece of far end and the microphone piece processed with it."""
        self._far.append(far)
        self._near.append(near)
        self._count += 1
        if self._count % self.n == 0 and len(self._far) == self._far.maxlen:
            self._decide()

    def _decide(self) -> None:
        far = np.frombuffer(b"".join(self._far), "<i2").astype(np.float64)
        near = np.frombuffer(b"".join(self._near), "<i2").astype(np.float64)[: self.n * PIECE]
        facing = far[self.before * PIECE : self.before * PIECE + len(near)]
        if np.sqrt(np.mean(facing * facing)) < self._far_floor:
            return  # the speaker was quiet: no evidence either way
        if narrowband(facing):
            # a tone gives no sharp peak even through a perfect echo path: taking its low
            # ratio for "no echo" once turned the canceller off for every later reply
            self.narrow_windows += 1
            return
        self.windows += 1
        if np.sqrt(np.mean(near * near)) < self._near_floor:
            ratio, delay = 0.0, None  # the speaker played and the microphone heard nothing
        else:
            ratio, delay = phat_peak(near, far, self.before * PIECE, self.after * PIECE)
        self.last_ratio = ratio
        if ratio >= self.on_ratio and delay is not None:
            last, self._last_delay = self._last_delay, delay
            if last is not None and abs(delay - last) <= STEADY_SAMPLES:
                self.coupled, self._quiet, self.delay = True, 0, delay  # seen twice: real
                return
        if ratio < self.off_ratio or ratio >= self.on_ratio:  # nothing, or a peak that moved
            self._quiet += 1
            if self._quiet >= self.off_windows:
                self.coupled, self.delay = False, None
