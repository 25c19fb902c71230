"""Turn-taking in a room (issue 29): voicecli against a baseline with the starter's
turn-taking (voicecli --vad off), same run.

A corpus the project builds itself: espeak-ng phrases (finished questions; an unfinished
phrase, a pause of 0.3-1.2 s, the rest; three sentences with 0.45 s pauses) and a real
keyboard recording (``tests/data``, from the ``livekit-agents`` wheel, CC-BY 4.0) alone and
during a reply. The simulator runs in its own process and answers 100 ms after the end of a
turn (a quick server: a reply that is not held is heard at once), in real time.

* voicecli: defaults (client-driven turns, replies held for the commit window, a voice
  needed to start a turn), and ``--turn-eagerness high`` / ``low``;
* baseline, the starter's turn-taking: every chunk streamed (no gate), the server's detection ends
  turns (the strict simulator: 800 ms of trailing audio), replies played as they come.

Printed per client: false starts heard (reply audio heard before the user's last word),
turns answered, turns started by noise, replies cut by noise, end of speech -> first reply
audio heard (finished questions: median, p90), CPU of the client (process time).

    python bench/bench_turn_taking.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_talk import sim_settings, start_sim  # noqa: E402

from voicecli.audio import synth  # noqa: E402
from voicecli.audio.base import INPUT_RATE  # noqa: E402
from voicecli.config import Settings  # noqa: E402
from voicecli.live import events as ev  # noqa: E402
from voicecli.session.engine import TalkRequest, run_talk  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "voicecli-bench"
PYANNOTE = "pyannote-audio==4.0.7"  # its wheel ships a 30 s two-speaker sample (MIT wheel)
MONOLOGUE_S = (21.9, 27.8)  # one speaker alone ("Well, there isn't ... so what can I say?")
LEAD_S = 0.3
TAIL_S = 3.0


def scenario(heard: str) -> str:
    return f"""
