"""Stall recovery (issue 35): time from a silent stall to the recovered reply heard.

For each stall kind of the simulator (fidelity rule 8, default ``stall_scope =
"connection"``: the stalled connection answers nothing more, so the nudge is ignored and a
resume recovers), ``run_talk`` drives a three-utterance session through the real SDK over
TLS, in fast mode, with the watchdog's default ``stall_after`` (5 s). "Stall -> reply" is
from the model's last sign of life before the stall (its last audio chunk, transcript or
``turnComplete``) to the first audio of the recovered reply; it includes the watchdog's
wait, the ignored nudge's wait, the reconnect and the reply's latency.

    python bench/bench_stall.py [--stall-after S]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.live import events as ev
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.sim import Scenario, SimServer, Turn

KINDS = ("stall_mid_reply", "stall_empty_turn", "stall_tone", "stall_text_only")
SIGNS = (ev.AudioChunk, ev.OutputTranscript, ev.TurnComplete, ev.GenerationComplete)


class Clock:
    def __init__(self) -> None:
        self.last_sign = 0.0
        self.onset: float | None = None
        self.recovered: float | None = None

    def on_event(self, event: object, t: float) -> None:
        now = time.monotonic()
        if isinstance(event, ev.Stall):
            if self.onset is None:
                self.onset = self.last_sign
            if event.action == "recovered":
                self.recovered = now
        elif isinstance(event, SIGNS) and self.onset is None:
            self.last_sign = now


async def one(fault: str, wav: Path, tmp: Path, stall_after: float) -> float | None:
    turns = [
        Turn(heard="one", reply="uno"),
        Turn(heard="two", reply="dos dos dos dos dos dos", fault=fault),
        Turn(heard="three", reply="tres"),
    ]
    scen = Scenario(voice="tone", latency_ms=300, realtime=1.0, turns=turns)
    async with SimServer(scen) as sim:
        clock = Clock()
        settings = Settings(
            base_url=sim.base_url,
            ca_file=str(sim.ca_path),
            api_key="bench-key",
            stall_after=stall_after,
            history=False,
        )
        req = TalkRequest(input=wav, fast=True, observers=[clock], output=tmp / f"{fault}.wav")
        summary = await run_talk(settings, req)
    if clock.onset is None or clock.recovered is None or summary.unanswered:
        return None
    return clock.recovered - clock.onset


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--stall-after", type=float, default=5.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        wav = tmp / "three.wav"
        synth.make_utterances_wav(wav, [(1.0, 1.0)] * 3, rate=16000)
        for fault in KINDS:
            took = await one(fault, wav, tmp, args.stall_after)
            shown = "not recovered" if took is None else f"{took:.2f} s"
            print(f"{fault:18} stall -> recovered reply: {shown}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
