"""Tone residue: what AEC3 leaves of a narrowband far end, taken out after it (pure).

WebRTC's AEC3 keeps its adaptive filter from learning narrowband far-end audio (a tone
would make it diverge), so the echo of a steady tone at a frequency it has not heard before
passes almost untouched for a few hundred ms (measured on the loopback: 0-2 dB of reduction
at the start of each new tone, 50 dB for speech). ``ToneResidue`` watches the far end; while
its strongest spectral lobe holds most of its energy it finds its one or two frequencies and subtracts
the best-fitting sinusoids at those frequencies from each 10 ms of canceller output. The
user's voice loses only those frequencies, so barge-in still works. Broadband far ends
(speech) are left to AEC3.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voicecli.audio.echo_path import PIECE, RATE

WINDOW_PIECES = 30  # the far end looked at: at most the last 300 ms of it...
HOLD_PIECES = 15  # ...and its tones kept this long after it went quiet (the echo lags)
EVERY = 2  # pieces between looks while the level stays the same
RECENT_PIECES = 4
MATCH_HZ = 10.0
NFFT = 8192
LOBE_BINS = 2.5  # a Hann window's main lobe: +-2 bins of its own length
TONE_SHARE = 0.97  # one or two lobes hold this much of the energy: tones (a sine: 99.9 %)
SECOND_SHARE = 0.1  # each of them at least this much
QUIET = 32768 * 10 ** (-50 / 20)


def _tones(x: np.ndarray) -> list[float]:
    """One or two frequencies holding most of ``x``'s energy, or none (broadband)."""
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), NFFT)) ** 2
    total = float(spec.sum()) + 1e-12
    lobe = max(1, round(LOBE_BINS * NFFT / len(x)))
    freqs: list[float] = []
    share = 0.0
    for _ in range(2):
        k = int(np.argmax(spec))
        lo, hi = max(0, k - lobe), k + lobe + 1
        part = float(spec[lo:hi].sum()) / total
        if part < SECOND_SHARE or k == 0 or k >= len(spec) - 1:
            break
        a, b, c = np.log(spec[k - 1 : k + 2] + 1e-12)  # parabolic peak interpolation
        shift = 0.5 * (a - c) / (a - 2 * b + c) if a - 2 * b + c else 0.0
        freqs.append((k + shift) * RATE / NFFT)
        share += part
        spec[lo:hi] = 0
    return freqs if share >= TONE_SHARE else []


class ToneResidue:
    def __init__(self) -> None:
        self._far: deque[np.ndarray] = deque(maxlen=WINDOW_PIECES)
        self._n = 0
        self._energy = 0.0
        self._quiet = HOLD_PIECES
        self.freqs: list[float] = []  # removed now (Hz)
        self._t = 0  # samples since the start (phase of the fitted sinusoids)
        self.pieces = 0  # pieces cleaned

    def push_far(self, far: bytes) -> None:
        x = np.frombuffer(far, "<i2").astype(np.float64)
        energy = float(np.mean(x * x))
        if energy < QUIET * QUIET:  # the far end is quiet: only its echo may still come
            self._far.clear()
            self._quiet += 1
            if self._quiet >= HOLD_PIECES:
                self.freqs = []
            return
        # look now when the far end starts or changes a lot (a new tone), else every EVERY
        jump = self._quiet > 0 or not self._energy * 0.25 <= energy <= self._energy * 4
        self._quiet = 0
        self._energy = energy
        self._far.append(x)
        self._n += 1
        if jump or self._n % EVERY == 0:
            self._look()

    def _look(self) -> None:
        """The tones of the last 300 ms (precise) and of the last 40 ms (a tone that just
        began: its echo is still on the way); both are removed."""
        whole = list(self._far)
        recent = _tones(np.concatenate(whole[-RECENT_PIECES:]))
        freqs = _tones(np.concatenate(whole)) if len(whole) > RECENT_PIECES else []
        for f in recent:
            if all(abs(f - g) > MATCH_HZ for g in freqs):
                freqs.append(f)
        self.freqs = freqs

    def clean(self, near: bytearray) -> None:
        """Subtract the far end's tones from one 10 ms piece, in place."""
        t0, self._t = self._t, self._t + PIECE
        if not self.freqs:
            return
        y = np.frombuffer(bytes(near), "<i2").astype(np.float64)
        half = PIECE // 2
        ramp = np.linspace(-1.0, 1.0, half)
        for h in (0, half):  # 5 ms fits, each with a linear envelope (fades, onsets)
            t = (t0 + h + np.arange(half)) / RATE
            waves = []
            for f in self.freqs:
                s, c = np.sin(2 * np.pi * f * t), np.cos(2 * np.pi * f * t)
                waves += [s, c, s * ramp, c * ramp]
            basis = np.array(waves).T
            coef, *_ = np.linalg.lstsq(basis, y[h : h + half], rcond=None)
            y[h : h + half] -= basis @ coef
        near[:] = np.clip(np.round(y), -32768, 32767).astype("<i2").tobytes()
        self.pieces += 1
