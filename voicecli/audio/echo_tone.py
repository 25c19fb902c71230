"""Tone residue: what AEC3 leaves of a narrowband far end, taken out after it (pure).

WebRTC's AEC3 keeps its adaptive filter from learning narrowband far-end audio (a tone
would make it diverge), so the echo of a steady tone at a frequency it has not heard before
passes almost untouched for a few hundred ms (measured on the loopback: 0-2 dB of reduction
at the start of each new tone, 50 dB for speech). ``ToneResidue`` watches the far end; while
one or two spectral lobes hold nearly all its energy it finds those frequencies, and the
echo canceller sends the microphone with the best-fitting sinusoids at them subtracted
(fitted per 5 ms with a linear envelope, so fades and onsets go too) instead of AEC3's
output. The user's voice loses only those frequencies, so barge-in still works. Broadband
far ends (speech) are left to AEC3.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from voicecli.audio.echo_path import PIECE, RATE, hann

WINDOW_PIECES = 30  # the far end looked at: at most the last 300 ms of it...
HOLD_PIECES = 15  # ...and its tones kept this long after it went quiet (the echo lags)
EVERY = 5  # pieces between looks while the level stays the same...
ONSET_PIECES = 10  # ...every other piece this long after the far end started or jumped...
BROADBAND_EVERY = 20  # ...and every 200 ms once it has been broadband (speech) for 300 ms
RECENT_PIECES = 4
MATCH_HZ = 10.0
REFIT_HZ = 1.0  # the fit is rebuilt when a tone moved this much (its envelope terms
# absorb a smaller error: over 5 ms, 1 Hz is 0.016 rad of phase, to first order a ramp)
NFFT, NFFT_RECENT = 8192, 2048
HALF = PIECE // 2
LOBE_BINS = 2.5  # a Hann window's main lobe: +-2 bins of its own length
TONE_SHARE = 0.97  # one or two lobes hold this much of the energy: tones (a sine: 99.9 %)
SECOND_SHARE = 0.1  # each of them at least this much
QUIET = 32768 * 10 ** (-50 / 20)


def _tones(x: np.ndarray, nfft: int = NFFT) -> list[float]:
    """One or two frequencies holding most of ``x``'s energy, or none (broadband)."""
    spec = np.abs(np.fft.rfft(x * hann(len(x)), nfft)) ** 2
    total = float(spec.sum()) + 1e-12
    lobe = max(1, round(LOBE_BINS * nfft / len(x)))
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
        freqs.append((k + shift) * RATE / nfft)
        share += part
        spec[lo:hi] = 0
    return freqs if share >= TONE_SHARE else []


class ToneResidue:
    def __init__(self) -> None:
        self._far: deque[np.ndarray] = deque(maxlen=WINDOW_PIECES)
        self._n = 0  # loud far pieces since the far end started (gaps between words in)
        self._quiet = HOLD_PIECES
        self.freqs: list[float] = []  # removed now (Hz)
        self._fit: tuple[np.ndarray, np.ndarray] | None = None  # basis and its pseudo-inverse
        self._fit_freqs: list[float] = []  # the frequencies it was built for
        self.pieces = 0  # pieces cleaned
        self.fits = 0  # bases built (a steady tone needs one)

    def push_far(self, far: bytes) -> None:
        x = np.frombuffer(far, "<i2").astype(np.float64)
        energy = float(np.dot(x, x)) / len(x)
        if energy < QUIET * QUIET:  # the far end is quiet: only its echo may still come
            self._far.clear()
            self._quiet += 1
            if self._quiet >= HOLD_PIECES:
                self._set([])
            return
        # looked at more often just after the far end started (see _every); a gap between
        # words (speech, nothing held) is no new start, a gap in or after tones is
        started = self._quiet >= HOLD_PIECES or (self._quiet > 0 and bool(self.freqs))
        self._quiet = 0
        self._far.append(x)
        self._n = 0 if started else self._n + 1
        if self._n % self._every() == 0:
            self._look()

    def _every(self) -> int:
        if self._n < ONSET_PIECES:
            return 2
        if not self.freqs and self._n >= WINDOW_PIECES:
            # speech: a tone starting in the middle of it is not what a voice does, and a
            # look is an 8192-point FFT (looking every 50 ms cost 0.2 % of a core)
            return BROADBAND_EVERY
        return EVERY

    def _look(self) -> None:
        """The tones of the last 300 ms (precise) and of the last 40 ms (a tone that just
        began: its echo is still on the way); both are removed."""
        whole = list(self._far)
        freqs = _tones(np.concatenate(whole)) if len(whole) > RECENT_PIECES else []
        if not (freqs or self.freqs or self._n < ONSET_PIECES):
            self._set([])  # broadband for a while: speech, AEC3's
            return
        recent = _tones(np.concatenate(whole[-RECENT_PIECES:]), NFFT_RECENT)
        for f in recent:
            if all(abs(f - g) > MATCH_HZ for g in freqs):
                freqs.append(f)
        self._set(freqs)

    def _set(self, freqs: list[float]) -> None:
        self.freqs = freqs
        if not freqs:
            self._fit, self._fit_freqs = None, []
            return
        old = sorted(self._fit_freqs)
        if len(old) == len(freqs) and all(
            abs(f - g) <= REFIT_HZ for f, g in zip(sorted(freqs), old, strict=True)
        ):
            return  # the same tones: looked at every 50 ms, the pseudo-inverse is not cheap
        self._fit_freqs = list(freqs)
        self.fits += 1
        # sinusoids of free phase, each also with a linear envelope, over 5 ms: the same
        # basis fits every half piece, so its pseudo-inverse is computed once per look
        n = np.arange(HALF)
        ramp = np.linspace(-1.0, 1.0, HALF)
        waves = []
        for f in freqs:
            s, c = np.sin(2 * np.pi * f * n / RATE), np.cos(2 * np.pi * f * n / RATE)
            waves += [s, c, s * ramp, c * ramp]
        basis = np.array(waves).T  # HALF x 4k
        self._fit = (basis, np.linalg.pinv(basis))

    def clean(self, near: bytearray) -> None:
        """Subtract the far end's tones from one 10 ms piece, in place."""
        if self._fit is None:
            return
        basis, pinv = self._fit
        y = np.frombuffer(bytes(near), "<i2").astype(np.float64).reshape(2, HALF)
        y -= (y @ pinv.T) @ basis.T  # each 5 ms half minus its best fit
        near[:] = np.clip(np.round(y.ravel()), -32768, 32767).astype("<i2").tobytes()
        self.pieces += 1