voice = "tone"
latency_ms = 100
realtime = 1.0
default_reply = "a reply of a few words that takes its time to say, about three seconds"
[[turns]]
heard = "{heard}"
"""


def speak(text: str) -> np.ndarray:
    pcm = synth.espeak_pcm(text, rate=INPUT_RATE)
    if pcm is None:
        raise SystemExit("espeak-ng is needed for this benchmark")
    x = np.frombuffer(pcm, dtype="<i2")
    loud = np.flatnonzero(np.abs(x) > 300)
    return x[loud[0] : loud[-1] + 1]


def keyboard(seconds: float, dbfs: float = -30.0) -> np.ndarray:
    x, _rate = sf.read(DATA / "keyboard-typing-4s.flac", dtype="float64")
    x = np.tile(x, int(np.ceil(seconds * INPUT_RATE / len(x))))[: int(seconds * INPUT_RATE)]
    x *= 10 ** (dbfs / 20) / np.sqrt(np.mean(x**2))
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


def human_speech() -> np.ndarray | None:
    """A 5.9 s monologue from the sample recording in the ``pyannote-audio`` wheel, fetched
    once into a cache with ``pip download`` (never by voicecli itself); None if unavailable."""
    wav = CACHE / "pyannote-sample.wav"
    if not wav.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", PYANNOTE, "-d", CACHE],
                check=True,
                timeout=300,
            )
            wheel = next(CACHE.glob("pyannote_audio-*.whl"))
            with zipfile.ZipFile(wheel) as z:
                wav.write_bytes(z.read("pyannote/audio/sample/sample.wav"))
        except (subprocess.SubprocessError, StopIteration, KeyError, OSError):
            return None
    x, rate = sf.read(wav, dtype="int16")
    a, b = (int(t * rate) for t in MONOLOGUE_S)
    return np.asarray(x[a:b] if rate == INPUT_RATE else soxr.resample(x[a:b], rate, INPUT_RATE))


@dataclass
class Case:
    kind: str  # question | pause | sentences | keyboard | typing | monologue
    label: str
    heard: str  # what the simulated server hears (its input transcription)
    parts: list[np.ndarray]
    last_word_s: float = 0.0  # end of the user's last word, in the file
    noise_from_s: float | None = None


def case(kind: str, heard: str, pieces: list[tuple[str, np.ndarray]], label: str = "") -> Case:
    parts, pos, last, noise = [synth.silence(LEAD_S)], LEAD_S, 0.0, None
    for what, x in pieces:
        parts.append(x)
        if what == "speech":
            last = pos + len(x) / INPUT_RATE
        elif what == "noise" and noise is None:
            noise = pos
        pos += len(x) / INPUT_RATE
    parts.append(synth.silence(TAIL_S))
    return Case(kind, label or kind, heard, parts, last, noise)


def corpus() -> list[Case]:
    out: list[Case] = []
    for q in ("What time is it in Tokyo?", "How far is the moon?", "Can you recommend a book?"):
        out.append(case("question", q, [("speech", speak(q))]))
    head, rest = "Can you tell me", "how far the moon is from the earth?"
    for pause in (0.3, 0.5, 0.7, 0.9, 1.2):
        out.append(
            case(
                "pause",
                head,
                [("speech", speak(head)), ("pause", synth.silence(pause)), ("speech", speak(rest))],
                f"pause {pause} s",
            )
        )
    pieces: list[tuple[str, np.ndarray]] = []
    for s in ("I was thinking about dinner tonight.", "Maybe something Italian."):
        pieces += [("speech", speak(s)), ("pause", synth.silence(0.45))]
    pieces.append(("speech", speak("Do you know a quick tomato sauce?")))
    out.append(case("sentences", "I was thinking about dinner tonight.", pieces))
    out.append(case("keyboard", "(typing)", [("noise", keyboard(3.0))]))
    human = human_speech()
    if human is not None:
        said = "Well, there isn't that much difference. At least you know, so what can I say?"
        out.append(case("monologue", said, [("speech", human)]))
    else:
        print("(no human speech: pip download of pyannote-audio failed; that case is left out)")
    q = "What is the weather like?"
    out.append(
        case(
            "typing",
            q,
            [("speech", speak(q)), ("pause", synth.silence(0.6)), ("noise", keyboard(3.0))],
        )
    )
    return out


class Watch:
    """Observer: reply audio heard, turns, interruptions (session times)."""

    def __init__(self) -> None:
        self.audio: list[float] = []
        self.interrupted = 0

    def on_event(self, event: object, t: float) -> None:
        if isinstance(event, ev.AudioChunk):
            self.audio.append(t)
        elif isinstance(event, ev.Interrupted):
            self.interrupted += 1


@dataclass
class Tally:
    false_starts: int = 0
    answered: int = 0
    requests: int = 0
    noise_turns: int = 0
    noise_cuts: int = 0
    latencies: list[float] = field(default_factory=list)
    cpu_s: float = 0.0
    heard_early: list[str] = field(default_factory=list)  # the inputs with a false start


async def one(settings: Settings, c: Case, tmp: Path, tally: Tally) -> None:
    wav = tmp / "in.wav"
    synth.write_wav(wav, np.concatenate(c.parts), INPUT_RATE)
    watch = Watch()
    cpu0 = time.process_time()
    summary = await run_talk(settings, TalkRequest(input=wav, observers=[watch], reply_wait_s=3))
    tally.cpu_s += time.process_time() - cpu0
    # the file is paced from the session's start: file time ~ session time
    if c.kind == "keyboard":
        tally.noise_turns += summary.turns
        return
    tally.requests += 1
    early = [t for t in watch.audio if t < c.last_word_s]
    after = [t for t in watch.audio if t >= c.last_word_s]
    tally.false_starts += 1 if early else 0
    if early:
        tally.heard_early.append(c.label)
    tally.answered += 1 if after else 0
    if c.kind == "typing":
        tally.noise_cuts += watch.interrupted
    if c.kind in ("question", "monologue") and after:
        tally.latencies.append(after[0] - c.last_word_s)


def p90(xs: list[float]) -> float:
    return float(np.percentile(xs, 90)) if xs else float("nan")


def main() -> None:
    cases = corpus()
    with tempfile.TemporaryDirectory() as td:
        tmp = Path(td)
        clients = {
            "voicecli (normal)": {},
            "voicecli --turn-eagerness high": {"turn_eagerness": "high"},
            "voicecli --turn-eagerness low": {"turn_eagerness": "low"},
            "baseline: voicecli --vad off (stream all, server VAD)": {"vad": "off"},
        }
        tallies = {name: Tally() for name in clients}
        for c in cases:
            (tmp / c.kind).mkdir(exist_ok=True)
            proc, env = start_sim(tmp / c.kind, scenario(c.heard))
            try:
                base = sim_settings(env)
                for name, over in clients.items():
                    settings = base.with_overrides(**over) if over else base
                    asyncio.run(one(settings, c, tmp, tallies[name]))
            finally:
                proc.terminate()
                proc.wait(20)
        n_req = sum(1 for c in cases if c.kind != "keyboard")
        print(f"== turn-taking corpus: {len(cases)} inputs, simulator answering in 100 ms")
        head = (
            f"  {'client':42s} {'false starts heard':>18s} {'answered':>9s} {'noise turns':>11s}"
            f" {'noise cuts':>10s} {'question: end->heard median/p90':>32s} {'CPU':>6s}"
        )
        print(head)
        base_med = statistics.median(
            tallies["baseline: voicecli --vad off (stream all, server VAD)"].latencies
        )
        for name, t in tallies.items():
            med = statistics.median(t.latencies) if t.latencies else float("nan")
            lat = f"{med * 1000:4.0f} / {p90(t.latencies) * 1000:4.0f} ms ({med / base_med:.2f}x)"
            print(
                f"  {name:42s} {t.false_starts:>11d} of {n_req:<3d} {t.answered:>4d}/{t.requests:<4d}"
                f" {t.noise_turns:>11d} {t.noise_cuts:>10d} {lat:>32s} {t.cpu_s:5.1f}s"
            )
        for name, t in tallies.items():
            print(f"  {name}: false starts heard in: {', '.join(t.heard_early) or 'none'}")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    main()
