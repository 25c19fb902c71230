"""Soak benchmark (issues 8 and 18): a long conversation in fast mode with every output on
(--output WAV, --record two-sided WAV, --transcript), a goAway every second of wall time;
no turn may be lost, and RSS must stay flat: within +5 MB after the first minute of audio
(goal < 150 MB overall). RSS is reported at 1, 10 and 30 minutes of audio (those reached).

The simulator runs in its own process (its memory is not counted); the input is generated
on the fly (no 30-minute file in memory): an utterance of 2 s every 10 s of audio.

    python bench/bench_soak.py               # 10 minutes of audio
    python bench/bench_soak.py --full        # 30 minutes (the issue's length)
    python bench/bench_soak.py --minutes 3 --goaway-every 3
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_talk import sim_settings, start_sim  # noqa: E402

from voicecli.audio import synth  # noqa: E402
from voicecli.audio.base import frame_bytes  # noqa: E402
from voicecli.live import events as ev  # noqa: E402
from voicecli.session.engine import TalkRequest, run_talk  # noqa: E402

FRAME_MS = 20
PERIOD_S = 10.0
SPEECH_S = 2.0


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class GeneratedSource:
    """Utterances of speech-like sound separated by silence, as fast as they are read."""

    frame_ms = FRAME_MS

    def __init__(self, minutes: float) -> None:
        self.frames_out = 0
        self.periods = int(minutes * 60 / PERIOD_S)
        speech = synth.speech_like(SPEECH_S, 16000).tobytes()
        size = frame_bytes(FRAME_MS)
        self._speech = [speech[i : i + size] for i in range(0, len(speech), size)]
        self._silence = bytes(size)

    async def frames(self) -> AsyncIterator[bytes]:
        silent_frames = int((PERIOD_S - SPEECH_S) * 1000 / FRAME_MS)
        for _ in range(self.periods):
            for f in self._speech:
                self.frames_out += 1
                yield f
            for _ in range(silent_frames):
                self.frames_out += 1
                yield self._silence
            await asyncio.sleep(0)

    async def aclose(self) -> None:
        return None


class Meter:
    """RSS against minutes of audio read from the source (sampled on events)."""

    def __init__(self, source: GeneratedSource) -> None:
        self.source = source
        self.rss: list[tuple[float, float]] = []  # (audio minute, MB)
        self.reconnects = 0
        self._last = 0.0

    def on_event(self, event: object, t: float) -> None:
        if isinstance(event, ev.Reconnect) and event.phase != "reconnecting":
            self.reconnects += 1
        now = time.monotonic()
        if now - self._last > 0.5:
            self.rss.append((self.source.frames_out * FRAME_MS / 60000, rss_mb()))
            self._last = now

    def at(self, minute: float) -> float | None:
        """The RSS sampled nearest after ``minute`` of audio."""
        return next((mb for m, mb in self.rss if m >= minute), None)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--full", action="store_true", help="30 minutes of audio")
    ap.add_argument("--goaway-every", type=float, default=1.0, help="seconds of wall time")
    a = ap.parse_args()
    if a.full:
        a.minutes = 30.0
    scenario = (
        'voice = "tone"\nlatency_ms = 0\nrealtime = 0\ndefault_reply = "ok"\n'
        f"goaway_after_s = {a.goaway_every}\ngoaway_time_left_s = 1.0\n"
    )
    with tempfile.TemporaryDirectory() as td:
        proc, env = start_sim(Path(td), scenario)
        try:
            settings = sim_settings(env)
            source = GeneratedSource(a.minutes)
            meter = Meter(source)
            start_rss = rss_mb()
            t0 = time.monotonic()
            summary = asyncio.run(
                run_talk(
                    settings,
                    TalkRequest(
                        source=source,
                        fast=True,
                        observers=[meter],
                        output=Path(td) / "out.wav",
                        record=Path(td) / "record.wav",
                        transcript=Path(td) / "transcript.jsonl",
                        with_tools=False,
                        reply_wait_s=5.0,
                    ),
                )
            )
            wall = time.monotonic() - t0
        finally:
            proc.terminate()
            proc.wait(5)
    lost = summary.utterances - summary.spoken
    print(f"== soak: {summary.seconds_in / 60:.1f} min of input in {wall:.0f} s wall (fast mode)")
    print(
        f"  utterances {summary.utterances}, answered {summary.spoken}, lost {lost} "
        f"(interrupted by a move: {summary.interrupted}, unanswered: {summary.unanswered})"
    )
    print(f"  connections moved (goAway/reconnect): {meter.reconnects}")
    mbs = [mb for _, mb in meter.rss]
    marks = [(m, meter.at(m)) for m in (1, 10, 30) if m <= a.minutes]
    at1 = meter.at(1) or mbs[0]
    later = [mb for m, mb in meter.rss if m >= 1] or [at1]
    print(
        f"  RSS: start {start_rss:.1f} MB, "
        + ", ".join(f"{m} min {mb:.1f} MB" for m, mb in marks if mb is not None)
        + f", max {max(mbs):.1f} MB, end {mbs[-1]:.1f} MB (goal < 150 MB)"
    )
    print(f"  growth after the first minute: {max(later) - at1:+.1f} MB (goal <= +5 MB)")


if __name__ == "__main__":
    main()
