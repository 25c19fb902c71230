"""Run a plan of TTS requests into an AudioSink: in order, stitched, overlapping the next
request with the current one so a long text plays without gaps.

Request ``i + lookahead`` starts when request ``i`` starts being played; each request's
pieces wait in their own queue (at most one request's audio), so memory stays bounded by
``lookahead + 1`` requests. With ``stream=True`` pieces reach the sink as they arrive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Protocol

from voicecli.audio.base import OUTPUT_RATE, AudioSink
from voicecli.audio.resample import StreamResampler
from voicecli.errors import DeviceError
from voicecli.speech.prompt import TtsRequest
from voicecli.speech.request import AudioPiece
from voicecli.speech.stitch import DEFAULT_FADE_MS, Stitcher


class SpeechSource(Protocol):
    """What ``speak`` needs from a client (``speech.request.SpeechClient``)."""

    def stream(self, req: TtsRequest) -> AsyncIterator[AudioPiece]: ...

    async def generate(self, req: TtsRequest) -> list[AudioPiece]: ...


@dataclass
class SpeechStats:
    requests: int = 0
    segment_s: list[float] = field(default_factory=list)  # audio per request, as received
    audio_s: float = 0.0  # what reached the sink (joins overlap by one fade each)
    first_audio_s: float | None = None  # start -> first audio handed to the sink
    elapsed_s: float = 0.0
    joins: int = 0


_END = object()


async def speak(
    source: SpeechSource,
    requests: list[TtsRequest],
    sink: AudioSink,
    *,
    stream: bool = True,
    lookahead: int = 1,
    fade_ms: int = DEFAULT_FADE_MS,
    on_request: Callable[[int, int], None] | None = None,
    played: Callable[[], float] | None = None,
    max_ahead_s: float = 5.0,
) -> SpeechStats:
    """Say every request into ``sink`` (24 kHz PCM16); the sink is not closed here.

    ``played`` (seconds the sink has played so far; a speaker) turns on back-pressure:
    no more than ``max_ahead_s`` of audio is handed to it ahead of what it played, so a
    long text never overflows a playback buffer. Files take audio as fast as it comes.
    """
    stats = SpeechStats()
    stitcher = Stitcher(OUTPUT_RATE, fade_ms)
    t0 = time.monotonic()
    queues: list[asyncio.Queue[object]] = []
    tasks: list[asyncio.Task[None]] = []

    def launch(i: int) -> None:
        q: asyncio.Queue[object] = asyncio.Queue()
        queues.append(q)
        tasks.append(asyncio.create_task(_produce(source, requests[i], q, stream)))

    def emit(pcm: bytes) -> None:
        if not pcm:
            return
        if stats.first_audio_s is None:
            stats.first_audio_s = time.monotonic() - t0
        stats.audio_s += len(pcm) / (2 * OUTPUT_RATE)
        sink.write(pcm)

    try:
        for i in range(len(requests)):
            while len(queues) <= min(i + lookahead, len(requests) - 1):
                launch(len(queues))
            if on_request is not None:
                on_request(i, len(requests))
            stitcher.start_segment()
            resampler: StreamResampler | None = None
            got = 0
            while (item := await queues[i].get()) is not _END:
                if played is not None:
                    await _wait_for_room(stats, played, max_ahead_s)
                if isinstance(item, BaseException):
                    raise item
                assert isinstance(item, AudioPiece)
                pcm = item.pcm
                if item.rate != OUTPUT_RATE:
                    if resampler is None or resampler.in_rate != item.rate:
                        resampler = StreamResampler(item.rate, OUTPUT_RATE)
                    pcm = resampler.process(pcm)
                got += len(pcm)
                emit(stitcher.push(pcm))
            if resampler is not None:
                tail = resampler.flush()
                got += len(tail)
                emit(stitcher.push(tail))
            stats.requests += 1
            stats.segment_s.append(got / (2 * OUTPUT_RATE))
        emit(stitcher.finish())
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    stats.joins = stitcher.joins
    stats.elapsed_s = time.monotonic() - t0
    return stats


STALL_S = 5.0  # a speaker that plays nothing for this long has stopped


async def _wait_for_room(stats: SpeechStats, played: Callable[[], float], ahead: float) -> None:
    last, since = played(), time.monotonic()
    while stats.audio_s - last > ahead:
        await asyncio.sleep(0.02)
        now_played = played()
        if now_played > last:
            last, since = now_played, time.monotonic()
        elif time.monotonic() - since > STALL_S:
            raise DeviceError("the speaker stopped playing", "check the output device")


async def _produce(
    source: SpeechSource, req: TtsRequest, q: asyncio.Queue[object], stream: bool
) -> None:
    try:
        if stream:
            async for piece in source.stream(req):
                q.put_nowait(piece)
        else:
            for piece in await source.generate(req):
                q.put_nowait(piece)
    except Exception as e:  # handed to the consumer, raised in order
        q.put_nowait(e)
        return
    q.put_nowait(_END)
