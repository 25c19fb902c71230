"""The request runner with a fake speech source (our own interface, not the SDK's)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import numpy as np
import pytest

from voicecli.errors import DeviceError, ServerError
from voicecli.speech.prompt import TtsRequest
from voicecli.speech.request import AudioPiece
from voicecli.speech.synth import speak


class Collect:
    def __init__(self) -> None:
        self.data = bytearray()
        self.writes = 0

    def write(self, pcm: bytes) -> None:
        self.data += pcm
        self.writes += 1

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass


class FakeSource:
    """Request ``i`` answers with ``seconds`` of a constant level ``1000 * (i + 1)``."""

    def __init__(self, seconds: float = 0.2, delay: float = 0.0, rate: int = 24000) -> None:
        self.seconds, self.delay, self.rate = seconds, delay, rate
        self.started: list[str] = []
        self.fail: set[str] = set()

    def _pcm(self, req: TtsRequest) -> bytes:
        level = 1000 * int(req.prompt)
        return np.full(round(self.seconds * self.rate), level, dtype="<i2").tobytes()

    async def stream(self, req: TtsRequest) -> AsyncIterator[AudioPiece]:
        self.started.append(req.prompt)
        pcm = self._pcm(req)
        step = len(pcm) // 4 // 2 * 2
        for i in range(0, len(pcm), step):
            await asyncio.sleep(self.delay)
            if req.prompt in self.fail:
                raise ServerError(f"failed {req.prompt}")
            yield AudioPiece(pcm[i : i + step], self.rate)

    async def generate(self, req: TtsRequest) -> list[AudioPiece]:
        self.started.append(req.prompt)
        await asyncio.sleep(self.delay)
        return [AudioPiece(self._pcm(req), self.rate)]


def plan(n: int) -> list[TtsRequest]:
    return [TtsRequest("m", str(i + 1), voice="Kore") for i in range(n)]


@pytest.mark.parametrize("stream", [True, False])
async def test_requests_are_played_in_order(stream: bool) -> None:
    sink, src = Collect(), FakeSource()
    stats = await speak(src, plan(3), sink, stream=stream)
    a = np.frombuffer(bytes(sink.data), dtype="<i2")
    assert stats.requests == 3 and stats.joins == 2
    assert stats.segment_s == pytest.approx([0.2, 0.2, 0.2])
    assert len(a) == 3 * 4800 - 2 * 240
    assert a[100] == 1000 and a[4800] == 2000 and a[-100] == 3000
    assert np.max(np.abs(np.diff(a.astype(int)))) < 20  # 1000 over a 240-sample fade
    assert stats.audio_s == pytest.approx(len(a) / 24000)


async def test_the_next_request_overlaps_the_current_one() -> None:
    src = FakeSource(delay=0.01)
    active, peak = [0], [0]
    inner = src.stream

    async def counting(req: TtsRequest) -> AsyncIterator[AudioPiece]:
        active[0] += 1
        peak[0] = max(peak[0], active[0])
        try:
            async for piece in inner(req):
                yield piece
        finally:
            active[0] -= 1

    src.stream = counting  # type: ignore[method-assign]
    await speak(src, plan(4), Collect())
    assert peak[0] == 2  # lookahead 1: the next request runs while one plays, no more
    assert src.started == ["1", "2", "3", "4"]


async def test_other_rates_are_resampled_to_24k() -> None:
    sink = Collect()
    stats = await speak(FakeSource(rate=16000), plan(1), sink)
    assert stats.segment_s[0] == pytest.approx(0.2, abs=0.002)
    assert len(sink.data) // 2 == pytest.approx(4800, abs=50)


async def test_an_error_surfaces_after_the_audio_before_it() -> None:
    src = FakeSource()
    src.fail.add("2")
    sink = Collect()
    with pytest.raises(ServerError, match="failed 2"):
        await speak(src, plan(3), sink)
    assert len(sink.data) // 2 >= 4800 - 240  # request 1 was played first


async def test_back_pressure_keeps_a_player_close_to_real_time() -> None:
    sink, played = Collect(), [0.0]
    loop = asyncio.get_running_loop()
    t0 = loop.time()

    def playing() -> float:  # plays at 10x real time
        played[0] = (loop.time() - t0) * 10
        return played[0]

    stats = await speak(FakeSource(seconds=1.0), plan(3), sink, played=playing, max_ahead_s=0.5)
    assert stats.elapsed_s >= (3.0 - 0.5 - 0.3) / 10  # had to wait for the player


async def test_a_stalled_player_is_a_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("voicecli.speech.synth.STALL_S", 0.1)
    with pytest.raises(DeviceError, match="stopped playing"):
        await speak(
            FakeSource(seconds=1.0), plan(2), Collect(), played=lambda: 0.0, max_ahead_s=0.2
        )
