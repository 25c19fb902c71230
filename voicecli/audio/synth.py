"""Generated audio: speech-like signals, tones, silence, espeak-ng speech and WAV files.

The one set of signal helpers: the tests, the demo, the benchmarks and the simulator's voice
all use these, so assertions can be exact (where the speech is, which frequency, how long).
``speech_like`` is not speech, but webrtcvad at aggressiveness 2-3 classifies it as speech
(the tests check this).
"""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

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


def steady_speech(
    seconds: float, rate: int = 16000, f0: float = 150.0, amp: float = 0.25
) -> Int16Array:
    """A plainer speech-like signal whose energy is there from the first sample: 11
    harmonics of ``f0`` under a 4 Hz envelope that starts at its mean. Timing tests use it
    (an onset lands where the signal starts, within one detector frame)."""
    t = np.arange(round(seconds * rate)) / rate
    sig = sum((1 / k) * np.sin(2 * np.pi * f0 * k * t) for k in range(1, 12))
    env = 0.55 + 0.45 * np.sin(2 * np.pi * 4 * t)
    peak = float(np.max(np.abs(sig))) if t.size else 1.0
    return float_to_int16(amp * sig * env / (peak or 1.0))


def tone(
    freq: float, seconds: float, rate: int = 16000, amp: float = 0.5, fade_s: float = 0.0
) -> Int16Array:
    """A sine at ``freq`` Hz, ``amp`` of full scale; ``fade_s`` raised-cosine fades."""
    n = int(round(seconds * rate))
    wave = amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)
    fade = min(round(fade_s * rate), n // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
        wave[:fade] *= ramp
        wave[n - fade :] *= ramp[::-1]
    return float_to_int16(wave)


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


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def espeak_pcm(text: str, rate: int = 16000, voice: str = "en-us") -> bytes | None:
    """``text`` spoken by espeak-ng as PCM16 mono at ``rate``; None without espeak-ng or
    when it fails (blocking: the simulator runs it in a thread)."""
    exe = shutil.which("espeak-ng")
    if exe is None or not text.strip():
        return None
    try:
        proc = subprocess.run(
            [exe, "--stdout", "-v", voice, text], check=True, capture_output=True, timeout=60
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if not proc.stdout:
        return None
    data, src_rate = sf.read(io.BytesIO(proc.stdout), dtype="float32")
    if data.ndim > 1:
        data = data.mean(axis=1)
    if src_rate != rate:
        data = soxr.resample(data, src_rate, rate)
    return float_to_int16(np.clip(data, -1.0, 1.0)).tobytes()


def espeak_wav(text: str, path: str | Path, rate: int = 16000) -> bool:
    """Speak ``text`` into a WAV at ``rate``; False if espeak-ng is not installed."""
    pcm = espeak_pcm(text, rate)
    if pcm is None:
        return False
    write_wav(path, np.frombuffer(pcm, dtype=np.int16), rate)
    return True
