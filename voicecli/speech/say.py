"""``say``: check everything that can be checked locally, plan the requests, speak them.

``plan_job`` fails before anything is sent (unknown model or voice, empty text, a script
with the wrong speakers); ``run_say`` opens a client for the settings and plays the plan
into an AudioSink.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicecli.audio.base import AudioSink, PlayingSink
from voicecli.config import Settings
from voicecli.errors import ModelError, UsageError
from voicecli.live.capabilities import TTS_MODELS
from voicecli.speech.prompt import (
    DEFAULT_MAX_CHARS,
    Directions,
    TtsRequest,
    plan_dialogue,
    plan_single,
)
from voicecli.speech.request import SpeechClient
from voicecli.speech.script import Speaker, Turn, check_speakers, parse_script, parse_speaker
from voicecli.speech.synth import SpeechStats, speak
from voicecli.speech.voices import canonical_voice

DEFAULT_TTS_MODEL = TTS_MODELS[0]


@dataclass(frozen=True)
class SayJob:
    text: str  # plain text, or a "Name: line" script when there are speakers
    model: str = DEFAULT_TTS_MODEL
    voice: str = "Kore"
    directions: Directions = Directions()
    speakers: tuple[Speaker, ...] = ()  # two for a dialogue
    stream: bool = True
    max_chars: int = DEFAULT_MAX_CHARS


def check_tts_model(model: str) -> str:
    name = model.removeprefix("models/")
    if name not in TTS_MODELS:
        raise ModelError(
            f"{name} is not a speech generation (TTS) model",
            f"use one of {', '.join(TTS_MODELS)}",
        )
    return name


def checked_speakers(speakers: tuple[Speaker, ...]) -> tuple[Speaker, ...]:
    """Speakers with canonical voice names, after the two-speaker checks."""
    check_speakers(list(speakers))
    return tuple(Speaker(s.name, canonical_voice(s.voice)) for s in speakers)


def plan_job(job: SayJob) -> list[TtsRequest]:
    """The requests for ``job``; every local check happens here, before sending."""
    model = check_tts_model(job.model)
    if job.max_chars < 20:
        raise UsageError("--max-chars must be at least 20")
    if not job.text.strip():
        raise UsageError("there is no text to say", "give TEXT, --file FILE or pipe it in")
    if job.speakers:
        speakers = checked_speakers(job.speakers)
        turns = parse_script(job.text, list(speakers))
        return plan_dialogue(turns, speakers, job.directions, model, job.max_chars)
    return plan_single(job.text, canonical_voice(job.voice), job.directions, model, job.max_chars)


def plan_turns(turns: list[Turn], speakers: tuple[Speaker, ...], job: SayJob) -> list[TtsRequest]:
    """Requests for an already parsed dialogue (the overview's script)."""
    model = check_tts_model(job.model)
    return plan_dialogue(turns, checked_speakers(speakers), job.directions, model, job.max_chars)


def open_client(settings: Settings) -> SpeechClient:
    from voicecli.live.transport import make_client

    return SpeechClient(
        make_client(settings, "rest"), timeout_s=settings.timeout, key=settings.api_key
    )


async def run_plan(
    settings: Settings,
    requests: list[TtsRequest],
    sink: AudioSink,
    *,
    stream: bool = True,
    on_request: Callable[[int, int], None] | None = None,
) -> SpeechStats:
    device = _Playing.of(sink)
    client = open_client(settings)
    try:
        stats = await speak(
            client,
            requests,
            sink,
            stream=stream,
            on_request=on_request,
            played=device.played if device else None,
        )
    finally:
        await client.aclose()
    if device is not None:
        await device.finish(stats.audio_s)
    return stats


class _Playing:
    """A sink that plays in real time (the speaker): how much it played, and its end."""

    def __init__(self, sink: Any) -> None:
        self.sink = sink

    @classmethod
    def of(cls, sink: AudioSink) -> _Playing | None:
        return cls(sink) if isinstance(sink, PlayingSink) else None

    def played(self) -> float:
        return float(self.sink.played_s)

    async def finish(self, total_s: float) -> None:
        """End the stream and wait until the last sample has been played."""
        self.sink.flush()
        polls = int((max(0.0, total_s - self.played()) + 5.0) / 0.05)  # bounded: no hang
        for _ in range(polls):
            if not self.sink.is_playing:
                return
            await asyncio.sleep(0.05)


async def run_say(
    settings: Settings,
    job: SayJob,
    sink: AudioSink,
    on_request: Callable[[int, int], None] | None = None,
) -> SpeechStats:
    """Check, plan and speak ``job`` into ``sink`` (which the caller closes)."""
    requests = plan_job(job)
    return await run_plan(settings, requests, sink, stream=job.stream, on_request=on_request)


def read_text(text: str | None, file: Path | None) -> str:
    """The text to say: the argument, ``--file`` (``-`` is stdin), or piped stdin."""
    if text is not None and file is not None:
        raise UsageError("give the text or --file, not both")
    if text is not None:
        return text
    if file is not None and str(file) != "-":
        try:
            return file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            why = e.strerror if isinstance(e, OSError) else "not UTF-8 text"
            raise UsageError(f"cannot read {file}: {why}", "check the path") from None
    if file is None and sys.stdin.isatty():
        raise UsageError("no text given", 'voicecli say "Hello", --file FILE, or pipe text in')
    return sys.stdin.read()


def parse_speakers(specs: list[str] | None) -> tuple[Speaker, ...]:
    speakers = tuple(parse_speaker(s) for s in specs or ())
    if speakers:
        check_speakers(list(speakers))
    return speakers


def summary(stats: SpeechStats, out: Path | None) -> str:
    where = f"wrote {out}" if out else "played"
    first = f", first audio after {stats.first_audio_s:.2f} s" if stats.first_audio_s else ""
    parts = "request" if stats.requests == 1 else "requests"
    return (
        f"{where}: {stats.audio_s:.1f} s of audio from {stats.requests} {parts}{first}, "
        f"{stats.elapsed_s:.1f} s in all"
    )
