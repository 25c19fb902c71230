"""Join the audio of consecutive requests without clicks, as it streams.

The last ``fade_ms`` of each segment is held back; when the next segment starts, that tail
and the next segment's first ``fade_ms`` are cross-faded with raised-cosine gains that sum
to one, so a join has no step, whatever the two waveforms do there. Each join shortens the
total by one fade length. Audio passes through as soon as it is no longer needed for a
join, so streaming playback is delayed by at most ``fade_ms``.
"""

from __future__ import annotations

import numpy as np

from voicecli.audio.format import Int16Array, bytes_to_int16, int16_to_bytes

DEFAULT_FADE_MS = 10


def crossfade(tail: Int16Array, head: Int16Array) -> Int16Array:
    """Fade ``tail`` out while ``head`` fades in (equal lengths)."""
    n = len(tail)
    if n == 0:
        return head.copy()
    fade_in = 0.5 - 0.5 * np.cos(np.pi * (np.arange(n) + 0.5) / n)
    mixed = tail.astype(np.float64) * (1.0 - fade_in) + head.astype(np.float64) * fade_in
    return np.clip(np.rint(mixed), -32768, 32767).astype(np.int16)


class Stitcher:
    """Feed segments with ``start_segment`` + ``push``; ``finish`` returns the rest."""

    def __init__(self, rate: int = 24000, fade_ms: int = DEFAULT_FADE_MS) -> None:
        self.fade = max(0, rate * fade_ms // 1000)
        self.joins = 0
        self._held = np.zeros(0, dtype=np.int16)  # last samples, kept for the next join
        self._head = np.zeros(0, dtype=np.int16)  # first samples of a segment being joined
        self._joining = False

    def start_segment(self) -> None:
        """The next ``push`` begins a new segment, to be joined to what came before."""
        if self._joining:  # the previous segment was shorter than a fade: treat it as data
            self._held = self._join_short()
        self._joining = len(self._held) > 0 and self.fade > 0

    def push(self, pcm: bytes) -> bytes:
        a = bytes_to_int16(pcm)
        if self._joining:
            self._head = np.concatenate([self._head, a])
            if len(self._head) < self.fade:
                return b""
            n = min(len(self._held), self.fade)
            keep = self._held[: len(self._held) - n]
            joined = crossfade(self._held[len(self._held) - n :], self._head[:n])
            data = np.concatenate([keep, joined, self._head[n:]])
            self._head = np.zeros(0, dtype=np.int16)
            self._joining = False
            self.joins += 1
        else:
            data = np.concatenate([self._held, a])
        if len(data) <= self.fade:
            self._held = data
            return b""
        cut = len(data) - self.fade
        self._held = data[cut:]
        return int16_to_bytes(data[:cut])

    def finish(self) -> bytes:
        """Everything still held back (the end of the last segment)."""
        rest = self._join_short() if self._joining else self._held
        self._held = np.zeros(0, dtype=np.int16)
        self._joining = False
        return int16_to_bytes(rest)

    def _join_short(self) -> Int16Array:
        """A join whose new segment ended before a whole fade: fade over what there is."""
        head = self._head
        self._head = np.zeros(0, dtype=np.int16)
        self._joining = False
        n = min(len(head), len(self._held))
        if n == 0:
            return np.concatenate([self._held, head])
        self.joins += 1
        start = len(self._held) - n
        mixed = crossfade(self._held[start:], head[:n])
        return np.concatenate([self._held[:start], mixed, head[n:]])


def stitch(segments: list[bytes], rate: int = 24000, fade_ms: int = DEFAULT_FADE_MS) -> bytes:
    """Whole segments joined in one go (for tests and non-streamed use)."""
    s = Stitcher(rate, fade_ms)
    out = []
    for seg in segments:
        s.start_segment()
        out.append(s.push(seg))
    out.append(s.finish())
    return b"".join(out)
