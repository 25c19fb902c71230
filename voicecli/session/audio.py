"""The devices of one session, opened before connecting (a device problem shows first).

``talk`` on the microphone opens microphone + speaker + echo control; ``talk --input FILE``
opens nothing. ``listen`` in the room needs the same as ``talk``; with a recording, a missing
device is a note instead: no speaker streams only, no microphone leaves typed turns.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

from voicecli.audio.base import AudioSink, AudioSource
from voicecli.audio.chain import HoldSource, SpeakerFeed
from voicecli.config import Settings
from voicecli.errors import DeviceError


@dataclass
class SessionAudio:
    """Each part may be None (not wanted, or not available)."""

    live: Any = None  # audio.duplex.LiveAudio: microphone + speaker + echo control
    speaker: Any = None  # plays the replies (live.speaker when there is a microphone)
    file_speaker: Any = None  # plays the recording (listen)
    notes: list[str] = field(default_factory=list)  # what fell back, for the status line

    @property
    def sinks(self) -> list[AudioSink]:
        return [self.speaker] if self.speaker is not None else []

    def player(self) -> SpeakerFeed | None:
        return SpeakerFeed(self.file_speaker) if self.file_speaker is not None else None

    def then_source(self, frame_ms: int) -> AudioSource:
        """What follows the recording with --then-talk: the microphone, else typed turns."""
        return self.live.source if self.live is not None else HoldSource(frame_ms)

    def stats(self) -> dict[str, float | int]:
        return self.live.stats() if self.live is not None else {}

    def close(self) -> None:
        for dev in (self.file_speaker, self.live if self.live is not None else self.speaker):
            if dev is not None:
                with contextlib.suppress(Exception):
                    dev.close()


def _live(settings: Settings) -> Any:
    from voicecli.audio.duplex import open_live_audio

    return open_live_audio(
        settings.input_device, settings.output_device, settings.echo, settings.frame_ms
    )


def open_talk_audio(
    settings: Settings, *, has_file: bool, typed_only_ok: bool = False
) -> SessionAudio:
    """The microphone and speaker for ``talk`` (nothing with an input file). Without a
    microphone, ``typed_only_ok`` (lines piped in) makes it a typed session, replies played
    when a speaker opens, instead of an error."""
    audio = SessionAudio()
    if has_file:
        return audio
    try:
        audio.live = _live(settings)
    except DeviceError as e:
        if not typed_only_ok:
            raise
        audio.notes.append(f"no live audio ({e.message}): typed lines only, until they end")
        from voicecli.audio.speaker import SpeakerSink

        try:
            audio.speaker = SpeakerSink(settings.output_device)
        except DeviceError as e:
            audio.notes.append(f"not playing: {e.message}; text only")
        return audio
    audio.speaker = audio.live.speaker
    return audio


def open_listen_audio(
    settings: Settings, *, has_file: bool, then_talk: bool = False, quiet: bool = False
) -> SessionAudio:
    """The devices ``listen`` asks for; see the module text for the fallbacks."""
    from voicecli.audio.speaker import SpeakerSink

    audio = SessionAudio()
    if not has_file:
        audio.live = _live(settings)
        audio.speaker = audio.live.speaker
        return audio
    if quiet:
        return audio
    try:
        if then_talk:
            try:
                audio.live = _live(settings)
                audio.speaker = audio.live.speaker
            except DeviceError as e:
                audio.notes.append(f"no microphone ({e.message}): after the recording, type")
        if audio.speaker is None:
            audio.speaker = SpeakerSink(settings.output_device)
    except DeviceError as e:
        audio.notes.append(f"not playing: {e.message}; streaming only (--quiet skips playing)")
        return audio
    try:
        audio.file_speaker = SpeakerSink(settings.output_device)
    except DeviceError as e:
        audio.notes.append(f"cannot play the recording ({e.message}); replies are still played")
    return audio
