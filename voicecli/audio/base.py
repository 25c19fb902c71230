"""The narrow seams between audio and the rest of voicecli.

An ``AudioSource`` yields fixed-size frames of 16 kHz mono PCM16 (what the Live API takes);
an ``AudioSink`` takes 24 kHz mono PCM16 (what it returns). WAV files, the virtual devices and
real devices differ only in which class the CLI builds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

INPUT_RATE = 16000  # Live API input: PCM16 LE mono 16 kHz
OUTPUT_RATE = 24000  # Live API output: PCM16 LE mono 24 kHz
SAMPLE_WIDTH = 2
INPUT_MIME = f"audio/pcm;rate={INPUT_RATE}"


def frame_bytes(frame_ms: int, rate: int = INPUT_RATE) -> int:
    """Size in bytes of one mono PCM16 frame of ``frame_ms`` at ``rate``."""
    return rate * frame_ms // 1000 * SAMPLE_WIDTH


@runtime_checkable
class AudioSource(Protocol):
    """Frames of 16 kHz mono PCM16, each exactly ``frame_ms`` long (the last one padded)."""

    frame_ms: int

    def frames(self) -> AsyncIterator[bytes]: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class AudioSink(Protocol):
    """Where model audio goes (24 kHz mono PCM16): a speaker, a file, a test's buffer.

    ``write`` queues audio; ``flush`` says the model's turn is over (play the rest at once;
    running dry after it is no underrun); ``clear`` drops what is queued (barge-in); ``close``
    ends it. ``played_s`` is how much audio actually reached the listener: the speaker counts
    what its device played, a file everything written.
    """

    def write(self, pcm: bytes) -> None: ...

    def flush(self) -> None: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...

    @property
    def played_s(self) -> float: ...


@runtime_checkable
class PausableSink(AudioSink, Protocol):
    """A sink that can hold playback on a possible barge-in: ``pause`` keeps what is queued
    (and what is written meanwhile), ``resume`` plays on from the same sample, ``clear``
    drops it. A file sink has nothing to pause (no-ops)."""

    def pause(self) -> None: ...

    def resume(self) -> None: ...


@runtime_checkable
class PlayingSink(AudioSink, Protocol):
    """A sink that plays in real time: whether sound is still coming out."""

    @property
    def is_playing(self) -> bool: ...
