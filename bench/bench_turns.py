"""Turn ending on the strict simulator profile (issue 12): how fast a turn ends after the
user stops speaking, and how much audio each utterance costs, per turn-detection mode.

The simulator runs in its own process with its default (strict) fidelity profile: server
turn detection needs >= 800 ms of trailing audio and ignores silenceDurationMs, and
gemini-3.8-live ignores audioStreamEnd. ``run_talk`` drives it through the real SDK over
TLS, in real time, with 3 utterances of 1.5 s speech and 2 s pauses. Measured in the same
run:

* client-driven turns (the default): activityStart/activityEnd from the gate;
* server detection (``--turn-detection server``): silenceDurationMs set, audio sent until
  the server ended the turn;
* baseline: stream everything (``--vad off``);
* baseline: server detection with a gate that stops after its hangover (voicecli before
  issue 12): no turn ends.

"End of speech -> end of turn" is from the end of the speech in the input to the server's
first message for that turn (the end of the user's turn as the client sees it). Goals:
<= hangover + 50 ms, and audio sent per utterance <= speech + 0.6 s.

    python bench/bench_turns.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_talk import sim_settings, start_sim  # noqa: E402

from voicecli.audio import synth  # noqa: E402
from voicecli.audio.vad import Gate  # noqa: E402
from voicecli.config import Settings  # noqa: E402
from voicecli.live import events as ev  # noqa: E402
from voicecli.session import engine  # noqa: E402
from voicecli.session.engine import TalkRequest, run_talk  # noqa: E402

SCENARIO = """
voice = "tone"
latency_ms = 0
realtime = 0
default_reply = "ok"
"""
PATTERN = [(1.5, 2.0)] * 3
HANGOVER_MS = 250


class TurnEnds:
    """Observer: when the server's first message after each end of speech arrived."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_event(self, event: object, t: float) -> None:
        ends = isinstance(event, (ev.InputTranscript, ev.InterimInputTranscript))
        if isinstance(event, ev.VoiceActivity) and event.kind.endswith("END"):
            ends = True
        if ends:
            self.times.append(t)

    def delays(self, spans: list[tuple[float, float]]) -> list[float]:
        out, times = [], list(self.times)
        for _start, end in spans:
            while times and times[0] < end:
                times.pop(0)
            if times:
                out.append(times.pop(0) - end)
                while times and times[0] - out[-1] - end < 0.2:  # the same turn's messages
                    times.pop(0)
        return out


def stopping_gate(settings: Settings, caps: object) -> Gate:
    """voicecli before issue 12: after the hangover the gate stops sending."""
    gate = make_gate(settings, caps)  # type: ignore[arg-type]
    return Gate(replace(gate.params, trail_until_server=False))


make_gate = engine.make_gate


async def one_run(settings: Settings, wav: Path) -> tuple[object, TurnEnds]:
    sig = TurnEnds()
    req = TalkRequest(input=wav, observers=[sig], reply_wait_s=3.0)
    return await run_talk(settings, req), sig


def main() -> None:
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        proc, env = start_sim(tmp, SCENARIO)
        try:
            base = sim_settings(env, hangover_ms=HANGOVER_MS)
            wav = tmp / "three.wav"
            spans = synth.make_utterances_wav(wav, PATTERN, rate=16000)
            speech = PATTERN[0][0]
            print(
                f"== strict simulator, real time, {len(PATTERN)} x ({speech} s speech, "
                f"{PATTERN[0][1]} s pause), hangover {HANGOVER_MS} ms"
            )
            print(
                f"  {'mode':44s} {'end of speech -> end of turn':>30s}   audio sent per utterance"
            )
            runs = [
                ("client-driven turns (default)", base, None),
                ("server detection (--turn-detection server)", base.with_overrides(turn_detection="server"), None),
                ("baseline: stream everything (--vad off)", base.with_overrides(vad="off"), None),
                (
                    "baseline: server detection, gate stops",
                    base.with_overrides(turn_detection="server"),
                    stopping_gate,
                ),
            ]  # fmt: skip
            for label, settings, gate in runs:
                engine.make_gate = gate or make_gate  # type: ignore[assignment]
                try:
                    summary, sig = asyncio.run(one_run(settings, wav))
                finally:
                    engine.make_gate = make_gate
                delays = sig.delays(spans)
                ended = f"{len(delays)}/{len(spans)} ended"
                med = f"median {1000 * statistics.median(delays):4.0f} ms" if delays else "never"
                per = summary.seconds_sent / len(spans)  # type: ignore[attr-defined]
                print(
                    f"  {label:44s} {med:>17s} ({ended})   {per:4.2f} s "
                    f"(speech {speech:.1f} s + {per - speech:4.2f} s)"
                )
            print(
                f"  {'goal':44s} {'<= ' + str(HANGOVER_MS + 50) + ' ms':>17s} {'':10s}   "
                f"<= speech + 0.60 s"
            )
        finally:
            proc.terminate()
            proc.wait(20)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
