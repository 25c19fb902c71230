"""The simulator's voice: espeak-ng speech when available, otherwise exact sine tones.

Tones make tests exact: reply ``n`` of a conversation (0-based, counted across resumed
connections) is a sine at ``TONE_FREQS_HZ[n % 8]`` with amplitude ``TONE_AMPLITUDE`` and
10 ms raised-cosine fades, lasting the scenario's ``duration_s`` or ``text_duration(text)``.
All output is PCM16 little-endian mono at 24 kHz, like Gemini's.
"""

from __future__ import annotations

import asyncio
import io
import shutil

import numpy as np
import soundfile as sf
import soxr

from voicecli.speech.voice_table import PREBUILT_VOICES

OUTPUT_RATE = 24000
TONE_FREQS_HZ = (440, 550, 660, 770, 880, 990, 1100, 1320)
TONE_AMPLITUDE = 0.3
FADE_S = 0.01
SECONDS_PER_CHAR = 0.07


def tone_frequency(index: int) -> int:
    """Frequency of reply ``index`` (0-based) in tone mode."""
    return TONE_FREQS_HZ[index % len(TONE_FREQS_HZ)]


def voice_frequency(voice_name: str) -> int:
    """Tone frequency for a prebuilt voice in REST TTS (200 Hz + 20 Hz per list position)."""
    names = list(PREBUILT_VOICES)
    return 200 + 20 * names.index(voice_name) if voice_name in names else 200


def text_duration(text: str) -> float:
    """Reply length in tone mode when the scenario gives none: 70 ms per character."""
    return round(min(10.0, max(0.5, SECONDS_PER_CHAR * len(text))), 3)


def tone(freq_hz: float, duration_s: float, rate: int = OUTPUT_RATE) -> bytes:
    n = round(duration_s * rate)
    t = np.arange(n) / rate
    wave = TONE_AMPLITUDE * np.sin(2 * np.pi * freq_hz * t)
    fade = min(round(FADE_S * rate), n // 2)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, fade))
        wave[:fade] *= ramp
        wave[n - fade :] *= ramp[::-1]
    return (wave * 32767).astype("<i2").tobytes()


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def use_espeak(voice: str) -> bool:
    return voice in ("auto", "espeak") and espeak_available()


async def espeak(text: str, rate: int = OUTPUT_RATE) -> bytes | None:
    """Speak ``text`` with espeak-ng, resampled to ``rate``; None if it fails."""
    exe = shutil.which("espeak-ng")
    if exe is None or not text.strip():
        return None
    proc = await asyncio.create_subprocess_exec(
        exe,
        "--stdout",
        "-v",
        "en-us",
        text,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    wav, _ = await proc.communicate()
    if proc.returncode != 0 or not wav:
        return None
    data, src_rate = sf.read(io.BytesIO(wav), dtype="float32")
    if data.ndim > 1:
        data = data.mean(axis=1)
    if src_rate != rate:
        data = soxr.resample(data, src_rate, rate)
    return (np.clip(data, -1.0, 1.0) * 32767).astype("<i2").tobytes()


async def synthesize(
    text: str, index: int, duration_s: float | None, voice: str, freq_hz: float | None = None
) -> bytes:
    """Reply audio for conversation reply ``index`` (PCM16 mono 24 kHz)."""
    if use_espeak(voice):
        pcm = await espeak(text)
        if pcm is not None:
            return pcm
    freq = freq_hz if freq_hz is not None else tone_frequency(index)
    return tone(freq, duration_s if duration_s is not None else text_duration(text))
