"""Sources in sequence, and a source played while it is sent (``voicecli listen``).

* ``ChainedSource``: each source's frames in turn (a recording, then the microphone), with
  ``gap_ms`` of digital silence between them, so the gate closes the last utterance of one
  part (and the server's turn detection hears its end) before the next part begins.
* ``HoldSource``: yields nothing until ``release()``; after a recording it keeps the session
  open for typed turns.
* ``PlayAlong``: a source whose frames are also handed to a player as they are sent, so the
  user hears the recording in step with the model (``SpeakerFeed`` plays 16 kHz frames on a
  sink that takes 24 kHz model audio).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable

from voicecli.audio.base import INPUT_RATE, OUTPUT_RATE, AudioSink, AudioSource, frame_bytes
from voicecli.audio.resample import StreamResampler


class ChainedSource:
    """The frames of ``sources`` one after the other; ``on_next(i)`` when part ``i`` starts."""

    def __init__(
        self,
        *sources: AudioSource,
        gap_ms: int = 0,
        realtime: bool = True,
        on_next: Callable[[int], None] | None = None,
    ) -> None:
        if not sources:
            raise ValueError("ChainedSource needs at least one source")
        self.frame_ms = sources[0].frame_ms
        if any(s.frame_ms != self.frame_ms for s in sources):
            raise ValueError("all chained sources must have the same frame_ms")
        self.sources = sources
        self.gap_ms = gap_ms
        self.realtime = realtime
        self.on_next = on_next

    async def frames(self) -> AsyncIterator[bytes]:
        for i, source in enumerate(self.sources):
            if i:
                async for frame in self._gap():
                    yield frame
                if self.on_next is not None:
                    self.on_next(i)
            async for frame in source.frames():
                yield frame

    async def _gap(self) -> AsyncIterator[bytes]:
        silence = bytes(frame_bytes(self.frame_ms))
        frame_s = self.frame_ms / 1000
        t0 = time.monotonic()
        for n in range(math.ceil(self.gap_ms / self.frame_ms)):
            if self.realtime:
                await asyncio.sleep(max(0.0, t0 + n * frame_s - time.monotonic()))
            yield silence

    async def aclose(self) -> None:
        for source in self.sources:
            with contextlib.suppress(Exception):  # one failing close must not skip the rest
                await source.aclose()


class HoldSource:
    """No frames; ``frames()`` ends when ``release()`` is called (or the source is closed).
    ``on_hold`` is called when the hold begins (typed input starts there)."""

    def __init__(self, frame_ms: int = 20, on_hold: Callable[[], None] | None = None) -> None:
        self.frame_ms = frame_ms
        self.on_hold = on_hold
        self._released = asyncio.Event()

    def release(self) -> None:
        self._released.set()

    @property
    def released(self) -> bool:
        return self._released.is_set()

    async def frames(self) -> AsyncIterator[bytes]:
        if self.on_hold is not None:
            self.on_hold()
        await self._released.wait()
        return
        yield b""  # makes this an async generator that yields nothing

    async def aclose(self) -> None:
        self.release()


class PlayAlong:
    """``source``'s frames, each also given to ``player`` as it is sent (a ``SpeakerFeed``:
    16 kHz in); the player is flushed when the source ends."""

    def __init__(self, source: AudioSource, player: SpeakerFeed) -> None:
        self.source = source
        self.player = player
        self.frame_ms = source.frame_ms

    async def frames(self) -> AsyncIterator[bytes]:
        try:
            async for frame in self.source.frames():
                self.player.write(frame)
                yield frame
        finally:
            self.player.flush()

    async def aclose(self) -> None:
        await self.source.aclose()


class SpeakerFeed:
    """Plays 16 kHz frames (what the model hears) on a sink that takes 24 kHz."""

    def __init__(self, sink: AudioSink) -> None:
        self.sink = sink
        self._resampler = StreamResampler(INPUT_RATE, OUTPUT_RATE)
        self._ended = False

    def write(self, pcm16k: bytes) -> None:
        data = self._resampler.process(pcm16k)
        if data:
            self.sink.write(data)

    def flush(self) -> None:
        if self._ended:
            return
        self._ended = True
        tail = self._resampler.flush()
        if tail:
            self.sink.write(tail)
        self.sink.flush()
