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

The speaker (``SpeakerSink``) is in ``audio.speaker``, built on the helpers here.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from voicecli.audio.base import INPUT_RATE, frame_bytes
from voicecli.audio.device_choice import (
    DeviceInfo,
    Kind,
    open_error,
    pick_format,
    select_device,
)
from voicecli.audio.format import downmix_bytes
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


def start_input_stream(
    info: DeviceInfo,
    rate: int,
    block: int,
    channels: int,
    latency: str | float,
    callback: Any,
    finished: Any,
) -> Any:
    """Open and start a capture callback stream (raw int16 bytes in)."""
    mod = sd()
    try:
        stream = mod.RawInputStream(
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
        raise open_error(exc, info, "input") from exc
    return stream


def open_output(info: DeviceInfo, rate: int, channels: int, latency: str | float) -> Any:
    """An output stream for blocking writes of int16 numpy blocks, opened but not started
    (the speaker starts it while it has something to play)."""
    mod = sd()
    try:
        return mod.OutputStream(
            samplerate=rate, device=info.index, channels=channels, dtype="int16", latency=latency
        )
    except mod.PortAudioError as exc:
        raise open_error(exc, info, "output") from exc


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
        self._last_block = 0.0  # when the callback handed over the latest block
        self._watch: asyncio.TimerHandle | None = None
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
        self._last_block = now
        self.blocks_in += 1
        if flagged:
            self.xruns += 1
        self._ready.set()

    def _on_finished(self) -> None:
        self._finished = True
        self._ready.set()

    def _open(self) -> None:
        self._stream = start_input_stream(
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
            if time.monotonic() - self._last_block > STALL_S:
                raise DeviceError(
                    f"no audio from the microphone {self.info.label()} for {STALL_S:.0f} s",
                    "the device is busy or gone; files written so far are kept",
                )
            self._ready.clear()
            await self._ready.wait()  # a block, the end, or the watchdog
        return self._blocks.popleft()

    def _watchdog(self) -> None:
        """Wakes a wait for the next block once no block has come for STALL_S (one timer a
        second, not a timeout around every block)."""
        assert self._loop is not None
        if time.monotonic() - self._last_block > STALL_S:
            self._ready.set()
        self._watch = self._loop.call_later(STALL_S / 2, self._watchdog)

    async def timed_frames(self) -> AsyncIterator[tuple[bytes, float]]:
        self._loop = asyncio.get_running_loop()
        self._stopping = self._finished = False
        await asyncio.to_thread(self._open)
        self._last_block = time.monotonic()
        self._watch = self._loop.call_later(STALL_S / 2, self._watchdog)
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
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.to_thread(close_stream, stream)

    def stats(self) -> dict[str, int]:
        return {"mic_overflows": self.overflows, "mic_xruns": self.xruns}


# ------------------------------------------------------------------ speaker
