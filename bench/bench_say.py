"""Benchmark `voicecli say`: time to the first audible sample, streamed vs. whole answers.

    python bench/bench_say.py [--repeats 7]

Drives ``run_say`` through the real google-genai SDK against the simulator's REST endpoint
(TLS, in a background thread), measured in the same run:

* streamed (``streamGenerateContent``) vs. whole (``generateContent``) answers, for a
  short sentence and a ~3000-character text (3 requests of 1000 characters);
* the long text as one request vs. split at sentences (what chunking buys when the
  service is slow to finish a long answer);
* with the simulator's tone voice (instant synthesis) and, when espeak-ng is installed,
  its espeak voice (real synthesis time, like a service that takes a while per request).

"First audible" is measured at the sink: the first sample above -40 dBFS, from the call to
``run_say`` (client set-up included). Medians of ``--repeats`` runs, modes interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecli.config import Settings  # noqa: E402
from voicecli.sim import Scenario, SimServer  # noqa: E402
from voicecli.speech.say import SayJob, run_say  # noqa: E402

AUDIBLE = int(32768 * 10 ** (-40 / 20))  # -40 dBFS
SHORT = "Hello, and welcome to voicecli."
LONG = " ".join(
    f"Paragraph {i} explains one more idea about speech generation, in plain words."
    for i in range(38)
)


class FirstAudible:
    """An AudioSink that notes when the first audible sample arrives."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.first: float | None = None
        self.samples = 0

    def write(self, pcm: bytes) -> None:
        a = np.frombuffer(pcm, dtype="<i2")
        if self.first is None and a.size and int(np.max(np.abs(a.astype(np.int32)))) > AUDIBLE:
            self.first = time.perf_counter() - self.t0
        self.samples += a.size

    def clear(self) -> None:
        pass

    def close(self) -> None:
        pass


async def one(settings: Settings, job: SayJob) -> tuple[float, float, float]:
    """(first audible s, total s, audio s) for one run."""
    t0 = time.perf_counter()
    sink = FirstAudible(t0)
    await run_say(settings, job, sink)
    total = time.perf_counter() - t0
    assert sink.first is not None, "no audible audio"
    return sink.first, total, sink.samples / 24000


def run_voice(voice: str, repeats: int) -> None:
    sim = SimServer(Scenario(voice=voice)).start_in_thread()
    settings = Settings(base_url=sim.base_url, ca_file=str(sim.ca_path), api_key="bench")
    cases = {
        "short, streamed": SayJob(SHORT, stream=True),
        "short, whole answer": SayJob(SHORT, stream=False),
        "long, streamed, 1000-char chunks": SayJob(LONG, stream=True),
        "long, whole answers, 1000-char chunks": SayJob(LONG, stream=False),
        "long, streamed, one request": SayJob(LONG, stream=True, max_chars=len(LONG)),
        "long, whole answer, one request": SayJob(LONG, stream=False, max_chars=len(LONG)),
    }
    results: dict[str, list[tuple[float, float, float]]] = {name: [] for name in cases}
    try:
        for job in cases.values():  # warm-up: imports, TLS, espeak caches
            asyncio.run(one(settings, job))
        for _ in range(repeats):
            for name, job in cases.items():
                results[name].append(asyncio.run(one(settings, job)))
    finally:
        sim.stop_thread()
    print(f"\nsimulator voice: {voice} ({repeats} runs each, medians)")
    print(f"{'case':<42}{'first audible ms':>18}{'total ms':>10}{'audio s':>9}")
    for name, runs in results.items():
        first = statistics.median(r[0] for r in runs) * 1000
        total = statistics.median(r[1] for r in runs) * 1000
        audio = statistics.median(r[2] for r in runs)
        print(f"{name:<42}{first:>18.1f}{total:>10.1f}{audio:>9.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    print(f"texts: short {len(SHORT)} chars, long {len(LONG)} chars")
    run_voice("tone", args.repeats)
    if shutil.which("espeak-ng"):
        run_voice("espeak", args.repeats)
    else:
        print("\n(espeak-ng not installed: espeak voice skipped)")


if __name__ == "__main__":
    main()
