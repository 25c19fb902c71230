"""The simulator's voice: espeak-ng speech when available, otherwise exact sine tones.

Tones make tests exact: reply ``n`` of a conversation (0-based, counted across resumed
connections) is a sine at ``TONE_FREQS_HZ[n % 8]`` with amplitude ``TONE_AMPLITUDE`` and
10 ms raised-cosine fades, lasting the scenario's ``duration_s`` or ``text_duration(text)``.
All output is PCM16 little-endian mono at 24 kHz, like Gemini's.
"""

from __future__ import annotations

import asyncio

from voicecli.audio import synth
from voicecli.audio.synth import espeak_available
from voicecli.speech.voice_table import PREBUILT_VOICES

__all__ = ["PREBUILT_VOICES", "espeak_available"]

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
    """A reply tone: ``TONE_AMPLITUDE``, ``FADE_S`` raised-cosine fades, PCM16 bytes."""
    return synth.tone(freq_hz, duration_s, rate, TONE_AMPLITUDE, fade_s=FADE_S).tobytes()


def use_espeak(voice: str) -> bool:
    return voice in ("auto", "espeak") and espeak_available()


async def espeak(text: str, rate: int = OUTPUT_RATE) -> bytes | None:
    """Speak ``text`` with espeak-ng, resampled to ``rate``; None if it fails."""
    return await asyncio.to_thread(synth.espeak_pcm, text, rate)


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
