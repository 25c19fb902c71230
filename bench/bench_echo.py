"""What ``--echo aec`` costs on top of AEC3 itself, offline (no devices, no server).

    python bench/bench_echo.py [--seconds 60]

A minute of conversation through a simulated room: the model's replies (espeak-ng speech,
or the simulator's tones) play at 24 kHz, the microphone hears them 30 ms later at 16 kHz,
-6 dB, with a short reverberant tail and a noise floor; replies of 3 s with 3 s of silence
between them. Two ways of cancelling that echo run over the same audio, in turn, several
times:

* voicecli's ``EchoCanceller`` as ``talk --echo aec`` runs it (the speaker's blocks handed
  over up to 100 ms ahead with their play times, 20 ms microphone frames with their capture
  times): alignment, echo-path detection, the tone remover, skipping AEC3 while the speaker
  is silent, the warm-up mute.
* the naive client: livekit's ``AudioProcessingModule`` called directly for every 10 ms
  piece, far and near, with the true delay given and the pieces paired exactly (what a
  client that trusts the device's timing does).

It prints CPU time per second of audio (``time.process_time``, median of the repeats), the
ratio, and the echo reduction each gets over the replies after the first (the first is the
warm-up: voicecli mutes it).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecli.audio.echo import EchoCanceller, WebRtcCanceller, aec_available  # noqa: E402
from voicecli.audio.synth import espeak_pcm  # noqa: E402
from voicecli.sim.voice import tone  # noqa: E402

FAR_RATE, MIC_RATE = 24000, 16000
DELAY_S, GAIN = 0.03, 0.5
REPLY_S, GAP_S = 3.0, 3.0
BLOCK = FAR_RATE // 50  # the speaker's 20 ms blocks
PAD_S = 0.12  # the speaker pads a reply's end with its device buffer of silence (120 ms here)
REPEATS = 5
TEXT = (
    "The build finished in four minutes, two tests failed in the parser module, "
    "and the rest passed. Shall I open the first failure?"
)


def replies(voice: str, seconds: float) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The far end (24 kHz int16) and the reply spans in it (samples)."""
    if voice == "espeak":
        pcm = espeak_pcm(TEXT, FAR_RATE)
        if pcm is None:
            sys.exit("espeak-ng is needed for --voice espeak (apt install espeak-ng)")
        one = np.frombuffer(pcm, "<i2")
    else:
        one = np.frombuffer(tone(440, REPLY_S, FAR_RATE), "<i2")
    one = one[: round(REPLY_S * FAR_RATE)]
    far = np.zeros(round(seconds * FAR_RATE), np.int16)
    spans, t = [], 0.5
    while t + REPLY_S <= seconds:
        a = round(t * FAR_RATE)
        far[a : a + len(one)] = one
        spans.append((a, a + len(one)))
        t += REPLY_S + GAP_S
    return far, spans


def room(far: np.ndarray, seed: int = 7) -> np.ndarray:
    """What the microphone hears (16 kHz float): the echo and a noise floor."""
    rng = np.random.default_rng(seed)
    x = soxr.resample(far.astype(np.float64), FAR_RATE, MIC_RATE)
    taps = np.zeros(round(0.06 * MIC_RATE))
    taps[0] = 1.0
    tail = rng.normal(0, 0.05, len(taps) - 1) * np.exp(-np.arange(len(taps) - 1) / 200)
    taps[1:] = tail  # a short reverberant tail after the direct path
    echo = np.convolve(x, taps)[: len(x)] * GAIN
    d = round(DELAY_S * MIC_RATE)
    mic = np.zeros_like(x)
    mic[d:] = echo[:-d]
    return mic + rng.normal(0, 20, len(mic))


class HandingSpeaker:
    """Hands its blocks over up to 100 ms before they play, as the speaker's writer does."""

    rate = FAR_RATE
    is_playing = False
    last_sound_end = -math.inf

    def __init__(self, blocks: list[tuple[float, np.ndarray]], now: list[float]) -> None:
        self.pending, self.now, self.i = blocks, now, 0

    def played_blocks(self) -> list[tuple[float, np.ndarray]]:
        out = []
        while self.i < len(self.pending) and self.pending[self.i][0] <= self.now[0] + 0.1:
            out.append(self.pending[self.i])
            self.i += 1
        return out


