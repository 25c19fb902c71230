"""The user and the ear of ``bench_starter.py``: plays utterances into the virtual microphone
and records the virtual speaker, both with times on ``time.monotonic`` (the clock every
process on the machine shares), so the benchmark can say when speech ended and when the
reply was heard.

Run with ``PULSE_SINK=micfeed PULSE_SOURCE=spk.monitor`` (libpulse routes the ALSA pulse
plugin's default output and input there). Commands, one per line on stdin:

    play FILE.wav     queue FILE (48 kHz mono PCM16); prints "played FILE T_FIRST T_LAST" once
                      its last sample has gone out (monotonic seconds of the first/last sample)
    stop OUT.npz      writes the speaker recording (``pcm`` int16 at 24 kHz, ``t0``) and exits
"""

from __future__ import annotations

import sys
import threading
import time
from collections import deque
from typing import Any

import numpy as np
import sounddevice as sd
import soundfile as sf

PLAY_RATE = 48000
REC_RATE = 24000
BLOCK_MS = 10


class Probe:
    def __init__(self) -> None:
        self.queue: deque[tuple[str, np.ndarray]] = deque()
        self.cur: tuple[str, np.ndarray] | None = None
        self.pos = 0
        self.first_t: float | None = None
        self.done: deque[tuple[str, float, float]] = deque()
        self.rec: list[np.ndarray] = []
        self.t0: float | None = None
        self.lock = threading.Lock()

    def out_cb(self, outdata: Any, frames: int, tinfo: Any, status: Any) -> None:
        now = time.monotonic()
        dac = now + (tinfo.outputBufferDacTime - tinfo.currentTime)
        out = np.zeros(frames, dtype=np.int16)
        k = 0
        while k < frames:
            if self.cur is None:
                with self.lock:
                    if not self.queue:
                        break
                    self.cur, self.pos, self.first_t = self.queue.popleft(), 0, None
            name, pcm = self.cur
            if self.first_t is None:
                self.first_t = dac + k / PLAY_RATE
            take = min(frames - k, len(pcm) - self.pos)
            out[k : k + take] = pcm[self.pos : self.pos + take]
            k += take
            self.pos += take
            if self.pos >= len(pcm):
                self.done.append((name, self.first_t, dac + k / PLAY_RATE))
                self.cur = None
        outdata[:] = out.reshape(-1, 1)

    def in_cb(self, indata: Any, frames: int, tinfo: Any, status: Any) -> None:
        if self.t0 is None:
            now = time.monotonic()
            self.t0 = now - (tinfo.currentTime - tinfo.inputBufferAdcTime)
        self.rec.append(indata[:, 0].copy())


def main() -> None:
    probe = Probe()
    out = sd.OutputStream(
        samplerate=PLAY_RATE,
        channels=1,
        dtype="int16",
        blocksize=PLAY_RATE * BLOCK_MS // 1000,
        callback=probe.out_cb,
    )
    inp = sd.InputStream(
        samplerate=REC_RATE,
        channels=1,
        dtype="int16",
        blocksize=REC_RATE * BLOCK_MS // 1000,
        callback=probe.in_cb,
    )
    inp.start()
    out.start()
    print("ready", flush=True)

    def reporter() -> None:
        while True:
            while probe.done:
                name, a, b = probe.done.popleft()
                # report once the last sample has really gone out
                time.sleep(max(0.0, b - time.monotonic()))
                print(f"played {name} {a:.6f} {b:.6f}", flush=True)
            time.sleep(0.005)

    threading.Thread(target=reporter, daemon=True).start()
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "play":
            pcm, rate = sf.read(arg, dtype="int16")
            assert rate == PLAY_RATE, f"{arg}: {rate} Hz, want {PLAY_RATE}"
            with probe.lock:
                probe.queue.append((arg, pcm if pcm.ndim == 1 else pcm[:, 0]))
        elif cmd == "stop":
            inp.stop()
            out.stop()
            pcm = np.concatenate(probe.rec) if probe.rec else np.zeros(0, np.int16)
            np.savez(arg, pcm=pcm, t0=np.float64(probe.t0 or 0.0), rate=REC_RATE)
            print("stopped", flush=True)
            return


if __name__ == "__main__":
    main()
