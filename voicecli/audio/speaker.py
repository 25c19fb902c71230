"""The speaker: ``SpeakerSink``, an ``AudioSink`` on a PortAudio output device.

``write`` runs on the loop, resamples 24 kHz to the device rate and hands the samples to the
output callback through a deque of commands (push / clear / end); it never blocks. The
callback owns the ``JitterBuffer`` and pulls one block per call, so the buffer needs no lock;
it also keeps the DAC time of what it played (for the echo canceller). Device lookup, formats
and streams come from ``audio.devices``.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from dataclasses import replace
from typing import Any

import numpy as np

from voicecli.audio.base import OUTPUT_RATE
from voicecli.audio.devices import (
    STALL_S,
    choose_format,
    close_stream,
    find_device,
    start_stream,
    stream_latency,
)
from voicecli.audio.format import Int16Array
from voicecli.audio.playback import JitterBuffer, JitterParams
from voicecli.audio.resample import StreamResampler
from voicecli.errors import DeviceError

_PUSH, _CLEAR, _END = 0, 1, 2


class SpeakerSink:
    """Plays model audio (24 kHz mono PCM16) on an output device through a jitter buffer.

    The stream starts at construction and plays silence while idle, so the first reply
    starts within one block. It asks PortAudio for its lowest latency (``latency="low"``,
    10 ms blocks); ``output_latency_s`` is the latency PortAudio states for the stream. With ``keep_played`` the callback also keeps every block it
    played with its DAC time (``played_blocks``) for the echo canceller.
    """

    def __init__(
        self,
        device: str | int | None = None,
        block_ms: int = 10,
        jitter: JitterParams | None = None,
        keep_played: bool = False,
        rate: int | None = None,
        latency: str | float = "low",
    ) -> None:
        self.info = find_device(device, "output")
        self.rate, self.channels = choose_format(self.info, "output", OUTPUT_RATE, rate)
        self.latency = latency
        self.block = self.rate * block_ms // 1000
        self._jb = JitterBuffer(replace(jitter or JitterParams(), rate=self.rate))
        # commands for the callback; bounded (a wedged device must not eat the memory)
        self._cmds: deque[tuple[int, Int16Array | None, float]] = deque(maxlen=8192)
        self._resampler = StreamResampler(OUTPUT_RATE, self.rate)
        self._mono = np.zeros(self.block, dtype=np.int16)
        self._zeros = np.zeros(self.block, dtype=np.int16)  # never written: idle blocks
        self._played: deque[tuple[float, Int16Array]] | None = (
            deque(maxlen=max(8, 3000 // block_ms)) if keep_played else None
        )
        self._pending_start: float | None = None
        self.last_sound_end = -math.inf  # monotonic time the last real sample leaves the DAC
        self.start_latency_s: deque[float] = deque(maxlen=1000)  # write -> first sample out
        self.xruns = 0
        self._dead = False
        self._closed = False
        self._last_callback = time.monotonic()
        self._stream = start_stream(
            "output",
            self.info,
            self.rate,
            self.block,
            self.channels,
            self.latency,
            self._callback,
            self._finished_callback,
        )
        self.output_latency_s = stream_latency(self._stream)

    # -- PortAudio thread
    def _callback(self, outdata: Any, frames: int, tinfo: Any, status: Any) -> None:
        now = self._last_callback = time.monotonic()
        jb, cmds = self._jb, self._cmds
        if not cmds and not jb.active:  # idle (most of the time): silence, little work
            outdata.fill(0)
            if self._played is not None:
                dac = tinfo.outputBufferDacTime
                start = now + (dac - tinfo.currentTime) if dac else now + self.output_latency_s
                silent = self._zeros if frames == self.block else np.zeros(frames, np.int16)
                self._played.append((start, silent))
            return
        while cmds:
            kind, samples, t = cmds.popleft()
            if kind == _PUSH and samples is not None:
                if not jb.active:
                    self._pending_start = t
                jb.push(samples)
            elif kind == _CLEAR:
                jb.clear()
                self._pending_start = None
            else:
                jb.end()
        mono = self._mono if frames == self.block else np.zeros(frames, dtype=np.int16)
        real = jb.pull_into(mono)
        outdata[:] = mono[:, None]
        dac = tinfo.outputBufferDacTime
        start = now + (dac - tinfo.currentTime) if dac else now + self.output_latency_s
        if real:
            self.last_sound_end = start + real / self.rate
            if self._pending_start is not None:
                self.start_latency_s.append(now - self._pending_start)
                self._pending_start = None
        if self._played is not None:
            self._played.append((start, mono.copy()))
        if status.output_underflow:
            self.xruns += 1

    def _finished_callback(self) -> None:
        self._dead = True

    # -- event loop
    def _check(self) -> None:
        if self._closed:
            return
        wedged = time.monotonic() - self._last_callback > STALL_S
        if self._dead or wedged or not self._stream.active:
            self._dead = True
            raise DeviceError(
                f"the speaker {self.info.label()} stopped (unplugged or taken by another program)",
                "check the device and start again; files written so far are kept",
            )

    def write(self, pcm: bytes) -> None:
        self._check()
        data = self._resampler.process(pcm)
        if data:
            self._cmds.append((_PUSH, np.frombuffer(data, dtype="<i2"), time.monotonic()))

    def flush(self) -> None:
        """The model's turn is over: play the rest at once; running dry is no underrun."""
        tail = self._resampler.flush()
        if tail:
            self._cmds.append((_PUSH, np.frombuffer(tail, dtype="<i2"), time.monotonic()))
        self._cmds.append((_END, None, 0.0))

    def clear(self) -> None:
        """Barge-in: everything queued is dropped within one block."""
        self._resampler = StreamResampler(OUTPUT_RATE, self.rate)
        self._cmds.append((_CLEAR, None, 0.0))

    @property
    def is_playing(self) -> bool:
        """Audio is queued, or the last of it has not left the speaker yet."""
        return bool(self._cmds) or self._jb.active or time.monotonic() < self.last_sound_end

    async def drain(self) -> None:
        """End the stream and wait until its last sample has left the speaker (bound it
        with ``asyncio.timeout``; a dead device raises DeviceError)."""
        self.flush()
        while True:
            self._check()
            if not self.is_playing:
                return
            await asyncio.sleep(0.01)

    @property
    def played_s(self) -> float:
        return self._jb.played / self.rate

    @property
    def stream_played_s(self) -> float:
        """Audio of the current (or last) model turn that was actually played."""
        return self._jb.stream_played / self.rate

    @property
    def underruns(self) -> int:
        return self._jb.underruns

    def played_blocks(self) -> list[tuple[float, Int16Array]]:
        """Blocks played since the last call: (DAC time of the first sample, samples)."""
        out: list[tuple[float, Int16Array]] = []
        log = self._played
        while log:
            out.append(log.popleft())
        return out

    def stats(self) -> dict[str, float | int]:
        return {
            **self._jb.stats(),
            "speaker_xruns": self.xruns,
            "speaker_latency_ms": round(self.output_latency_s * 1000, 1),
        }

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        close_stream(self._stream)