class Frames:
    """The microphone: 20 ms frames with their capture times."""

    frame_ms = 20

    def __init__(self, mic: bytes, now: list[float]) -> None:
        self.mic, self.now = mic, now

    async def timed_frames(self) -> Any:
        step = MIC_RATE // 50 * 2
        for k in range(0, len(self.mic) - step + 1, step):
            t = k / 2 / MIC_RATE
            self.now[0] = t + 0.025  # processed 5 ms after the frame is complete
            yield self.mic[k : k + step], t

    async def frames(self) -> Any:
        async for f, _ in self.timed_frames():
            yield f

    async def aclose(self) -> None:
        pass


def voicecli_run(far: np.ndarray, spans: list[tuple[int, int]], mic: bytes) -> bytes:
    now = [0.0]
    pad = round(PAD_S * FAR_RATE)
    blocks = [
        (k / FAR_RATE, far[k : k + BLOCK]) for a, b in spans for k in range(a, b + pad, BLOCK)
    ]  # a speaker stream per reply, padded at its end; nothing is played between them
    aec = EchoCanceller(Frames(mic, now), HandingSpeaker(blocks, now), clock=lambda: now[0])

    async def run() -> bytes:
        return b"".join([f async for f in aec.frames()])

    return asyncio.run(run())


def naive_run(far: np.ndarray, mic: bytes) -> bytes:
    canc = WebRtcCanceller()
    canc.set_delay_ms(round(DELAY_S * 1000))
    far16 = soxr.resample(far, FAR_RATE, MIC_RATE).astype("<i2").tobytes()
    out = bytearray()
    piece = MIC_RATE // 100 * 2
    for k in range(0, min(len(far16), len(mic)) - piece + 1, piece):
        canc.reverse(bytearray(far16[k : k + piece]))
        near = bytearray(mic[k : k + piece])
        canc.process(near)
        out += near
    return bytes(out)


def reduction_db(mic: bytes, out: bytes, spans: list[tuple[int, int]]) -> float:
    """Echo energy in / out over the replies after the first (their echo's span)."""
    m = np.frombuffer(mic, "<i2").astype(np.float64)
    o = np.frombuffer(out, "<i2").astype(np.float64)
    e_in = e_out = 0.0
    for a, b in spans[1:]:
        lo = round(a * MIC_RATE / FAR_RATE + DELAY_S * MIC_RATE)
        hi = min(round(b * MIC_RATE / FAR_RATE + DELAY_S * MIC_RATE), len(o))
        e_in += float(np.dot(m[lo:hi], m[lo:hi]))
        e_out += float(np.dot(o[lo:hi], o[lo:hi]))
    return 10 * math.log10(e_in / max(e_out, 1.0))


def timed(fn: Any, *args: Any) -> tuple[float, bytes]:
    c = time.process_time()
    out = fn(*args)
    return time.process_time() - c, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--voice", choices=["espeak", "tone"], default="espeak")
    a = ap.parse_args()
    if not aec_available():
        sys.exit("livekit is needed: pip install 'voicecli[aec]'")
    far, spans = replies(a.voice, a.seconds)
    mic = np.clip(np.round(room(far)), -32768, 32767).astype("<i2").tobytes()
    ours: list[float] = []
    naive: list[float] = []
    for _ in range(REPEATS):  # alternating: the machine is shared
        c, out_ours = timed(voicecli_run, far, spans, mic)
        ours.append(c)
        c, out_naive = timed(naive_run, far, mic)
        naive.append(c)
    per_s = a.seconds / 1000  # CPU seconds -> ms per second of audio
    o, n = statistics.median(ours) / per_s, statistics.median(naive) / per_s
    print(
        f"{a.seconds:.0f} s of conversation, {len(spans)} replies ({a.voice}), {REPEATS} runs each"
    )
    print(f"{'':24} {'voicecli':>10} {'naive AEC3':>11}  ratio")
    print(f"{'CPU ms per s of audio':24} {o:10.2f} {n:11.2f}  {o / n:.2f}x")
    print(f"{'  (% of a core)':24} {o / 10:10.2f} {n / 10:11.2f}")
    print(
        f"{'echo reduction':24} {reduction_db(mic, out_ours, spans):8.1f} dB"
        f" {reduction_db(mic, out_naive, spans):8.1f} dB  (replies 2..{len(spans)})"
    )


if __name__ == "__main__":
    main()
