"""CPU floor of PortAudio stream shapes on the virtual devices (issue 17, where the CPU goes).

    python bench/bench_streams.py [--seconds 8]

Each shape runs alone in a child process on ``scripts/vaudio.sh``'s private PulseAudio, idle
(the callbacks copy or write silence, nothing else) or, for the blocking writers, playing
silence as fast as the device takes it, and prints the process's CPU as % of a
core. The starter-shaped baseline's shapes (blocking 1024-frame reads, blocking writes) are
measured in the same run. This is the cost voicecli pays before any Python work of its own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_devices import start_vaudio, vaudio  # noqa: E402

SHAPES = {
    "speaker callback, 10 ms blocks, latency low (voicecli --echo aec before)": "outcb:10",
    "speaker callback, 20 ms blocks, latency low": "outcb:20",
    "speaker blocking writes, idle (baseline; voicecli: the stream is stopped)": "outblock:0",
    "speaker blocking 20 ms writes into a 40 ms buffer, playing": "outplay:20:0.04",
    "speaker blocking 40 ms writes into a 150 ms buffer, playing": "outplay:40:0.12",
    "speaker blocking 60 ms writes into a 150 ms buffer, playing (voicecli)": "outplay:60:0.12",
    "speaker blocking 80 ms writes, latency high, playing (baseline)": "outplay:80:high",
    "mic callback, 20 ms blocks, latency high (voicecli --echo aec before)": "incb:20",
    "mic callback, 40 ms blocks, latency high": "incb:40",
    "mic callback, 60 ms blocks, latency high (voicecli)": "incb:60",
    "mic blocking 1024-frame reads (baseline)": "inblock:64",
    "duplex callback, 10 ms blocks": "duplex:10",
    "duplex callback, 20 ms blocks": "duplex:20",
}

CHILD = r"""
import os, sys, threading, time
import sounddevice as sd
kind, ms, secs, lat = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
def out_cb(o, f, t, s): o.fill(0)
def in_cb(i, f, t, s): bytes(i)
def duplex_cb(i, o, f, t, s): o.fill(0)
if kind == "outcb":
    s = sd.OutputStream(samplerate=24000, blocksize=24 * ms, channels=1, dtype="int16",
                        latency="low", callback=out_cb)
elif kind == "outplay":
    s = sd.RawOutputStream(samplerate=24000, channels=1, dtype="int16",
                           latency=lat if lat == "high" else float(lat))
elif kind == "outblock":
    s = sd.RawOutputStream(samplerate=24000, channels=1, dtype="int16", latency="low")
elif kind == "incb":
    s = sd.RawInputStream(samplerate=16000, blocksize=16 * ms, channels=1, dtype="int16",
                          latency="high", callback=in_cb)
elif kind == "inblock":
    s = sd.RawInputStream(samplerate=16000, blocksize=1024, channels=1, dtype="int16")
else:
    s = sd.Stream(samplerate=24000, blocksize=24 * ms, channels=1, dtype="int16",
                  latency="low", callback=duplex_cb)
s.start()
if kind == "inblock":
    def read():
        while True:
            s.read(1024)
    threading.Thread(target=read, daemon=True).start()
if kind == "outplay":
    def play(block=bytes(48 * ms)):
        while True:
            s.write(block)
    threading.Thread(target=play, daemon=True).start()
time.sleep(1)
c0 = time.process_time(); time.sleep(secs)
used = time.process_time() - c0
print(f"{100 * used / secs:.2f} {s.latency}", flush=True)
os._exit(0)
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=8.0)
    a = ap.parse_args()
    env = start_vaudio()
    try:
        print("| stream shape | CPU, % of a core | PortAudio latency |")
        print("|---|---|---|")
        for name, shape in SHAPES.items():
            kind, ms, *lat = shape.split(":")
            out = subprocess.run(
                [sys.executable, "-c", CHILD, kind, ms, str(a.seconds), (lat or ["low"])[0]],
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            line = out.stdout.strip().split(" ", 1)
            if out.returncode or len(line) != 2:
                print(f"| {name} | failed: {out.stderr.strip()[-200:]} | |")
                continue
            print(f"| {name} | {float(line[0]):.2f} | {line[1]} s |")
    finally:
        vaudio(env, "stop")


if __name__ == "__main__":
    main()
