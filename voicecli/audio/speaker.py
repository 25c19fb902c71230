"""The speaker: an ``AudioSink`` on a PortAudio output device.

``SpeakerSink``. On the loop, ``write`` / ``flush`` / ``clear`` resample 24 kHz to the
device rate and hand the samples over through a deque of commands (push / clear / end);
they never block. A writer thread owns the ``JitterBuffer``, so it needs no lock, and plays it with blocking writes into
the device buffer, ahead of time, as soon as it has a block of audio. The device stream
runs only while there is something to play: it is started when a reply begins, so the
reply's first sample goes into an empty device buffer (not behind the silence a running
callback stream keeps buffered), and stopped once the reply has played out. An idle
speaker costs no CPU.

For the echo canceller (``keep_played``) it keeps every block it wrote with its speaker time
(the play-head count from the stream's start); ``echo_align`` finds where each reply
really played. Device lookup, formats and streams come from ``audio.devices``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
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
    open_output,
    stream_latency,
)
from voicecli.audio.format import Int16Array
from voicecli.audio.playback import JitterBuffer, JitterParams, PlayState
from voicecli.audio.resample import StreamResampler
from voicecli.errors import DeviceError

PUSH, CLEAR, END, PAUSE, RESUME = 0, 1, 2, 3, 4  # commands from the loop to whoever plays
START_S = 0.005  # a started stream's first sample leaves the device about this much later
REFILL_S = 0.025  # the device's queue above this: write nothing (what plays after a barge-in)
DRY_S = 0.005  # ...below this with nothing to write: it runs dry (silence goes in)

Command = tuple[int, Int16Array | None, float]


class SpeakerSink:
    """Plays model audio (24 kHz mono PCM16) on an output device through a jitter buffer,
    with blocking writes from its own thread, the stream started for each reply.

    Blocks of up to ``block_ms`` go into a device buffer of about ``latency`` seconds
    (``output_latency_s`` is what PortAudio states for it), whatever is queued as soon as
    the device holds no more than ``REFILL_S``: at most a block and that much plays on
    after a barge-in, and then the jitter buffer's fade-out (aborting the stream instead
    clicks). Silence goes in only when the device is about to run dry (``DRY_S``).
    A large device buffer costs no latency (a reply starts into an empty one) and makes
    the writes cheap (PortAudio's ALSA wake-ups are per buffer period): measured on the
    virtual devices, 40 ms writes cost 1.4 % of a core into a 40 ms buffer, 0.8 % into a
    150 ms one; a whole playing speaker, 1.4 % with 60 ms writes (40 ms: 1.7 %). A
    block's time on the speaker is a play-head count from the stream's start;
    ``keep_played`` keeps every block written (the silence padding a reply's end too, so
    the far end's timeline goes on through it) for ``played_blocks``.
    """

    def __init__(
        self,
        device: str | int | None = None,
        block_ms: int = 60,
        jitter: JitterParams | None = None,
        rate: int | None = None,
        latency: str | float = 0.12,
        keep_played: bool = False,
    ) -> None:
        # the start-up margin is the only protection against late audio at a reply's start
        # (a callback stream has its buffer of silence on top): 20 ms, not 10
        jitter = jitter or JitterParams(min_wait_ms=20.0)
        self.info = find_device(device, "output")
        self.rate, self.channels = choose_format(self.info, "output", OUTPUT_RATE, rate)
        self.block = self.rate * block_ms // 1000
        self._resampler = StreamResampler(OUTPUT_RATE, self.rate)
        # a device at another rate: the resampler hands audio over a filter block at a time
        # (34 ms at 48 kHz), jitter the start-up margin must cover or every reply underruns
        burst_ms = self._resampler.burst_s() * 1000
        self._jb = JitterBuffer(
            replace(
                jitter,
                rate=self.rate,
                prebuffer_ms=jitter.prebuffer_ms + burst_ms,
                min_wait_ms=jitter.min_wait_ms + burst_ms,
                max_prebuffer_ms=jitter.max_prebuffer_ms + burst_ms,
            )
        )
        # commands for the writer thread; bounded (a wedged device must not eat the memory)
        self._cmds: deque[Command] = deque(maxlen=8192)
        self._mono = np.zeros(self.block, dtype=np.int16)
        self._zeros = np.zeros(self.block, dtype=np.int16)  # never written to
        self._pending_start: float | None = None
        self.last_sound_end = -math.inf  # monotonic time the last real sample leaves the DAC
        self.start_latency_s: deque[float] = deque(maxlen=1000)  # audio handed over -> out
        self.xruns = 0
        self._dead = False
        self._closed = False
        self._out = np.zeros((self.block, self.channels), dtype=np.int16)
        self._silent_out = np.zeros((self.block, self.channels), dtype=np.int16)
        self._running = False  # the device stream is started
        self._fresh = False  # ...just now: its first write is no underrun
        self._dac_next = 0.0  # speaker time of the next sample written
        self._padded = 0  # silence written after a reply's end, before the stop
        self.starts = 0  # device stream starts, one a reply
        # what was written with its speaker time, for the echo canceller (keep_played)
        self._played: deque[tuple[float, Int16Array]] | None = (
            deque(maxlen=300) if keep_played else None
        )
        self._busy_since: float | None = None  # a device call under way since
        self._wake = threading.Event()
        self._stream = open_output(self.info, self.rate, self.channels, latency)
        self.output_latency_s = stream_latency(self._stream)
        # what the device buffer holds: padding this much after a reply plays it out
        self._buffer_frames = max(
            self.block,
            int(self._stream.write_available) or round(self.output_latency_s * self.rate),
        )
        self._fill = max(1, self.rate // 200)  # 5 ms of silence at a time while a gap lasts
        self._thread = threading.Thread(target=self._run, name="voicecli-speaker", daemon=True)
        self._thread.start()

    # -- writer thread
    def _take_commands(self, ahead: int = 0) -> None:
        """Apply the loop's commands to the jitter buffer (``ahead``: samples the device
        holds that have not been heard, part of the margin new audio comes with)."""
        jb, cmds = self._jb, self._cmds
        while cmds:
            kind, samples, t = cmds.popleft()
            if kind == PUSH and samples is not None:
                if not jb.active:
                    self._pending_start = t
                jb.push(samples, ahead)
            elif kind == CLEAR:
                jb.clear()
                self._pending_start = None
                ahead = 0  # what follows a clear starts afresh
            elif kind == PAUSE:
                jb.pause()
            elif kind == RESUME:
                jb.resume()
            else:
                jb.end()

    def _run(self) -> None:
        jb = self._jb
        try:
            while not self._closed:
                self._wake.clear()
                if self._cmds:
                    self._take_commands(max(0, round(self._ahead() * self.rate)))
                st = jb.state
                if jb.paused and jb.active:  # what the device holds plays out, then silence
                    ahead = self._ahead()
                    if self._running and ahead <= DRY_S:
                        self._write(self._zeros[: self._fill], time.monotonic())
                    else:
                        self._wake.wait(ahead - DRY_S if self._running else None)
                elif st is PlayState.IDLE:
                    if self._running:
                        self._finish()  # returns early when new audio comes
                    else:
                        self._wake.wait()
                elif st is PlayState.PLAYING:
                    ahead = self._ahead()
                    if ahead > REFILL_S:  # enough in the device: what a barge-in hears
                        self._wake.wait(ahead - REFILL_S)
                    elif jb.queued or jb.ended:
                        # what there is, up to a block, as soon as it is there: audio that
                        # waited for the device to run low was a click whenever the
                        # writer woke late or the next chunk came a little late
                        self._write_audio()
                    elif ahead > DRY_S:  # nothing yet, the device still plays: wait for it
                        self._wake.wait(ahead - DRY_S)
                    else:
                        jb.starve()  # nothing there: the device will run dry
                else:  # BUFFERING or DRAINED: wait in real time, woken early by audio
                    t0 = time.monotonic()
                    ahead = self._ahead()
                    if self._running and ahead <= DRY_S:
                        self._write(self._zeros[: self._fill], t0)  # keep the device going
                    else:
                        timeout = jb.wait_left / self.rate
                        if self._running:
                            timeout = min(timeout, ahead - DRY_S)
                        self._wake.wait(timeout)
                    jb.advance(round((time.monotonic() - t0) * self.rate))
        except Exception:  # a device that failed; the loop reports it (_check)
            self._dead = True

    def _ahead(self) -> float:
        """Seconds of audio written to the device and not heard yet (0 while stopped)."""
        return self._dac_next - time.monotonic() if self._running else 0.0

    def _device_call(self, fn: Any, *args: Any) -> Any:
        self._busy_since = time.monotonic()
        try:
            return fn(*args)
        finally:
            self._busy_since = None

    def _write_audio(self) -> None:
        mono = self._mono
        n = self._jb.take(mono)
        if not n:
            return  # the reply ended
        now = time.monotonic()
        if not self._running:
            self._device_call(self._stream.start)
            self._running = self._fresh = True
            self._dac_next = max(now + START_S, self._dac_next)
            self.starts += 1
        dac = self._write(mono[:n], now)
        self.last_sound_end = dac + n / self.rate
        if self._pending_start is not None:
            self.start_latency_s.append(now - self._pending_start)
            self._pending_start = None

    def _write(self, block: Int16Array, now: float) -> float:
        """Write ``block`` (blocking while the device buffer is full); its speaker time."""
        if self._padded:  # written while the last reply's end was padded: after it
            self._dac_next += self._padded / self.rate
            self._padded = 0
        n = len(block)
        out = self._out[:n]
        out[:] = block[:, None]
        underflowed = self._device_call(self._stream.write, out)
        dac = self._dac_next
        if underflowed and not self._fresh:  # the writer fell behind: the device ran dry
            self.xruns += 1
            dac = max(dac, now + START_S)
        self._fresh = False
        self._dac_next = dac + n / self.rate
        if self._played is not None:
            self._played.append((dac, block.copy()))
        return dac

    def _finish(self) -> None:
        """The reply has been written: pad the device buffer with silence, which returns
        once the reply has left it, then stop the device (stopping at once would drop what
        it still holds). New audio meanwhile ends the padding; what was written of it plays
        as silence before that audio."""
        while self._padded < self._buffer_frames:
            if self._cmds or self._closed:
                return
            n = min(self.block, self._buffer_frames - self._padded)
            self._device_call(self._stream.write, self._silent_out[:n])
            if self._played is not None:  # the far end's timeline goes on through it
                self._played.append((self._dac_next + self._padded / self.rate, self._zeros[:n]))
            self._padded += n
        self._device_call(self._stream.stop)
        self._running = False
        self._padded = 0

    # -- event loop
    def _check(self) -> None:
        if self._closed:
            return
        busy = self._busy_since
        if self._dead or (busy is not None and time.monotonic() - busy > STALL_S):
            self._dead = True
            raise DeviceError(
                f"the speaker {self.info.label()} stopped (unplugged or taken by another program)",
                "check the device and start again; files written so far are kept",
            )

    def _send(self, kind: int, samples: Int16Array | None = None) -> None:
        self._cmds.append((kind, samples, time.monotonic()))
        self._wake.set()

    def write(self, pcm: bytes) -> None:
        self._check()
        data = self._resampler.process(pcm)
        if data:
            self._send(PUSH, np.frombuffer(data, dtype="<i2"))

    def flush(self) -> None:
        """The model's turn is over: play the rest at once; running dry is no underrun."""
        tail = self._resampler.flush()
        if tail:
            self._send(PUSH, np.frombuffer(tail, dtype="<i2"))
        self._send(END)

    def clear(self) -> None:
        """Barge-in: everything queued is dropped; what the device holds still plays
        (up to 85 ms), then a 5 ms fade."""
        self._resampler = StreamResampler(OUTPUT_RATE, self.rate)
        self._send(CLEAR)

    def pause(self) -> None:
        """A possible barge-in: what the device holds plays out (up to 85 ms), then
        silence; the rest is kept (and more is queued) until ``resume`` or ``clear``."""
        self._send(PAUSE)

    def resume(self) -> None:
        """A false alarm: play on from the sample where ``pause`` held it."""
        self._send(RESUME)

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

    def stats(self) -> dict[str, float | int]:
        return {
            **self._jb.stats(),
            "speaker_xruns": self.xruns,
            "speaker_latency_ms": round(self.output_latency_s * 1000, 1),
            "speaker_starts": self.starts,
        }

    def played_blocks(self) -> list[tuple[float, Int16Array]]:
        """Blocks written since the last call: (speaker time of the first sample, samples);
        only with ``keep_played``."""
        log, out = self._played, []
        while log:
            out.append(log.popleft())
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        self._thread.join(timeout=0.5)
        with contextlib.suppress(Exception):
            close_stream(self._stream)
