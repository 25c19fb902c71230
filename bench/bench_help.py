"""Benchmark start-up: how long ``--help`` and the start of a session take, against baselines.

    python bench/bench_help.py [--runs 9]

Each command runs ``--runs`` times in a fresh interpreter (alternating with the others, so a
busy machine slows them alike); the median wall time is printed. Baselines in the same run:
``python -c pass`` (the interpreter alone) and a bare typer app of two commands printing its
help (what any typer CLI pays). ``talk --sim`` to its first byte on stdout is the start of a
real session (the simulator, a generated WAV, the plain view); it is timed to the first byte
the session prints (its banner), not to its end.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BARE_TYPER = """
import typer
app = typer.Typer()
@app.command()
def a(x: int = 1) -> None: pass
@app.command()
def b(x: int = 1) -> None: pass
app()
"""


def first_byte(argv: list[str], env: dict[str, str]) -> float:
    """Seconds from the start of ``argv`` to its first byte (the banner, on stderr when stdout
    is a pipe); then it is stopped."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    proc.stderr.read(1)
    took = time.perf_counter() - start
    proc.kill()
    proc.wait()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    py = sys.executable
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "100"}
    with tempfile.TemporaryDirectory() as tmp:
        env["VOICECLI_HOME"] = tmp
        wav = Path(tmp) / "in.wav"
        subprocess.run(
            [py, "-c", "import sys; from voicecli.audio import synth; "
             "synth.make_utterances_wav(__import__('pathlib').Path(sys.argv[1]), [(0.2, 0.5)])",
             str(wav)], env=env, check=True,
        )  # fmt: skip
        cases = {
            "python -c pass (baseline)": [py, "-c", "pass"],
            "bare typer app --help (baseline)": [py, "-c", BARE_TYPER, "--help"],
            "voicecli --help": [py, "-m", "voicecli", "--help"],
            "voicecli talk --help": [py, "-m", "voicecli", "talk", "--help"],
            "voicecli talk --sim -i in.wav: first byte": [
                py,
                "-m",
                "voicecli",
                "talk",
                "--sim",
                "--fast",
                "--no-history",
                "-i",
                str(wav),
            ],  # fmt: skip
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(runs):
            for name, argv in cases.items():
                if name.endswith("first byte"):
                    times[name].append(first_byte(argv, env))
                    continue
                start = time.perf_counter()
                subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
                times[name].append(time.perf_counter() - start)
    print(f"{'command':45} {'median':>8} {'min':>8}  ({runs} runs)")
    for name, ts in times.items():
        print(f"{name:45} {statistics.median(ts) * 1000:6.0f} ms {min(ts) * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
