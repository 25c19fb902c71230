"""``CallbackSpeaker``: the speaker of ``--echo aec``, a PortAudio callback stream that runs
all session long and keeps every block it played with its DAC time.

The echo canceller needs the speaker's exact timeline: PortAudio's DAC timestamps give it,
on one clock from reply to reply, so AEC3 keeps the delay it learned. The callback owns the
``JitterBuffer`` and pulls one block per call; idle, it plays silence (and keeps it, the far
end of silence is part of the timeline). It asks PortAudio for its lowest latency
(``latency="low"``, 10 ms blocks).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

import numpy as np

from voicecli.audio.devices import STALL_S, close_stream, start_stream, stream_latency
from voicecli.audio.format import Int16Array
from voicecli.audio.playback import JitterParams
from voicecli.audio.speaker import SpeakerBase


class CallbackSpeaker(SpeakerBase):
    """A speaker whose callback keeps what it played (``played_blocks``)."""

    def __init__(
        self,
        device: str | int | None = None,
        block_ms: int = 10,
        jitter: JitterParams | None = None,
        rate: int | None = None,
        latency: str | float = "low",
    ) -> None:
        super().__init__(device, block_ms, jitter, rate)
        self._played: deque[tuple[float, Int16Array]] = deque(maxlen=max(8, 3000 // block_ms))
        self._last_callback = time.monotonic()
        self._stream = start_stream(
            "output",
            self.info,
            self.rate,
            self.block,
            self.channels,
            latency,
            self._callback,
            self._finished_callback,
        )
        self.output_latency_s = stream_latency(self._stream)

    # -- PortAudio thread
    def _callback(self, outdata: Any, frames: int, tinfo: Any, status: Any) -> None:
        now = self._last_callback = time.monotonic()
        jb = self._jb
        dac = tinfo.outputBufferDacTime
        start = now + (dac - tinfo.currentTime) if dac else now + self.output_latency_s
        if not self._cmds and not jb.active:  # idle (most of the time): silence, little work
            outdata.fill(0)
            silent = self._zeros if frames == self.block else np.zeros(frames, np.int16)
            self._played.append((start, silent))
            return
        self._take_commands()
        mono = self._mono if frames == self.block else np.zeros(frames, dtype=np.int16)
        real = jb.pull_into(mono)
        outdata[:] = mono[:, None]
        if real:
            self.last_sound_end = start + real / self.rate
            self._first_out(now)
        self._played.append((start, mono.copy()))
        if status.output_underflow:
            self.xruns += 1

    def _finished_callback(self) -> None:
        self._dead = True

    # -- event loop
    def _stalled(self) -> bool:
        return time.monotonic() - self._last_callback > STALL_S or not self._stream.active

    def played_blocks(self) -> list[tuple[float, Int16Array]]:
        out: list[tuple[float, Int16Array]] = []
        log = self._played
        while log:
            out.append(log.popleft())
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close_stream(self._stream)
