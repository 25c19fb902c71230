"""PCM16 helpers: bytes <-> numpy, downmix, levels, float -> int16 with clipping.

Everything here is little-endian signed 16-bit PCM (what the Live API sends and takes).
Float audio is in [-1.0, 1.0); int16 full scale is 32768.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

Int16Array = npt.NDArray[np.int16]
Float32Array = npt.NDArray[np.float32]

FULL_SCALE = 32768.0
SILENCE_DBFS = -120.0  # floor reported for digital silence


def bytes_to_int16(pcm: bytes) -> Int16Array:
    """View PCM16 LE bytes as int16 samples (a copy, so the result is writable)."""
    if len(pcm) % 2:
        raise ValueError(f"PCM16 needs an even number of bytes, got {len(pcm)}")
    return np.frombuffer(pcm, dtype="<i2").astype(np.int16)


def int16_to_bytes(samples: npt.ArrayLike) -> bytes:
    """int16 samples (any shape; interleaved if 2-D frames x channels) to PCM16 LE bytes."""
    return np.ascontiguousarray(samples, dtype="<i2").tobytes()


def bytes_to_float32(pcm: bytes) -> Float32Array:
    """PCM16 LE bytes to float32 in [-1, 1)."""
    return (bytes_to_int16(pcm).astype(np.float32) / FULL_SCALE).astype(np.float32)


def float_to_int16(samples: npt.ArrayLike) -> Int16Array:
    """Float audio in [-1, 1] to int16, rounding and clipping (no wrap-around)."""
    x = np.asarray(samples, dtype=np.float64) * FULL_SCALE
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


def float32_to_bytes(samples: npt.ArrayLike) -> bytes:
    return int16_to_bytes(float_to_int16(samples))


def to_mono(samples: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Average the channels of a (frames, channels) array; 1-D input is returned as is.

    int16 input stays int16 (averaged in a wider type, so no overflow).
    """
    a = np.asarray(samples)
    if a.ndim == 1:
        return a
    if a.ndim != 2:
        raise ValueError(f"expected (frames, channels), got shape {a.shape}")
    if a.shape[1] == 1:
        return a[:, 0]
    # column by column: numpy reductions along a short last axis are slow
    integer = np.issubdtype(a.dtype, np.integer)
    acc: npt.NDArray[Any] = a[:, 0].astype(np.int64 if integer else np.float32)
    for c in range(1, a.shape[1]):
        acc += a[:, c]
    if integer:
        return np.clip(np.rint(acc / a.shape[1]), -32768, 32767).astype(a.dtype)
    acc *= np.float32(1.0 / a.shape[1])
    return acc.astype(a.dtype, copy=False)


def downmix_bytes(pcm: bytes, channels: int) -> bytes:
    """Interleaved PCM16 with ``channels`` channels to mono PCM16."""
    if channels == 1:
        return pcm
    a = bytes_to_int16(pcm)
    return int16_to_bytes(to_mono(a.reshape(-1, channels)))


def rms(samples: npt.ArrayLike | bytes) -> float:
    """RMS level relative to full scale (0.0 .. ~1.0). Bytes are read as PCM16."""
    if isinstance(samples, bytes | bytearray | memoryview):
        # one dot product (float32 is plenty for a level): five times faster than a mean
        # of squares, and this runs on every frame and every model chunk
        x = np.frombuffer(samples, dtype="<i2", count=len(samples) // 2).astype(np.float32)
        return float(np.sqrt(np.dot(x, x) / x.size)) / FULL_SCALE if x.size else 0.0
    else:
        arr = np.asarray(samples)
        a = arr.astype(np.float64)
        if np.issubdtype(arr.dtype, np.integer):
            a /= FULL_SCALE
    if a.size == 0:
        return 0.0
    return float(np.sqrt(np.mean(a * a)))


def dbfs(samples: npt.ArrayLike | bytes) -> float:
    """Level in dBFS (a full-scale sine is about -3 dBFS); SILENCE_DBFS for silence."""
    level = rms(samples)
    if level <= 0.0:
        return SILENCE_DBFS
    return max(SILENCE_DBFS, 20.0 * math.log10(level))


def duration_s(pcm: bytes, rate: int, channels: int = 1) -> float:
    """Length in seconds of PCM16 bytes."""
    return len(pcm) / (2 * channels * rate)


def mime_rate(mime: str | None) -> int | None:
    """The ``rate=`` parameter of an audio mime type (``audio/pcm;rate=24000``), or None."""
    for piece in (mime or "").split(";")[1:]:
        name, _, value = piece.partition("=")
        if name.strip() == "rate" and value.strip().isdigit():
            return int(value.strip())
    return None
