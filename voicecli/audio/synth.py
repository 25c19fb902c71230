"""Generated test audio: speech-like signals, tones, silence and WAV files.

Used by the tests, the demo and the benchmarks, so assertions can be exact (where the
speech is, which frequency, how long). ``speech_like`` is not speech, but webrtcvad at
aggressiveness 2-3 classifies it as speech (the tests check this).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from voicecli.audio.format import Int16Array, float_to_int16


def speech_like(
    seconds: float, rate: int = 16000, f0: float = 140.0, seed: int = 0, amp: float = 0.3
) -> Int16Array:
    """Voiced speech-like audio: a harmonic series with formant-ish weighting, vibrato on
    the pitch, ~4 Hz syllabic amplitude modulation and a little noise."""
    rng = np.random.default_rng(seed)
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    # pitch wanders +-8 % slowly, like intonation
    f = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6.28)))
    phase = 2 * np.pi * np.cumsum(f) / rate
    x = np.zeros(n)
    for k in range(1, 30):
        fk = k * f0
        if fk > rate / 2 - 200:
            break
        # spectral envelope with bumps near 500, 1500 and 2500 Hz (rough formants)
        w = sum(
            np.exp(-(((fk - fc) / bw) ** 2)) for fc, bw in ((500, 300), (1500, 400), (2500, 500))
        )
        x += (0.2 + w) / k**0.5 * np.sin(k * phase + rng.uniform(0, 6.28))
    # syllables: ~4 Hz envelope that dips low but not to zero
    syll = 0.6 + 0.4 * np.sin(2 * np.pi * 4.0 * t + rng.uniform(0, 6.28))
    x *= syll
    x += 0.02 * rng.standard_normal(n) * np.max(np.abs(x) + 1e-9)
    peak = float(np.max(np.abs(x))) if n else 1.0
    return float_to_int16(x / (peak or 1.0) * amp)


def tone(freq: float, seconds: float, rate: int = 16000, amp: float = 0.5) -> Int16Array:
    """A sine at ``freq`` Hz, ``amp`` of full scale."""
    t = np.arange(int(round(seconds * rate))) / rate
    return float_to_int16(amp * np.sin(2 * np.pi * freq * t))


def silence(seconds: float, rate: int = 16000) -> Int16Array:
    return np.zeros(int(round(seconds * rate)), dtype=np.int16)


def noise(seconds: float, rate: int = 16000, amp: float = 0.01, seed: int = 0) -> Int16Array:
    """White noise at ``amp`` RMS of full scale."""
    rng = np.random.default_rng(seed)
    return float_to_int16(amp * rng.standard_normal(int(round(seconds * rate))))


def write_wav(
    path: str | Path,
    samples: np.ndarray,
    rate: int,
    channels: int = 1,
    subtype: str = "PCM_16",
) -> Path:
    """Write int16 (or float) samples; mono samples are copied to every channel.

    The container comes from the suffix (.wav, .flac, .ogg); ``subtype`` is a soundfile
    subtype (PCM_16, PCM_24, PCM_32, FLOAT, VORBIS, ...).
    """
    path = Path(path)
    data = np.asarray(samples)
    if np.issubdtype(data.dtype, np.integer):
        data = data.astype(np.float64) / 32768.0
    if data.ndim == 1 and channels > 1:
        data = np.repeat(data[:, None], channels, axis=1)
    if path.suffix.lower() == ".ogg" and subtype.startswith("PCM"):
        subtype = "VORBIS"
    sf.write(str(path), data, rate, subtype=subtype)
    return path


def make_utterances_wav(
    path: str | Path,
    pattern: Sequence[tuple[float, float]] = ((1.0, 1.0),),
    rate: int = 16000,
    channels: int = 1,
    subtype: str = "PCM_16",
    lead_silence_s: float = 0.5,
    seed: int = 0,
) -> list[tuple[float, float]]:
    """Write silence, then ``(speech_s, silence_s)`` pairs; returns where the speech is."""
    parts = [silence(lead_silence_s, rate)]
    spans: list[tuple[float, float]] = []
    pos = len(parts[0])
    for i, (speech_s, silence_s) in enumerate(pattern):
        s = speech_like(speech_s, rate, seed=seed + i)
        spans.append((pos / rate, (pos + len(s)) / rate))
        parts += [s, silence(silence_s, rate)]
        pos += len(s) + len(parts[-1])
    write_wav(path, np.concatenate(parts), rate, channels, subtype)
    return spans


def espeak_wav(text: str, path: str | Path) -> bool:
    """Speak ``text`` into a WAV with espeak-ng; False if espeak-ng is not installed."""
    exe = shutil.which("espeak-ng") or shutil.which("espeak")
    if exe is None:
        return False
    try:
        subprocess.run([exe, "-w", str(path), text], check=True, capture_output=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return False
    return Path(path).exists()
