"""Streaming resampling (soxr) and reframing into fixed-size frames.

Device and file rates (8k, 44.1k, 48k, ...) become the 16 kHz the Live API takes, or the
24 kHz model audio becomes what a device wants. ``soxr.ResampleStream`` keeps filter state
between chunks, so chunk boundaries do not click; never resample with linear interpolation.
"""

from __future__ import annotations

import numpy as np
import soxr

from voicecli.audio.format import bytes_to_int16, int16_to_bytes


class StreamResampler:
    """int16 mono PCM16 bytes in at ``in_rate``, PCM16 bytes out at ``out_rate``.

    ``process`` may return less (even nothing) than the input length implies: the filter
    holds a little audio back. ``flush`` returns the tail; after it the resampler is reset
    and can take a new stream. Equal rates take an identity fast path.
    """

    def __init__(self, in_rate: int, out_rate: int, quality: str = "HQ") -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"rates must be positive, got {in_rate} -> {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.quality = quality
        self._odd = b""  # a dangling byte from an odd-length chunk
        self._stream = self._new_stream()

    @property
    def identity(self) -> bool:
        return self.in_rate == self.out_rate

    def _new_stream(self) -> soxr.ResampleStream | None:
        if self.identity:
            return None
        return soxr.ResampleStream(
            self.in_rate, self.out_rate, 1, dtype="int16", quality=self.quality
        )

    def burst_s(self) -> float:
        """How unevenly the output comes, in seconds (0 for equal rates): soxr filters in
        blocks, so of audio fed at an even pace it returns a block at a time (at HQ,
        24 -> 48 kHz: 34.6 ms, though 40 ms go in), holding back up to this much more at
        one time than at another. Measured once on a stream of silence of its own."""
        if self.identity:
            return 0.0
        probe = self._new_stream()
        assert probe is not None
        piece = np.zeros(max(1, self.in_rate // 100), dtype=np.int16)  # 10 ms at a time
        lags = []
        fed = made = 0
        for _ in range(50):
            fed += len(piece)
            made += len(probe.resample_chunk(piece, last=False))
            lags.append(fed * self.out_rate / self.in_rate - made)
        return (max(lags) - min(lags[5:])) / self.out_rate

    def process(self, chunk: bytes) -> bytes:
        data = self._odd + chunk
        if len(data) % 2:
            data, self._odd = data[:-1], data[-1:]
        else:
            self._odd = b""
        if self._stream is None:
            return data
        if not data:
            return b""
        out = self._stream.resample_chunk(bytes_to_int16(data), last=False)
        return int16_to_bytes(out)

    def flush(self) -> bytes:
        """Return the held-back tail and reset for a new stream."""
        self._odd = b""
        if self._stream is None:
            return b""
        out = self._stream.resample_chunk(np.zeros(0, dtype=np.int16), last=True)
        self._stream = self._new_stream()
        return int16_to_bytes(out)


def resample_once(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    """Resample a whole PCM16 buffer (process + flush)."""
    r = StreamResampler(in_rate, out_rate)
    return r.process(pcm) + r.flush()


class Reframer:
    """Cut arbitrary byte chunks into frames of exactly ``frame_bytes`` bytes."""

    def __init__(self, frame_bytes: int) -> None:
        if frame_bytes <= 0 or frame_bytes % 2:
            raise ValueError(f"frame_bytes must be a positive even number, got {frame_bytes}")
        self.frame_bytes = frame_bytes
        self._buf = bytearray()

    @property
    def pending(self) -> int:
        """Bytes waiting for a full frame."""
        return len(self._buf)

    def push(self, chunk: bytes) -> list[bytes]:
        self._buf += chunk
        n = len(self._buf) // self.frame_bytes
        if n == 0:
            return []
        cut = n * self.frame_bytes
        data = bytes(self._buf[:cut])
        del self._buf[:cut]
        fb = self.frame_bytes
        return [data[i * fb : (i + 1) * fb] for i in range(n)]

    def flush(self, pad: bool = True) -> list[bytes]:
        """The leftover as a last frame (zero-padded if ``pad``, dropped otherwise)."""
        if not self._buf:
            return []
        rest = bytes(self._buf)
        self._buf.clear()
        if not pad:
            return []
        return [rest + bytes(self.frame_bytes - len(rest))]
