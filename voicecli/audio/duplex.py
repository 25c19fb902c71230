"""The live audio of ``voicecli talk``: microphone + speaker + echo control, opened together
(so a device problem shows before connecting), and the check behind ``voicecli devices
--test`` (a live input level meter while a short tone plays)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from voicecli.audio.base import INPUT_RATE, OUTPUT_RATE, AudioSource
from voicecli.audio.device_choice import DeviceInfo
from voicecli.audio.devices import MicSource
from voicecli.audio.echo import EchoCanceller, HalfDuplex, resolve_mode, with_echo_control
from voicecli.audio.format import dbfs, int16_to_bytes
from voicecli.audio.speaker import SpeakerSink
from voicecli.audio.synth import tone


@dataclass
class LiveAudio:
    mic: MicSource
    speaker: SpeakerSink
    source: AudioSource  # the microphone behind its echo control
    echo_mode: str  # aec | half | off (auto resolved)
    echo_status: str

    @property
    def status(self) -> str:
        m, s = self.mic, self.speaker
        return (
            f"mic {m.info.name!r} at {m.rate // 1000} kHz, speaker {s.info.name!r} at "
            f"{s.rate / 1000:g} kHz ({s.output_latency_s * 1000:.0f} ms output latency); "
            f"{self.echo_status}"
        )

    def stats(self) -> dict[str, float | int]:
        """Microphone, speaker and echo control counters (``--stats``, the summary)."""
        out: dict[str, float | int] = {**self.mic.stats(), **self.speaker.stats()}
        if isinstance(self.source, HalfDuplex | EchoCanceller):
            out.update(self.source.stats())
        return out

    def close(self) -> None:
        """Stops the speaker at once (the microphone closes with the source)."""
        self.speaker.close()


def open_live_audio(
    input_device: str | int | None = None,
    output_device: str | int | None = None,
    echo: str = "auto",
    frame_ms: int = 20,
    tail_ms: int = 300,
) -> LiveAudio:
    mode = resolve_mode(echo)  # a missing extra is reported before any device opens
    speaker = SpeakerSink(output_device, keep_played=mode == "aec")
    try:
        # 60 ms capture blocks (three frames each): a third of the callbacks and loop
        # wake-ups of 20 ms blocks, for at most 40 ms more before a frame reaches the gate
        # (bench_starter: CPU 1.05x -> 0.97x the starter's with 40 -> 60 ms, end of speech
        # -> reply 0.53x -> 0.56x). With the echo canceller too: 20 ms blocks cost 2.4x
        # the starter's CPU instead of 1.8x, for a barge-in heard ~80 ms sooner
        mic = MicSource(input_device, frame_ms=frame_ms, block_ms=60)
        source, text = with_echo_control(mic, speaker, mode, tail_ms)
    except BaseException:
        speaker.close()
        raise
    return LiveAudio(mic, speaker, source, mode, text)


# ------------------------------------------------------------------ devices --test
@dataclass
class CheckResult:
    input: DeviceInfo
    output: DeviceInfo
    input_rate: int
    output_rate: int
    seconds: float
    tone_s: float
    played_s: float = 0.0
    levels: list[tuple[float, float]] = field(default_factory=list)  # (t, dBFS)

    @property
    def peak_dbfs(self) -> float:
        return max((lvl for _, lvl in self.levels), default=-120.0)

    @property
    def silent(self) -> bool:
        """The input never rose above digital silence: muted, or the wrong device."""
        return self.peak_dbfs <= -90.0


async def check_devices(
    input_device: str | int | None = None,
    output_device: str | int | None = None,
    seconds: float = 3.0,
    on_level: Callable[[float, float], None] | None = None,
    tone_hz: float = 440.0,
    tone_s: float = 0.6,
    window_ms: int = 50,
) -> CheckResult:
    """Meter the input for ``seconds`` (``on_level(t, dBFS)`` every ``window_ms``) while the
    output plays a ``tone_s`` tone at the start."""
    speaker = SpeakerSink(output_device)
    try:
        mic = MicSource(input_device, frame_ms=10)
        res = CheckResult(mic.info, speaker.info, mic.rate, speaker.rate, seconds, tone_s)
        beep = tone(tone_hz, tone_s, rate=OUTPUT_RATE, amp=0.3)
        fade = np.minimum(
            1.0, np.minimum(np.arange(beep.size), beep.size - np.arange(beep.size)) / 240
        )
        speaker.write(int16_to_bytes((beep * fade).astype(np.int16)))
        speaker.flush()
        window = bytearray()
        want = INPUT_RATE * window_ms // 1000 * 2
        t0 = time.monotonic()
        frames = mic.frames()
        try:
            async for frame in frames:
                window += frame
                if len(window) >= want:
                    t, level = time.monotonic() - t0, dbfs(bytes(window))
                    res.levels.append((t, level))
                    window.clear()
                    if on_level is not None:
                        on_level(t, level)
                    if t >= seconds:
                        break
        finally:
            with contextlib.suppress(RuntimeError):
                await frames.aclose()  # type: ignore[attr-defined]
            await mic.aclose()
        await asyncio.wait_for(speaker.drain(), timeout=tone_s + 5)
        res.played_s = speaker.played_s
        return res
    finally:
        speaker.close()
