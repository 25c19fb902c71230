"""Microphone, speaker and echo benchmark (issue 4), on the virtual PulseAudio devices.

    python bench/bench_devices.py [--quick]

Starts ``scripts/vaudio.sh`` in a private directory (PULSE_SERVER is set before sounddevice
is imported) and measures, each next to a naive baseline measured in the same run:

1. playback start: model audio handed to the speaker -> its first sample written to the
   device (the writer thread starts the stream for each reply; p95; goal <= 40 ms; when it
   is heard is ``bench_starter.py``'s row). Baseline: open a callback stream per reply
   (what ``sd.play`` does) -> its first callback.
2. capture hand-off: a mic frame's last sample captured -> the frame handed to the sender
   (p95; goal <= one block + 10 ms). Baseline: blocking reads of 1024 frames (the classic
   PyAudio CHUNK) on a thread.
3. CPU of full duplex in real time (mic + speaker playing speech, each echo mode), scaled
   to % of one core (goal <= 5 %). Baseline: blocking read/write threads.
4. underruns per minute when audio arrives slower than real time (0.9x, jittery), the
   jitter buffer in virtual time against playing whatever is there.
5. echo reduction of ``--echo aec`` on the speaker->mic loopback (dB, after convergence)
   and how much of the user's voice survives talking over the model (double talk); then
   per reply over six replies of speech (each one a new start of the speaker's stream,
   which ``echo_align`` lines up again).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VAUDIO = ROOT / "scripts" / "vaudio.sh"


def start_vaudio() -> dict[str, str]:
    env = {**os.environ, "VAUDIO_DIR": tempfile.mkdtemp(prefix="voicecli-bench-vaudio-")}
    out = subprocess.run([str(VAUDIO), "start"], env=env, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"virtual audio did not start (make testdeps?): {out.stderr.strip()}")
    server = out.stdout.strip().removeprefix("export PULSE_SERVER=")
    os.environ["PULSE_SERVER"] = env["PULSE_SERVER"] = server
    return env


def vaudio(env: dict[str, str], *args: str) -> None:
    subprocess.run([str(VAUDIO), *args], env=env, capture_output=True, check=False)


def pctl(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) if xs else float("nan")


def ms(x: float) -> str:
    return f"{x * 1000:6.1f} ms"


def speech_24k(seconds: float, seed: int = 0) -> bytes:
    """Voice-like audio (harmonics of a wandering pitch, syllable envelope), 24 kHz."""
    rng = np.random.default_rng(seed)
    n = round(seconds * 24000)
    f0 = np.interp(np.arange(n), np.linspace(0, n, 30), rng.uniform(100, 220, 30))
    phase = 2 * np.pi * np.cumsum(f0) / 24000
    voice = sum(np.sin(k * phase) / k for k in range(1, 12))
    env = np.interp(
        np.arange(n), np.linspace(0, n, round(seconds * 8)), rng.uniform(0, 1, round(seconds * 8))
    )
    x = voice * env + 0.02 * rng.standard_normal(n)
    return (0.3 * 32767 * x / np.max(np.abs(x))).astype("<i2").tobytes()


# ------------------------------------------------------------------ 1. playback start
async def playback_start(replies: int) -> tuple[list[float], list[float]]:
    from voicecli.audio.devices import sd
    from voicecli.audio.speaker import SpeakerSink

    ours: list[float] = []
    spk = SpeakerSink()
    reply = speech_24k(0.4)
    for _ in range(replies):
        for i in range(0, len(reply), 3840):  # 80 ms chunks at real time, like the service
            spk.write(reply[i : i + 3840])
            await asyncio.sleep(0.08)
        await asyncio.wait_for(spk.drain(), 5)
        await asyncio.sleep(0.2)
    ours = list(spk.start_latency_s)
    spk.close()

    naive: list[float] = []
    mod = sd()
    for _ in range(replies):
        first = threading.Event()
        t0 = time.monotonic()

        def cb(outdata, frames, tinfo, status, first=first) -> None:  # type: ignore[no-untyped-def]
            outdata[:] = b"\0" * len(outdata)
            first.set()

        with mod.RawOutputStream(24000, channels=1, dtype="int16", callback=cb):
            await asyncio.to_thread(first.wait, 5)
            naive.append(time.monotonic() - t0)
            await asyncio.sleep(0.1)
    return ours, naive


# ------------------------------------------------------------------ 2. capture hand-off
async def capture_handoff(seconds: float) -> tuple[list[float], list[float], float]:
    from voicecli.audio.devices import MicSource, sd

    mic = MicSource(frame_ms=20)
    t_end = time.monotonic() + seconds
    async for _ in mic.frames():
        if time.monotonic() > t_end:
            break
    await mic.aclose()
    ours = list(mic.frame_age_s)

    # naive: blocking reads of 1024 frames at 16 kHz on a thread, cut into 20 ms frames
    mod = sd()
    naive: list[float] = []
    chunk = 1024
    with mod.RawInputStream(16000, channels=1, dtype="int16", blocksize=chunk) as stream:
        t_end = time.monotonic() + seconds
        while time.monotonic() < t_end:
            data, _ = await asyncio.to_thread(stream.read, chunk)
            got = time.monotonic()
            for i in range(len(data) // 640):  # frame i ends (i + 1) x 20 ms into the chunk
                naive.append((chunk - (i + 1) * 320) / 16000 + (time.monotonic() - got))
    return ours, naive, mic.block / mic.rate


# ------------------------------------------------------------------ 3. CPU of full duplex
async def duplex_cpu(mode: str, seconds: float) -> tuple[float, dict[str, float | int]]:
    from voicecli.audio.duplex import open_live_audio

    live = open_live_audio(echo=mode, frame_ms=20)
    reply = speech_24k(seconds + 1)
    c0, t0 = time.process_time(), time.monotonic()
    n = 0
    frames = live.source.frames()
    try:
        async for _ in frames:
            n += 1
            if n % 4 == 1:  # 80 ms of model audio every 80 ms
                k = (n // 4) * 3840
                live.speaker.write(reply[k : k + 3840])
            if time.monotonic() - t0 >= seconds:
                break
    finally:
        await frames.aclose()  # type: ignore[attr-defined]
        await live.source.aclose()
    cpu = (time.process_time() - c0) / (time.monotonic() - t0)
    stats = live.stats()
    live.close()
    return cpu, stats


def naive_duplex_cpu(seconds: float) -> float:
    from voicecli.audio.devices import sd

    mod = sd()
    reply = speech_24k(seconds + 1)
    stop = threading.Event()
    frames: queue.Queue[bytes] = queue.Queue()

    def reader() -> None:
        with mod.RawInputStream(48000, channels=1, dtype="int16", blocksize=1024) as s:
            while not stop.is_set():
                data, _ = s.read(1024)
                x = np.frombuffer(data, "<i2").astype(np.float64)  # 48k -> 16k by interp
                y = np.interp(np.arange(0, len(x), 3), np.arange(len(x)), x)
                frames.put(y.astype("<i2").tobytes())

    def writer() -> None:
        with mod.RawOutputStream(48000, channels=1, dtype="int16", blocksize=1024) as s:
            for k in range(0, len(reply), 3840):
                if stop.is_set():
                    return
                x = np.frombuffer(reply[k : k + 3840], "<i2").astype(np.float64)
                y = np.interp(np.arange(0, len(x), 0.5), np.arange(len(x)), x)
                s.write(y.astype("<i2").tobytes())

    threads = [threading.Thread(target=reader), threading.Thread(target=writer)]
    c0, t0 = time.process_time(), time.monotonic()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    return (time.process_time() - c0) / (time.monotonic() - t0)


# ------------------------------------------------------------------ 4. underruns, slow audio
def underruns_slow(minutes: float, rate: float = 0.9, seed: int = 0) -> dict[str, float]:
    """Virtual time, 10 ms device blocks; 80 ms chunks arrive at ``rate`` x real time with
    +-30 ms jitter. Counts gaps per minute: the jitter buffer vs. playing what is there."""
    from voicecli.audio.playback import JitterBuffer, JitterParams

    rng = np.random.default_rng(seed)
    total = minutes * 60
    arrivals = []
    t = 0.0
    while t < total:
        arrivals.append(t + rng.uniform(0, 0.03))
        t += 0.08 / rate
    chunk = np.ones(1920, dtype=np.int16)
    jb = JitterBuffer(JitterParams(rate=24000, gap_ms=5000))
    naive_q, naive_gaps, naive_dry = 0, 0, False
    block = np.zeros(240, dtype=np.int16)
    k = 0
    for step in range(round(total * 100)):
        now = step / 100
        while k < len(arrivals) and arrivals[k] <= now:
            jb.push(chunk)
            naive_q += len(chunk)
            k += 1
        jb.pull_into(block)
        if naive_q >= 240:
            naive_q -= 240
            naive_dry = False
        elif k and not naive_dry:
            naive_gaps += 1
            naive_dry = True
            naive_q = 0
    return {
        "ours": jb.underruns / minutes,
        "ours_gap_s": jb.underrun_samples / 24000 / minutes,
        "naive": naive_gaps / minutes,
        "prebuffer_ms": jb.target * 1000 / 24000,
    }


# ------------------------------------------------------------------ 5. echo reduction
async def model_voice(seconds: float) -> tuple[bytes, str]:
    """The model's side for the echo test: espeak-ng speech when installed (real speech is
    what AEC3 is built for), else the synthetic voice."""
    from voicecli.sim.voice import espeak

    text = (
        "Once upon a time, in a small village by the sea, there lived an old fisherman "
        "who told long stories every evening, and everybody listened until late at night."
    )
    pcm = await espeak(text)
    if not pcm:
        return speech_24k(seconds, seed=3), "synthetic voice"
    need = round(seconds * 24000) * 2
    return (pcm * (need // len(pcm) + 1))[:need], "espeak-ng speech"


class Tap:
    """livekit's canceller, recording what it was given (far, and the microphone before it
    worked: ``raw``) and what it gave (``out``), before any warm-up muting."""

    def __init__(self) -> None:
        from voicecli.audio.echo import WebRtcCanceller

        self.inner = WebRtcCanceller()
        self.far: list[bytes] = []
        self.raw: list[bytes] = []
        self.out: list[bytes] = []

    def reverse(self, far: bytearray) -> None:
        self.far.append(bytes(far))
        self.inner.reverse(far)

    def set_delay_ms(self, ms: int) -> None:
        self.inner.set_delay_ms(ms)

    def process(self, near: bytearray) -> None:
        self.raw.append(bytes(near))
        self.inner.process(near)
        self.out.append(bytes(near))


async def echo_reduction(env: dict[str, str]) -> dict[str, Any] | None:
    from voicecli.audio.devices import MicSource
    from voicecli.audio.echo import EchoCanceller, aec_available
    from voicecli.audio.speaker import SpeakerSink

    if not aec_available():
        return None

    await asyncio.to_thread(vaudio, env, "loopback", "on", "40")
    user = Path(tempfile.mkdtemp()) / "user.wav"
    import soundfile as sf

    sf.write(str(user), np.frombuffer(speech_24k(2.0, seed=5), "<i2"), 24000)
    try:
        spk = SpeakerSink(keep_played=True)
        tap = Tap()
        aec = EchoCanceller(MicSource(), spk, canceller=tap)
        reply, voice = await model_voice(10.0)
        n = 0
        player = None
        async for _ in aec.frames():
            n += 1
            if n == 10:
                for i in range(0, len(reply), 3840):
                    spk.write(reply[i : i + 3840])
            if n == 10 + 300:  # 6 s into the reply the user talks for 2 s
                player = await asyncio.create_subprocess_exec(
                    str(VAUDIO), "play-into-mic", str(user), env=env
                )
            if n >= 10 + 500:
                break
        await aec.aclose()
        spk.close()
        if player:
            await player.wait()
    finally:
        await asyncio.to_thread(vaudio, env, "loopback", "off")
    raw = np.frombuffer(b"".join(tap.raw), "<i2").astype(np.float64)
    out = np.frombuffer(b"".join(tap.out), "<i2").astype(np.float64)

    def level(x: np.ndarray, a: float, b: float) -> float:
        seg = x[int(a * 16000) : int(b * 16000)]
        return 10 * np.log10(np.mean(seg * seg) + 1e-9)

    # echo only: 2..6 s of the reply (after convergence); double talk: 6.4..7.8 s
    user_alone = 10 * np.log10(
        np.mean(np.frombuffer(speech_24k(2.0, seed=5), "<i2").astype(float) ** 2)
    )
    return {
        "echo_reduction_db": level(raw, 2.2, 6.0) - level(out, 2.2, 6.0),
        "echo_reduction_first_s_db": level(raw, 0.3, 1.3) - level(out, 0.3, 1.3),
        "double_talk_out_db": level(out, 6.6, 7.8),
        "double_talk_raw_db": level(raw, 6.6, 7.8),
        "user_alone_db": user_alone,
        "delay_ms": float(aec.stats()["aec_echo_delay_ms"]),
        "shifts": float(aec.shifts),
        "voice": voice,
    }


async def echo_per_reply(env: dict[str, str], replies: int = 6) -> dict[str, Any]:
    """Replies of 3 s of speech every 4.5 s, the speaker's stream started for each: AEC3's
    echo reduction per reply (the canceller's own count), how far each was moved, and the
    echo lag in the far/near pairs AEC3 was given (per 0.5 s of loud far end: one value
    all along is what it converges on)."""
    from voicecli.audio.devices import MicSource
    from voicecli.audio.echo import EchoCanceller
    from voicecli.audio.echo_path import phat_fine
    from voicecli.audio.speaker import SpeakerSink

    await asyncio.to_thread(vaudio, env, "loopback", "on", "40")
    try:
        spk = SpeakerSink(keep_played=True)
        pairs = Tap()
        aec = EchoCanceller(MicSource(block_ms=60), spk, canceller=pairs)
        reply, _ = await model_voice(3.0)
        starts = {round((1.0 + k * 4.5) / 0.02) for k in range(replies)}
        n = 0
        async for _ in aec.frames():
            n += 1
            if n in starts:
                for i in range(0, len(reply), 3840):
                    spk.write(reply[i : i + 3840])
                spk.flush()
            if n * 0.02 > 1.0 + replies * 4.5:
                break
        await aec.aclose()
        spk.close()
    finally:
        await asyncio.to_thread(vaudio, env, "loopback", "off")
    far = np.frombuffer(b"".join(pairs.far), "<i2").astype(np.float64)
    near = np.frombuffer(b"".join(pairs.raw), "<i2").astype(np.float64)
    lags = []
    w, before = 8000, 1600  # 0.5 s windows, echoes up to 100 ms late
    for a in range(before, len(near) - w - 160, w):
        f = far[a - before : a + w + 160]
        if np.sqrt(np.mean(f * f)) > 300:
            ratio, lag = phat_fine(near[a : a + w], f, before, 160, 16)
            if ratio > 15:
                lags.append(lag)
    return {
        "db": list(aec.reductions_db),
        "fixes_ms": [round(f * 1000, 2) for f in aec.align.fixes],
        "starts": spk.starts,
        "lags": lags,
    }


async def main(quick: bool) -> None:
    env = start_vaudio()
    try:
        from voicecli.audio.devices import rescan

        rescan()
        print("voicecli device benchmark (virtual PulseAudio devices, ALSA pulse plugin)\n")
        ours, naive = await playback_start(10 if quick else 30)
        print("1. model audio -> first sample to the device")
        print(
            f"   voicecli (jitter buffer, written into a started stream): p50 {ms(pctl(ours, 50))}  p95 {ms(pctl(ours, 95))}  (goal p95 <= 40 ms)"
        )
        print(
            f"   naive (open a callback stream per reply)               : p50 {ms(pctl(naive, 50))}  p95 {ms(pctl(naive, 95))}"
        )

        ours_c, naive_c, block_s = await capture_handoff(3 if quick else 10)
        print("\n2. mic frame's last sample captured -> frame handed to the sender")
        print(
            f"   voicecli ({block_s * 1000:.0f} ms callback blocks): p50 {ms(pctl(ours_c, 50))}  p95 {ms(pctl(ours_c, 95))}  (goal p95 <= {ms(block_s + 0.01).strip()})"
        )
        print(
            f"   naive (blocking 1024-frame reads): p50 {ms(pctl(naive_c, 50))}  p95 {ms(pctl(naive_c, 95))}"
        )

        secs = 10 if quick else 30
        print(f"\n3. CPU of full duplex in real time ({secs} s each, % of one core)")
        from voicecli.audio.echo import aec_available

        for mode in ["off", "half"] + (["aec"] if aec_available() else []):
            cpu, stats = await duplex_cpu(mode, secs)
            print(
                f"   voicecli --echo {mode:<4}: {cpu * 100:5.2f} %  (underruns {stats.get('underruns', 0)}, mic overflows {stats.get('mic_overflows', 0)}, xruns {stats.get('mic_xruns', 0)}/{stats.get('speaker_xruns', 0)})"
            )
        print(
            f"   naive threads + np.interp: {naive_duplex_cpu(secs) * 100:5.2f} %   (goal <= 5 %)"
        )

        u = underruns_slow(1.0 if quick else 5.0)
        print("\n4. underruns per minute, audio at 0.9x real time (+-30 ms jitter, 80 ms chunks)")
        print(
            f"   voicecli jitter buffer: {u['ours']:6.1f} /min ({u['ours_gap_s']:.2f} s of gaps/min; start-up buffer grew to {u['prebuffer_ms']:.0f} ms)"
        )
        print(f"   naive (play what is there): {u['naive']:6.1f} /min")

        e = await echo_reduction(env)
        print("\n5. --echo aec on the speaker->mic loopback (0 dB echo path, 40 ms)")
        if e is None:
            print("   livekit not installed (pip install 'voicecli[aec]'): skipped")
        else:
            print(
                f"   echo reduction after convergence: {e['echo_reduction_db']:.1f} dB (first second: {e['echo_reduction_first_s_db']:.1f} dB; muted by the warm-up anyway)"
            )
            print(
                f"   double talk: user alone {e['user_alone_db']:.1f} dB, mic {e['double_talk_raw_db']:.1f} dB, after AEC {e['double_talk_out_db']:.1f} dB"
            )
            print(
                f"   echo delay found {e['delay_ms']:.0f} ms, far end shifted {e['shifts']:.0f}x; model voice: {e['voice']}"
            )
            print(
                "   baselines: --echo off 0 dB (the model hears itself); half mutes everything (no barge-in)"
            )
            r = await echo_per_reply(env)
            db = r["db"]
            print(
                f"   per reply ({r['starts']} speaker starts): {', '.join(f'{x:.0f}' for x in db)} dB"
                f" (median of replies 2..: {float(np.median(db[1:])) if len(db) > 1 else float('nan'):.0f} dB);"
                f" moved by {', '.join(f'{x:+.2f}' for x in r['fixes_ms']) or 'nothing'} ms"
            )
            lags = r["lags"]
            if lags:
                print(
                    f"   echo lag in what AEC3 was given, per 0.5 s: {min(lags):.2f}..{max(lags):.2f}"
                    f" samples ({len(lags)} windows; one value all along is what AEC3 converges on)"
                )
    finally:
        await asyncio.to_thread(vaudio, env, "stop")
        shutil.rmtree(env["VAUDIO_DIR"], ignore_errors=True)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="shorter runs")
    asyncio.run(main(ap.parse_args().quick))
