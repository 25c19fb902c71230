"""Microphones and speakers through PortAudio (python-sounddevice).

This is the only module that imports sounddevice (``sd()``), and it does so lazily: voicecli
works on a machine without PortAudio until a device is actually needed. It lists devices,
picks one by index or name, picks a sample rate the device takes, and maps PortAudio's
failures to one-line ``DeviceError``s.

``MicSource`` (an ``AudioSource``): the input callback copies each block and hands it to the
event loop (``call_soon_threadsafe``) into a bounded queue (full: the oldest block is dropped
and counted). Resampling to 16 kHz and cutting exact frames happen on the loop. Each frame's
capture time comes from PortAudio's ADC timestamp (converted to ``time.monotonic``): the echo
control lines it up with what the speaker played.

``SpeakerSink`` (an ``AudioSink``): ``write`` runs on the loop, resamples 24 kHz to the
device rate and hands the samples to the output callback through a deque of commands (push /
clear / end); it never blocks. The callback owns the ``JitterBuffer`` and pulls one block per
call, so the buffer needs no lock; it also keeps the DAC time of what it played.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import numpy as np

from voicecli.audio.base import INPUT_RATE, OUTPUT_RATE, frame_bytes
from voicecli.audio.device_choice import (
    DeviceInfo,
    Kind,
    open_error,
    pick_format,
    select_device,
)
from voicecli.audio.format import Int16Array, downmix_bytes
from voicecli.audio.playback import JitterBuffer, JitterParams
from voicecli.audio.resample import Reframer, StreamResampler
from voicecli.errors import DeviceError

PORTAUDIO_HINT = (
    "install PortAudio: Debian/Ubuntu `apt install libportaudio2`, "
    "Fedora `dnf install portaudio`, macOS `brew install portaudio`"
)
STALL_S = 2.0  # no audio from an open stream for this long: the device is gone


def find_device(spec: str | int | None, kind: Kind) -> DeviceInfo:
    """The device for ``--input-device`` / ``--output-device`` (None: the default)."""
    return select_device(spec, kind, list_devices())


def sd() -> Any:
    """The sounddevice module, or DeviceError naming the package to install."""
    try:
        import sounddevice
    except OSError as exc:  # raised at import when libportaudio is missing
        raise DeviceError("PortAudio library not found", PORTAUDIO_HINT) from exc
    except ImportError as exc:
        raise DeviceError("python-sounddevice is not installed", "pip install sounddevice") from exc
    return sounddevice


def rescan() -> None:
    """Make PortAudio scan the devices again (after PULSE_SERVER or hardware changed)."""
    mod = sd()
    mod._terminate()
    mod._initialize()


# ------------------------------------------------------------------ listing
def list_devices() -> list[DeviceInfo]:
    mod = sd()
    try:
        raw = mod.query_devices()
        apis = mod.query_hostapis()
        default_in, default_out = (int(x) for x in mod.default.device)
    except mod.PortAudioError as exc:
        raise DeviceError(f"cannot list audio devices: {exc}", PORTAUDIO_HINT) from exc
    return [
        DeviceInfo(
            index=int(d["index"]),
            name=str(d["name"]),
            hostapi=str(apis[d["hostapi"]]["name"]),
            inputs=int(d["max_input_channels"]),
            outputs=int(d["max_output_channels"]),
            default_rate=float(d["default_samplerate"]),
            default_input=int(d["index"]) == default_in,
            default_output=int(d["index"]) == default_out,
        )
        for d in raw
    ]


def _rate_ok(kind: Kind, device: int, channels: int, rate: int) -> bool:
    mod = sd()
    check = mod.check_input_settings if kind == "input" else mod.check_output_settings
    try:
        check(device=device, samplerate=rate, channels=channels, dtype="int16")
    except (mod.PortAudioError, ValueError):
        return False
    return True


def choose_format(
    info: DeviceInfo, kind: Kind, preferred: int, rate: int | None = None
) -> tuple[int, int]:
    """(rate, channels) the device opens with (see ``device_choice.pick_format``)."""

    def ok(channels: int, r: int) -> bool:
        return _rate_ok(kind, info.index, channels, r)

    return pick_format(info, kind, preferred, ok, rate)


def start_stream(
    kind: Kind,
    info: DeviceInfo,
    rate: int,
    block: int,
    channels: int,
    latency: str | float,
    callback: Any,
    finished: Any,
) -> Any:
    """Open and start a callback stream (raw int16 bytes in, a numpy array out)."""
    mod = sd()
    factory = mod.RawInputStream if kind == "input" else mod.OutputStream
    try:
        stream = factory(
            samplerate=rate,
            blocksize=block,
            device=info.index,
            channels=channels,
            dtype="int16",
            latency=latency,
            callback=callback,
            finished_callback=finished,
        )
        stream.start()
    except mod.PortAudioError as exc:
        raise open_error(exc, info, kind) from exc
    return stream


def close_stream(stream: Any, timeout: float = 2.0) -> None:
    """Abort and close a stream on a daemon thread: a wedged driver cannot hang the exit."""

    def close() -> None:
        with contextlib.suppress(Exception):
            stream.abort(ignore_errors=True)
            stream.close(ignore_errors=True)

    t = threading.Thread(target=close, name="voicecli-pa-close", daemon=True)
    t.start()
    t.join(timeout)


def stream_latency(stream: Any) -> float:
    lat = stream.latency
    return float(lat[0] if isinstance(lat, tuple) else lat)


# ------------------------------------------------------------------ microphone
class MicSource:
    """Frames of 16 kHz mono PCM16 from a microphone. ``timed_frames`` also gives each
    frame's capture time (monotonic seconds of its first sample)."""

    def __init__(
        self,
        device: str | int | None = None,
        frame_ms: int = 20,
        block_ms: int = 20,
        queue_ms: int = 2000,
        rate: int | None = None,
        latency: str | float = "high",
    ) -> None:
        sd()
        self.info = find_device(device, "input")
        self.rate, self.channels = choose_format(self.info, "input", INPUT_RATE, rate)
        self.frame_ms = frame_ms
        self.latency = latency  # PortAudio's: "low", "high" (sturdier) or seconds
        self.block = self.rate * block_ms // 1000
        self._blocks: deque[tuple[bytes, float, float]] = deque(maxlen=max(2, queue_ms // block_ms))
        self._ready = asyncio.Event()
        self._stream: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._finished = False
        self.overflows = 0  # blocks dropped because the loop fell behind
        self.xruns = 0  # PortAudio input overflows (the driver dropped audio)
        self.blocks_in = 0
        # the callback got the block -> its frames yielded; and from each frame's last sample
        self.handoff_s: deque[float] = deque(maxlen=5000)
        self.frame_age_s: deque[float] = deque(maxlen=5000)

    # -- PortAudio thread: copy and hand over, nothing else
    def _callback(self, indata: Any, frames: int, tinfo: Any, status: Any) -> None:
        now = time.monotonic()
        adc = tinfo.inputBufferAdcTime
        start = now - (tinfo.currentTime - adc) if adc else now - frames / self.rate
        with contextlib.suppress(RuntimeError):  # the loop is closing
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._put, bytes(indata), start, now, bool(status))

    def _finished_callback(self) -> None:
        with contextlib.suppress(RuntimeError):
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._on_finished)

    # -- event loop
    def _put(self, data: bytes, start: float, now: float, flagged: bool) -> None:
        if len(self._blocks) == self._blocks.maxlen:
            self.overflows += 1  # deque drops the oldest
        self._blocks.append((data, start, now))
        self.blocks_in += 1
        if flagged:
            self.xruns += 1
        self._ready.set()

    def _on_finished(self) -> None:
        self._finished = True
        self._ready.set()

    def _open(self) -> None:
        self._stream = start_stream(
            "input",
            self.info,
            self.rate,
            self.block,
            self.channels,
            self.latency,
            self._callback,
            self._finished_callback,
        )

    def stop(self) -> None:
        """End ``frames`` after the audio already captured."""
        self._stopping = True
        self._ready.set()

    async def _next_block(self) -> tuple[bytes, float, float] | None:
        while not self._blocks:
            if self._stopping:
                return None
            if self._finished:
                raise DeviceError(
                    f"the microphone {self.info.label()} stopped (unplugged or taken by another program)",
                    "check the device and start again; files written so far are kept",
                )
            self._ready.clear()
            try:
                async with asyncio.timeout(STALL_S):
                    await self._ready.wait()
            except TimeoutError:
                raise DeviceError(
                    f"no audio from the microphone {self.info.label()} for {STALL_S:.0f} s",
                    "the device is busy or gone; files written so far are kept",
                ) from None
        return self._blocks.popleft()

    async def timed_frames(self) -> AsyncIterator[tuple[bytes, float]]:
        self._loop = asyncio.get_running_loop()
        self._stopping = self._finished = False
        await asyncio.to_thread(self._open)
        resampler = StreamResampler(self.rate, INPUT_RATE)
        reframer = Reframer(frame_bytes(self.frame_ms))
        frame_s = self.frame_ms / 1000
        try:
            while (item := await self._next_block()) is not None:
                data, start, cb_time = item
                data = downmix_bytes(data, self.channels)
                frames = reframer.push(resampler.process(data))
                if not frames:
                    continue
                end = start + len(data) / 2 / self.rate
                behind = reframer.pending / 2 / INPUT_RATE  # audio after the last frame
                first = end - behind - len(frames) * frame_s
                for i, frame in enumerate(frames):
                    now = time.monotonic()
                    self.handoff_s.append(now - cb_time)
                    # the frame's last sample is this much older than the block's end
                    self.frame_age_s.append(
                        now - cb_time + behind + (len(frames) - 1 - i) * frame_s
                    )
                    yield frame, first + i * frame_s
        finally:
            await self.aclose()

    async def frames(self) -> AsyncIterator[bytes]:
        async for frame, _t in self.timed_frames():
            yield frame

    async def aclose(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.to_thread(close_stream, stream)

    def stats(self) -> dict[str, int]:
        return {"mic_overflows": self.overflows, "mic_xruns": self.xruns}


# ------------------------------------------------------------------ speaker
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
