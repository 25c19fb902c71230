"""Benchmark the VAD gate and the file pipeline.

    python bench/bench_gate.py

1. Audio sent: 60 s of input, about half silence (6 utterances of 5 s speech), through
   FileSource -> webrtcvad -> Gate, per model family, against streaming everything.
2. CPU time (time.process_time) per minute of audio for the file pipeline (read +
   resample + VAD + gate) and a naive baseline measured in the same run (whole file read
   at once, numpy linear interpolation to 16 kHz).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecli.audio.files import FileSource  # noqa: E402
from voicecli.audio.format import to_mono  # noqa: E402
from voicecli.audio.resample import Reframer, StreamResampler  # noqa: E402
from voicecli.audio.synth import make_utterances_wav  # noqa: E402
from voicecli.audio.vad import Gate, GateParams, WebRtcDetector, gate_params_for  # noqa: E402
from voicecli.live.capabilities import lookup  # noqa: E402

PATTERN = [(5.0, 5.0)] * 5 + [(5.0, 4.5)]  # 0.5 s lead + 6 x 5 s speech = 60 s
RATE, CHANNELS = 48000, 2  # a typical device/file format, so resampling and downmix count
REPEATS = 7


async def gate_run(path: Path, params: GateParams) -> Gate:
    det, gate = WebRtcDetector(3), Gate(params)
    src = FileSource(path, frame_ms=params.frame_ms, realtime=False)
    async for frame in src.frames():
        gate.push(frame, det.is_speech(frame))
    gate.finish()
    await src.aclose()
    return gate


async def read_resample_only(path: Path) -> int:
    src = FileSource(path, realtime=False)
    n = 0
    async for _ in src.frames():
        n += 1
    await src.aclose()
    return n


def naive_read_resample(path: Path) -> list[bytes]:
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    mono = to_mono(data)  # the same downmix as the pipeline: only the resampling differs
    n_out = int(len(mono) * 16000 / rate)
    x = np.interp(np.arange(n_out) * rate / 16000, np.arange(len(mono)), mono)
    pcm = np.clip(np.rint(x * 32768), -32768, 32767).astype("<i2").tobytes()
    return Reframer(640).push(pcm)


def naive_pipeline(path: Path) -> Gate:
    det, gate = WebRtcDetector(3), Gate(GateParams())
    for frame in naive_read_resample(path):
        gate.push(frame, det.is_speech(frame))
    return gate


def soxr_oneshot(path: Path) -> list[bytes]:
    """Whole-file read, soxr at once: what streaming costs over a single call."""
    data, rate = sf.read(str(path), dtype="int16", always_2d=True)
    mono = to_mono(data).tobytes()
    r = StreamResampler(rate, 16000)
    return Reframer(640).push(r.process(mono) + r.flush())


def cpu_per_minute(fn: Callable[[], object], audio_s: float) -> float:
    best = float("inf")
    for _ in range(REPEATS):
        t0 = time.process_time()
        fn()
        best = min(best, time.process_time() - t0)
    return best * 60.0 / audio_s


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.wav"
        spans = make_utterances_wav(path, PATTERN, rate=RATE, channels=CHANNELS)
        total = sf.info(str(path)).duration
        speech = sum(e - s for s, e in spans)
        bound = speech + 0.6 * len(spans)

        print(
            f"input: {total:.1f} s at {RATE} Hz x{CHANNELS}, {len(spans)} utterances, "
            f"{speech:.1f} s speech ({speech / total:.0%})"
        )
        print()
        print(f"{'audio sent':<58}{'seconds':>9}{'% of input':>12}{'utts':>6}")
        print(f"{'stream everything (baseline)':<58}{total:>9.2f}{100:>11.0f}%{'-':>6}")
        for label, model in (
            ("gate, gemini-3.8-live (no stream end)", "gemini-3.8-live"),
            (
                "gate, 2.5 native audio (stream end)",
                "gemini-2.5-flash-native-audio-preview-12-2025",
            ),
        ):
            p = gate_params_for(lookup(model).honours_stream_end)
            g = asyncio.run(gate_run(path, p))
            name = f"{label} pre={p.pre_roll_ms} hang={p.hangover_ms}"
            print(
                f"{name:<58}{g.seconds_sent:>9.2f}{g.seconds_sent / total:>11.1%}{g.utterances:>6}"
            )
        print(
            f"{'bound: speech + 0.6 s x utterances':<58}{bound:>9.2f}{bound / total:>11.1%}"
            f"{len(spans):>6}"
        )
        print()

        params = gate_params_for(lookup("gemini-3.8-live").honours_stream_end)
        rows = [
            ("file pipeline: read+soxr+VAD+gate", lambda: asyncio.run(gate_run(path, params))),
            (
                "  of which read+downmix+soxr (streaming)",
                lambda: asyncio.run(read_resample_only(path)),
            ),
            ("naive: whole read+np.interp+VAD+gate", lambda: naive_pipeline(path)),
            ("  of which whole read+np.interp", lambda: naive_read_resample(path)),
            ("  reference: whole read+soxr one shot", lambda: soxr_oneshot(path)),
        ]
        print(
            f"{'CPU time per audio minute (best of ' + str(REPEATS) + ')':<58}{'ms/min':>9}"
            f"{'x realtime':>12}"
        )
        for name, fn in rows:
            ms = cpu_per_minute(fn, total) * 1000
            print(f"{name:<58}{ms:>9.1f}{60000 / ms:>11.0f}x")


if __name__ == "__main__":
    main()
