"""Where each new run of far end really played, for ``echo.py`` (pure: fed pieces and times).

The speaker starts its device stream for each reply and knows the reply's speaker time from
its play-head count, but the device places a stream's first sample a little differently
at every start (the sound server mixes a new stream in at its own cadence). On the virtual
devices the echo of one reply came up to 10 ms (20 ms after the session's first start)
away from the last one's, and the slow drift between the speaker's clock and the
microphone's adds ~0.1 ms a second. AEC3 converges on one delay, down to a fraction of a
sample: replies that moved lost 15-45 dB of the ~50 it takes out of a steady echo.

``RunAligner`` measures where the echo of each new run (a stream start, or a jump in its
timeline) came: the PHAT correlation of the run's first ``WINDOW_S`` of microphone with the
far end around it, interpolated to 1/``UP`` of a sample. The first run measured is the
reference; every later one gets the correction that puts its echo at the reference lag, so
AEC3 keeps seeing one delay. The microphone pieces of a run wait until it is measured (the
window plus a capture block, at most ``GIVE_UP_S`` more). A tone or silence gives no lag to
read: such a run is left as it is. A lag more than ``MAX_FIX_S`` away from the reference
is the echo path itself moving (the laptop was turned): twice in a row, and it becomes the
reference.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voicecli.audio.echo_path import PIECE, RATE, narrowband, phat_fine

WINDOW_S = 0.3  # microphone looked at from the run's start
MAX_LAG_S = 0.25  # echoes searched up to this late...
LEAD_S = 0.01  # ...and this early
UP = 16  # lags to 1/16 of a sample (4 us)
MAX_FIX_S = 0.03
GIVE_UP_S = 0.6  # the microphone has not covered the window this long after: left as it is
ON_RATIO = 15.0  # a PHAT peak this sharp is an echo (EchoPath's threshold)
FLOOR = 32768 * 10 ** (-50 / 20)
_HISTORY = (
    round((MAX_LAG_S + WINDOW_S + 0.5) * RATE) // PIECE
)  # pieces kept (the far end runs ahead)


def _window(pieces: deque[tuple[float, bytes]], start: float, n: int) -> np.ndarray:
    """``n`` samples from time ``start``: the pieces that fall in, zeros elsewhere."""
    out = np.zeros(n)
    for t, piece in pieces:
        k = round((t - start) * RATE)
        if k >= n or k + PIECE <= 0:
            continue
        x = np.frombuffer(piece, "<i2")
        a, b = max(k, 0), min(k + len(x), n)
        out[a:b] = x[a - k : b - k]
    return out


class RunAligner:
    """Feed it the far pieces (``push_far``, with their speaker times), the microphone pieces
    (``push_near``, with their capture times) and the start of every new far run
    (``restart``); ``holds`` says which microphone pieces wait, ``locate`` by how much the
    run's far times are to move."""

    def __init__(self) -> None:
        self._far: deque[tuple[float, bytes]] = deque(maxlen=_HISTORY)
        self._near: deque[tuple[float, bytes]] = deque(maxlen=_HISTORY)
        self.start: float | None = None  # the run being measured
        self.ref: float | None = None  # echo lag of the reference run (samples)
        self._moved: float | None = None  # a lag far from the reference, seen once
        self.lags: list[float] = []  # every run measured (samples)
        self.fixes: list[float] = []  # corrections made (s)

    def push_far(self, t: float, piece: bytes) -> None:
        self._far.append((t, piece))

    def push_near(self, t: float, piece: bytes) -> None:
        self._near.append((t, piece))

    def restart(self, t: float) -> None:
        self.start = t

    def cancel(self) -> None:
        """No echo to line up (no echo path): the run is not measured."""
        self.start = None

    def holds(self, paired_far_time: float) -> bool:
        """A microphone piece to be processed with the far end of this time must wait."""
        return self.start is not None and paired_far_time >= self.start - PIECE / RATE

    def locate(self, now: float) -> float | None:
        """None: the microphone has not covered the run's window yet; else the run is done
        with and this is its correction in seconds (0.0: none, or nothing to read)."""
        start = self.start
        if start is None:
            return 0.0
        near_end = self._near[-1][0] + PIECE / RATE if self._near else -np.inf
        if near_end < start + WINDOW_S:
            if now < start + WINDOW_S + GIVE_UP_S:
                return None
            self.start = None
            return 0.0  # the microphone stalled
        self.start = None
        n, before, after = round(WINDOW_S * RATE), round(MAX_LAG_S * RATE), round(LEAD_S * RATE)
        run = _window(self._far, start, n + after)
        if np.sqrt(np.mean(run * run)) < FLOOR or narrowband(run):
            return 0.0
        near = _window(self._near, start, n)
        far = np.concatenate([_window(self._far, start - MAX_LAG_S, before), run])
        ratio, lag = phat_fine(near, far, before, after, UP)
        if ratio < ON_RATIO:
            return 0.0
        self.lags.append(lag)
        if self.ref is None:
            self.ref = lag
            return 0.0
        fix = (lag - self.ref) / RATE
        if abs(fix) > MAX_FIX_S:
            moved, self._moved = self._moved, lag
            if moved is not None and abs(lag - moved) <= MAX_FIX_S * RATE:
                self.ref, self._moved = lag, None  # the path moved: AEC3 converges anew
            return 0.0
        self._moved = None
        if fix:
            self.fixes.append(fix)
        return fix


class FractionalDelay:
    """Delays a stream (int16 bytes in and out) by ``TAPS // 2 + frac`` samples, ``frac`` in
    [-0.5, 0.5]: a Blackman-windowed sinc, its state kept between chunks. Moving a run by
    whole samples of the speaker's rate leaves up to half a sample (10 us at 48 kHz) of the
    correction undone, as much as turns a 4 kHz component by 0.25 rad: AEC3's filter, fitted
    to the reference reply, took out 27-73 dB of the replies moved that way."""

    TAPS = 31

    def __init__(self, frac: float) -> None:
        n = np.arange(self.TAPS) - self.TAPS // 2 - frac
        h = np.sinc(n) * np.blackman(self.TAPS + 2)[1:-1]
        self._h = h / h.sum()
        self._state = np.zeros(self.TAPS - 1)

    def process(self, pcm: bytes) -> bytes:
        if not pcm:
            return b""
        x = np.concatenate([self._state, np.frombuffer(pcm, "<i2")])
        self._state = x[-(self.TAPS - 1) :]
        y = np.convolve(x, self._h, "valid")
        return np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()
