"""Scripted-run benchmark (issue 3): what voicecli sends, how fast turns end, what it costs.

Runs the simulator in a separate process (so the CPU figures are the client's alone) and
drives ``run_talk`` through the real SDK over TLS, comparing voicecli's gate with naive
clients measured in the same run:

* audio sent / input for 60 s of input with about half silence (stream-everything: 100 %);
* end of speech -> end-of-turn signal (the server's first message of the turn), for the
  gate and stream-everything (the gate that stops sending at silence under server
  detection is measured by ``bench_turns.py``, beside ``--turn-detection server``);
* client CPU time per audio minute of a scripted run (fast mode).

    python bench/bench_talk.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from voicecli.audio import synth
from voicecli.config import Settings
from voicecli.live import events as ev
from voicecli.session.engine import TalkRequest, run_talk

SCENARIO = """
voice = "tone"
latency_ms = 0
realtime = 0
default_reply = "ok"
"""


class TurnSignal:
    """Observer: when the server signalled the end of each user turn (its first message)."""

    def __init__(self) -> None:
        self.times: list[float] = []

    def on_event(self, event: object, t: float) -> None:
        if isinstance(event, ev.InputTranscript):
            self.times.append(t)

    def delays(self, spans: list[tuple[float, float]]) -> list[float]:
        """Pair each end of speech in the input (real-time pacing) with the next signal."""
        out, times = [], list(self.times)
        for _start, end in spans:
            while times and times[0] < end:
                times.pop(0)
            if times:
                out.append(times.pop(0) - end)
        return out


def start_sim(tmp: Path, scenario: str = SCENARIO) -> tuple[subprocess.Popen[str], dict[str, str]]:
    """The simulator in its own process; returns it and the two variables to point at it."""
    (tmp / "s.toml").write_text(scenario)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "voicecli",
            "sim",
            "--port",
            "0",
            "--scenario",
            str(tmp / "s.toml"),
            "--cert-dir",
            str(tmp / "certs"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    env: dict[str, str] = {}
    assert proc.stdout is not None
    while len(env) < 2:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError("simulator did not start")
        name, _, value = line.removeprefix("export ").strip().partition("=")
        env[name] = value
    return proc, env


def sim_settings(env: dict[str, str], **kw: Any) -> Settings:
    """Settings that reach the simulator ``start_sim`` started (``env``: its two variables)."""
    return Settings(
        base_url=env["GOOGLE_GEMINI_BASE_URL"],
        ca_file=env["SSL_CERT_FILE"],
        api_key="bench-key",
        timeout=30,
        **kw,
    )


async def one_run(settings: Settings, wav: Path, fast: bool) -> tuple[object, TurnSignal, float]:
    sig = TurnSignal()
    cpu0 = time.process_time()
    summary = await run_talk(
        settings, TalkRequest(input=wav, fast=fast, observers=[sig], reply_wait_s=3.0)
    )
    return summary, sig, time.process_time() - cpu0


def main() -> None:
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        proc, env = start_sim(tmp)
        try:
            base = sim_settings(env)
            long_wav = tmp / "long.wav"
            spans = synth.make_utterances_wav(
                long_wav, [(5.0, 5.0)] * 6, rate=48000, lead_silence_s=0.0
            )
            speech_s = sum(b - a for a, b in spans)
            short_wav = tmp / "short.wav"
            short_spans = synth.make_utterances_wav(short_wav, [(1.5, 2.0)] * 3, rate=16000)

            print("== audio sent for 60 s of input (6 x 5 s speech, half silence), fast mode")
            rows = []
            for label, s in [
                ("voicecli gate (gemini-3.8-live)", base),
                (
                    "voicecli gate (2.5 native audio)",
                    base.with_overrides(model="gemini-2.5-flash-native-audio-preview-12-2025"),
                ),
                ("baseline: stream everything", base.with_overrides(vad="off")),
            ]:
                summary, _sig, cpu = asyncio.run(one_run(s, long_wav, fast=True))
                rows.append((label, summary, cpu))
                pct = 100 * summary.seconds_sent / summary.seconds_in
                print(
                    f"  {label:36s} sent {summary.seconds_sent:6.2f} s of {summary.seconds_in:5.1f} s = {pct:5.1f} %"
                )
            bound = speech_s + 0.6 * len(spans)
            print(
                f"  {'goal: speech + 0.6 s x utterances':36s} {bound:6.2f} s = {100 * bound / 60:5.1f} %"
            )

            print(
                "== client CPU per audio minute (fast scripted run, simulator in another process)"
            )
            for label, summary, cpu in rows:
                print(
                    f"  {label:36s} {1000 * cpu / (summary.seconds_in / 60):7.0f} ms CPU per audio minute"
                )

            print("== end of speech -> end-of-turn signal, real-time pacing, 3 utterances")
            for label, s in [
                ("voicecli gate (gemini-3.8-live)", base),
                (
                    "voicecli gate + audioStreamEnd (2.5)",
                    base.with_overrides(model="gemini-2.5-flash-native-audio-preview-12-2025"),
                ),
                ("baseline: stream everything", base.with_overrides(vad="off")),
            ]:
                summary, sig, _cpu = asyncio.run(one_run(s, short_wav, fast=False))
                delays = sig.delays(short_spans)
                answered = len(delays)
                med = f"{1000 * statistics.median(delays):5.0f} ms" if delays else "  never"
                print(f"  {label:40s} median {med}  ({answered}/3 turns ended by the server)")
        finally:
            proc.terminate()
            proc.wait(5)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
