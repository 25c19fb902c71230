"""voicecli against a starter-shaped naive client, side by side in one run (issue 17).

    python bench/bench_starter.py [--replies 5] [--skip-echo] [--cpu-pairs 3]

Both clients run as their own processes on the same virtual microphone and speaker
(``scripts/vaudio.sh``, a private PulseAudio) against the same simulator (in this process,
instrumented to log when it sent what and what audio it received). ``audio_probe.py`` speaks
espeak-ng utterances into the microphone and records the speaker, with times on the shared
monotonic clock. The baseline is ``starter_client.py``: our own client in the shape of Google's
cookbook starter (blocking PyAudio-style reads and writes, streams everything, no jitter
buffer). Rows (median over the utterances), each with voicecli / baseline:

* end of speech -> first reply sample on the speaker;
* the server's first reply chunk -> that sample heard on the speaker;
* audio sent / session time (what the server received);
* CPU % of one core while the conversation runs (/proc ticks), peak RSS (VmHWM);
* the speaker looped into the microphone at 0 dB (``vaudio.sh loopback``), voicecli with
  ``--echo aec``: self-interruptions, utterances answered in full (heard for at least 90 %
  of the audible span of what the server sent for the turn), the echo level that reached
  the server during each reply, and one barge-in by real speech during a reply (cut: the
  first 300 ms of silence on the speaker after it began);
* dropouts (gaps >= 5 ms inside a reply) and clicks (discontinuities) on the speaker, per
  reply; with tone replies the run fails its check (exit 1) when voicecli's headphones runs
  have more clicks than the baseline's;
* the CPU and RSS ratios again over ``--cpu-pairs`` alternating pairs of each kind of run
  (median; clean and loopback).

The machine is shared: CPU figures are noisy, which is why the two clients are measured in
the same run and compared as ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import pickle
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

sys.path.insert(0, str(Path(__file__).parent))

from bench_devices import start_vaudio, vaudio  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
PY = sys.executable
VOICECLI = str(Path(PY).parent / "voicecli")
KEY = "bench-key-starter"
UTTERANCES = [
    "Hello there, can you hear me well?",
    "What is a good name for a cat?",
    "Tell me something about the sea.",
    "How far away is the moon?",
    "Which colour do you like best?",
    "Can you count to three for me?",
    "What time is it in Tokyo now?",
]
BARGE = "Wait, stop, I have another question."
REPLY = "Sure, this is my answer to what you just asked."  # ~3.3 s of tone
SCENARIO = f"""
voice = "{{voice}}"
latency_ms = 300
realtime = 1.0
default_reply = "{REPLY}"
"""
HEARD = 1500  # |sample| above this on the speaker: a reply is audible (tones peak at 9830)
GAP_MS = 400  # silence that ends a reply (espeak's pauses between phrases are shorter)
CUT_MS = 300  # silence after a barge-in that shows the reply was cut


# ------------------------------------------------------------------ the simulator, logged
@dataclass
class SimLog:
    sent: dict[int, list[tuple[float, str]]] = field(default_factory=dict)  # session -> msgs
    heard: dict[int, list[tuple[float, bytes]]] = field(default_factory=dict)  # audio received
    spoken: dict[int, list[tuple[float, bytes]]] = field(default_factory=dict)  # audio sent
    voice: str = "tone"
    lock: threading.Lock = field(default_factory=threading.Lock)


def scenario_text(voice: str, words: bool) -> str:
    """The simulator's scenario. ``words``: it transcribes each utterance as the service
    would (the questions end in "?"); without, it says what it cannot know ("(speech 1.6 s)"),
    so voicecli's turn policy cannot tell a question from a statement."""
    text = SCENARIO.replace("{voice}", voice)
    if words:
        for heard in (*UTTERANCES, BARGE):
            text += f'[[turns]]\nheard = "{heard}"\nreply = "{REPLY}"\n'
    return text


def start_sim(log: SimLog, tmp: Path, voice: str = "tone", words: bool = True) -> Any:
    from voicecli.sim import inputs, session
    from voicecli.sim.scenario import load_scenario
    from voicecli.sim.server import SimServer

    orig_send = session.LiveSession.send
    orig_blob = inputs.InputTracker._blob

    async def send(self: Any, msg: dict[str, Any]) -> None:
        await orig_send(self, msg)
        now = time.monotonic()
        kinds = []
        audio = []
        for key, inner in msg.items():
            if key == "serverContent":
                if "modelTurn" in inner:
                    kinds.append("audio")
                    for part in inner["modelTurn"].get("parts", []):
                        data = (part.get("inlineData") or {}).get("data", "")
                        audio.append(inputs.b64decode(data))
                kinds += [k for k in ("interrupted", "turnComplete") if inner.get(k)]
                if "inputTranscription" in inner:
                    kinds.append("inputTranscription")
            else:
                kinds.append(key)
        with log.lock:
            log.sent.setdefault(self.record.id, []).extend((now, k) for k in kinds)
            if audio:
                log.spoken.setdefault(self.record.id, []).append((now, b"".join(audio)))

    def blob(self: Any, b: Any) -> Any:
        try:
            pcm = inputs.b64decode(str(inputs.get(b, "data") or ""))
        except ValueError:
            pcm = b""
        with log.lock:
            log.heard.setdefault(self.record.id, []).append((time.monotonic(), pcm))
        return orig_blob(self, b)

    session.LiveSession.send = send  # type: ignore[method-assign]
    inputs.InputTracker._blob = blob  # type: ignore[method-assign]
    (tmp / "s.toml").write_text(scenario_text(voice, words))
    sim = SimServer(load_scenario(tmp / "s.toml"), KEY, tmp / "certs")
    return sim.start_in_thread()


# ------------------------------------------------------------------ the probe (user + ear)
class Probe:
    def __init__(self, env: dict[str, str]) -> None:
        penv = {**env, "PULSE_SINK": "micfeed", "PULSE_SOURCE": "spk.monitor"}
        self.proc = subprocess.Popen(
            [PY, str(BENCH / "audio_probe.py")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=penv,
        )
        assert self._line() == "ready"

    def _line(self) -> str:
        assert self.proc.stdout is not None
        return self.proc.stdout.readline().strip()

    def say(self, wav: Path) -> tuple[float, float]:
        """Play ``wav`` into the microphone; (first, last sample) once it has been played."""
        self.send(wav)
        return self.wait_played()

    def send(self, wav: Path) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"play {wav}\n")
        self.proc.stdin.flush()

    def wait_played(self) -> tuple[float, float]:
        _, _, a, b = self._line().split()
        return float(a), float(b)

    def stop(self, out: Path) -> tuple[np.ndarray, float]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(f"stop {out}\n")
        self.proc.stdin.flush()
        assert self._line() == "stopped"
        self.proc.wait(10)
        z = np.load(out)
        return z["pcm"].astype(np.int32), float(z["t0"])


# ------------------------------------------------------------------ one client's run
@dataclass
class Run:
    name: str
    echo: bool
    spans: list[tuple[float, float]] = field(default_factory=list)  # utterances played
    barge: tuple[float, float] | None = None
    t_start: float = 0.0
    t_end: float = 0.0
    cpu_s: float = 0.0
    peak_rss_mb: float = 0.0
    session: int = -1
    stderr: str = ""
    exit_code: int | None = None
    audio_in_s: float = 0.0  # what the server received


def proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_for(pred: Any, within: float, step: float = 0.02) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return False


def run_client(
    run: Run,
    cmd: list[str],
    env: dict[str, str],
    probe: Probe,
    sim: Any,
    log: SimLog,
    wavs: list[Path],
    barge: Path | None,
) -> None:
    before = len(sim.sessions)
    with tempfile.TemporaryFile(mode="w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=err, stderr=err)
        try:
            ok = wait_for(lambda: len(sim.sessions) > before, 30)
            ok = ok and wait_for(lambda: "setupComplete" in kinds(log, sim.sessions[-1].id), 30)
            if not ok:
                err.seek(0)
                raise RuntimeError(f"{run.name} did not connect: {err.read()[-2000:]}")
            vaudio(env, "wait-mic-open", "20")
            run.session = sim.sessions[-1].id
            time.sleep(1.5)  # both sides settle
            run.t_start, c0 = time.monotonic(), proc_cpu_s(proc.pid)
            for i, wav in enumerate(wavs):
                last = i == len(wavs) - 1
                a, b = probe.say(wav)
                run.spans.append((a, b))
                if last and barge is not None:
                    # barge in 1 s after the reply started on the speaker (server's first chunk)
                    wait_for(lambda b=b: first_after(log, run.session, "audio", b) is not None, 10)
                    t_audio = first_after(log, run.session, "audio", b) or time.monotonic()
                    time.sleep(max(0.0, t_audio + 1.0 - time.monotonic()))
                    run.barge = probe.say(barge)
                    b = run.barge[1]
                wait_for(
                    lambda b=b: first_after(log, run.session, "turnComplete", b) is not None, 12
                )
                # the reply's tail plays out: it may have been held for voicecli's commit
                # window after the end of speech (up to 1.15 s; issue 29), so it is heard
                # later than the server sent it
                time.sleep(2.0)
            run.t_end = time.monotonic()
            run.cpu_s = proc_cpu_s(proc.pid) - c0
            run.peak_rss_mb = proc_hwm_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                run.exit_code = proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                run.exit_code = proc.wait(5)
            err.seek(0)
            run.stderr = err.read()
            run.audio_in_s = next(s.audio_in_s for s in sim.sessions if s.id == run.session)


def kinds(log: SimLog, session: int) -> list[str]:
    with log.lock:
        return [k for _, k in log.sent.get(session, [])]


def first_after(log: SimLog, session: int, kind: str, t: float) -> float | None:
    with log.lock:
        for when, k in log.sent.get(session, []):
            if k == kind and when >= t:
                return when
    return None


# ------------------------------------------------------------------ analysis
@dataclass
class Reply:
    heard_at: float | None  # first audible sample
    server_first: float | None  # server sent the first chunk of the reply
    heard_s: float  # audible span
    dropouts: int
    clicks: int
    echo_db: float | None  # echo reaching the server during the reply, dB re the speaker
    answered: bool


def envelope_on(x: np.ndarray) -> np.ndarray:
    """Per 1 ms (24 samples): is the speaker audible?"""
    n = len(x) // 24
    blocks = np.abs(x[: n * 24]).reshape(n, 24).max(axis=1)
    return blocks > HEARD


def audible(idx: np.ndarray) -> tuple[int, int]:
    """The first and last audible ms of a reply, given the audible ms (a silence of >= GAP_MS
    ends it: a later sound is another reply)."""
    gaps = np.flatnonzero(np.diff(idx) > GAP_MS)
    return int(idx[0]), int(idx[gaps[0]]) if len(gaps) else int(idx[-1])


def analyse_reply(
    spk: np.ndarray, t0: float, start: float, stop: float, log: SimLog, run: Run
) -> Reply:
    """The first reply heard in [start, stop) and what the server sent / got meanwhile."""
    a, b = max(0, int((start - t0) * 24000)), max(0, int((stop - t0) * 24000))
    seg = spk[a:b]
    on = envelope_on(seg)
    idx = np.flatnonzero(on)
    server_first = first_after(log, run.session, "audio", start)
    if not len(idx):
        return Reply(None, server_first, 0.0, 0, 0, None, False)
    first, last = audible(idx)
    inner = idx[(idx >= first) & (idx <= last)]
    dropouts = int(np.sum(np.diff(inner) > 5))  # a hole of >= 5 ms inside the reply
    y = seg[first * 24 : (last + 1) * 24].astype(np.float64)
    d2 = np.abs(np.diff(y, 2))
    clicks = int(np.sum(np.diff((d2 > 2500).astype(np.int8)) == 1))  # tones: d2 <= ~1200
    heard_at = t0 + (a + first * 24) / 24000
    heard_s = (last - first + 1) / 1000
    echo_db = None
    if run.echo:  # what the server received while the speaker was audible (40 ms later)
        seg_t0 = t0 + a / 24000
        got = []
        for t, pcm in log.heard.get(run.session, []):
            k = int((t - 0.04 - seg_t0) * 1000)
            if 0 <= k < len(on) and on[k]:
                got.append(pcm)
        spk_y = seg[: len(on) * 24].reshape(-1, 24)[on].astype(np.float64)
        spk_rms = float(np.sqrt(np.mean(spk_y**2)) + 1e-9)
        if got:
            x = np.frombuffer(b"".join(got), "<i2").astype(np.float64)
            echo_db = 20 * np.log10((np.sqrt(np.mean(x**2)) + 1e-9) / spk_rms)
        else:
            echo_db = -np.inf  # nothing was sent while the reply played
    full = heard_s >= 0.9 * turn_audible_s(log, run.session, start)
    return Reply(heard_at, server_first, heard_s, dropouts, clicks, echo_db, full)


def turn_audible_s(log: SimLog, session: int, start: float) -> float:
    """The audible span of the audio the server sent for the first turn it completed after
    ``start``: what a client that plays the reply in full lets the user hear."""
    end = first_after(log, session, "turnComplete", start) or float("inf")
    with log.lock:
        pcm = b"".join(p for t, p in log.spoken.get(session, []) if start <= t <= end)
    idx = np.flatnonzero(envelope_on(np.frombuffer(pcm, "<i2").astype(np.int32)))
    if not len(idx):
        return float("inf")  # nothing audible was sent: nothing to answer in full
    first, last = audible(idx)
    return (last - first + 1) / 1000


@dataclass
class Figures:
    latency_s: list[float]
    ear_s: list[float]
    sent_ratio: float
    cpu_pct: float
    rss_mb: float
    dropouts: int
    clicks: int
    reply_clicks: list[int]
    answered: int
    utterances: int
    self_interruptions: int
    echo_db: list[float | None]
    played_s: float  # reply audio heard on the speaker (a client that cuts itself off plays less)
    barge_cut_s: float | None
    barge_answered: bool


def analyse(run: Run, spk: np.ndarray, t0: float, log: SimLog) -> Figures:
    replies = []
    bounds = [s for s, _ in run.spans[1:]] + [run.t_end]
    for (_, end), nxt in zip(run.spans, bounds, strict=True):
        replies.append(analyse_reply(spk, t0, end, nxt, log, run))
    lat = [r.heard_at - e for r, (_, e) in zip(replies, run.spans, strict=True) if r.heard_at]
    ear = [r.heard_at - r.server_first for r in replies if r.heard_at and r.server_first]
    with log.lock:
        msgs = list(log.sent.get(run.session, []))
    setup_t = next(t for t, k in msgs if k == "setupComplete")
    sent_ratio = run.audio_in_s / max(1e-9, run.t_end - setup_t)
    interrupts = [t for t, k in msgs if k == "interrupted"]
    barge_cut, barge_answered = None, False
    if run.barge is not None:
        b0, b1 = run.barge
        interrupts_real = [t for t in interrupts if b0 <= t <= b1 + 1.5]
        interrupts = [t for t in interrupts if t not in interrupts_real]
        # the reply stops on the speaker: the first silence of >= CUT_MS after the barge-in
        # began (a tone has no pauses; speech has short ones between words)
        a = int((b0 - t0) * 24000)
        on = envelope_on(spk[a : int((b1 + 1.0 - t0) * 24000)])
        quiet = np.convolve((~on).astype(np.int32), np.ones(CUT_MS, np.int32), "valid")
        silent_from = np.flatnonzero(quiet == CUT_MS)
        if interrupts_real and len(silent_from):
            barge_cut = silent_from[0] / 1000  # s after the barge-in started
        nxt = analyse_reply(spk, t0, b1, run.t_end, log, run)
        barge_answered = nxt.answered
        replies[-1] = replies[-1]  # the interrupted reply is not counted as answered
    answered = sum(r.answered for r in (replies[:-1] if run.barge else replies))
    cpu = 100 * run.cpu_s / max(1e-9, run.t_end - run.t_start)
    return Figures(
        latency_s=lat,
        ear_s=ear,
        sent_ratio=sent_ratio,
        cpu_pct=cpu,
        rss_mb=run.peak_rss_mb,
        dropouts=sum(r.dropouts for r in replies),
        clicks=sum(r.clicks for r in replies),
        reply_clicks=[r.clicks for r in replies],
        answered=answered,
        utterances=len(replies) - (1 if run.barge else 0),
        self_interruptions=len(interrupts),
        echo_db=[r.echo_db for r in replies],
        played_s=sum(r.heard_s for r in replies),
        barge_cut_s=barge_cut,
        barge_answered=barge_answered,
    )


# ------------------------------------------------------------------ report
def med_ms(xs: list[float]) -> str:
    return f"{statistics.median(xs) * 1000:.0f} ms" if xs else "n/a"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def row(name: str, ours: str, base: str, r: str, goal: str) -> None:
    print(f"| {name} | {ours} | {base} | {r} | {goal} |")


def report(ours: Figures, base: Figures, title: str, speech: bool) -> None:
    print(f"\n### {title}\n")
    print("| figure | voicecli | baseline | ratio | goal |")
    print("|---|---|---|---|---|")
    lo = statistics.median(ours.latency_s) if ours.latency_s else float("nan")
    lb = statistics.median(base.latency_s) if base.latency_s else float("nan")
    row(
        "end of speech -> first reply sample on the speaker (median)",
        med_ms(ours.latency_s),
        med_ms(base.latency_s),
        ratio(lo, lb),
        "<= 0.6x",
    )
    row(
        "server's first reply chunk -> heard on the speaker (median)",
        med_ms(ours.ear_s),
        med_ms(base.ear_s),
        "",
        "<= 40 ms",
    )
    row(
        "audio sent / session time",
        f"{ours.sent_ratio:.2f}",
        f"{base.sent_ratio:.2f}",
        ratio(ours.sent_ratio, base.sent_ratio),
        "<= 0.5x",
    )
    row(
        "CPU during the conversation (% of a core)",
        f"{ours.cpu_pct:.1f}",
        f"{base.cpu_pct:.1f}",
        ratio(ours.cpu_pct, base.cpu_pct),
        "<= 1.0x",
    )
    row(
        "reply audio heard on the speaker (s; CPU follows it)",
        f"{ours.played_s:.1f}",
        f"{base.played_s:.1f}",
        "",
        "",
    )
    row(
        "peak RSS",
        f"{ours.rss_mb:.0f} MB",
        f"{base.rss_mb:.0f} MB",
        ratio(ours.rss_mb, base.rss_mb),
        "<= 1.3x",
    )

    def breaks(f: Figures) -> str:  # a word's own pauses and edges would count: tones only
        per = ", ".join(map(str, f.reply_clicks))
        return "n/a (speech)" if speech else f"{f.dropouts} / {f.clicks} (by reply: {per})"

    row("dropouts / clicks in replies", breaks(ours), breaks(base), "", "0 / 0")
    row(
        "utterances answered in full",
        f"{ours.answered} of {ours.utterances}",
        f"{base.answered} of {base.utterances}",
        "",
        "all",
    )
    row("self-interruptions", str(ours.self_interruptions), str(base.self_interruptions), "", "0")


def echo_detail(name: str, f: Figures) -> None:
    per = ", ".join(
        "nothing sent" if e == -np.inf else "-" if e is None else f"{e:+.0f} dB" for e in f.echo_db
    )
    print(f"  {name}: echo reaching the server per reply (re the speaker): {per}")
    if f.barge_cut_s is not None or f.barge_answered:
        cut = (
            "not cut"
            if f.barge_cut_s is None
            else f"cut {f.barge_cut_s * 1000:.0f} ms after it began"
        )
        print(
            f"  {name}: barge-in by real speech: reply {cut}; the barge-in answered: {f.barge_answered}"
        )


def make_wavs(tmp: Path, texts: list[str]) -> list[Path]:
    from voicecli.sim.voice import espeak

    out = []
    for i, text in enumerate(texts):
        pcm = asyncio.run(espeak(text, rate=48000))
        if pcm is None:
            sys.exit("espeak-ng is needed for the utterances (apt install espeak-ng)")
        x = np.frombuffer(pcm, "<i2").astype(np.float64)
        x = x / (np.max(np.abs(x)) + 1e-9) * 0.5 * 32767
        loud = np.flatnonzero(np.abs(x) > 300)  # the file ends where the speech ends
        x = x[loud[0] : loud[-1] + 1]
        path = tmp / f"u{i}.wav"
        sf.write(path, x.astype(np.int16), 48000)
        out.append(path)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--replies", type=int, default=5, help="utterances in the echo run (>= 5)")
    ap.add_argument("--skip-echo", action="store_true", help="only the run without loopback")
    ap.add_argument("--skip-clean", action="store_true", help="only the loopback run")
    ap.add_argument("--only", choices=["voicecli", "starter"], help="run one client only")
    ap.add_argument("--voicecli-args", default="", help="extra flags for voicecli talk")
    ap.add_argument("--analyse", type=Path, help="report on a saved runs.pickle again")
    ap.add_argument(
        "--cpu-pairs",
        type=int,
        default=3,
        help="runs of both clients, alternating (clean, then loopback), for the CPU and RSS "
        "ratios (median)",
    )
    ap.add_argument(
        "--voice",
        choices=["tone", "espeak"],
        default="tone",
        help="the simulator's voice; espeak (real speech, what AEC3 is made for); dropouts and "
        "clicks read tones and are not counted then",
    )
    ap.add_argument(
        "--no-words",
        action="store_true",
        help="the simulator does not transcribe the utterances (no question marks to go by)",
    )
    a = ap.parse_args()
    if a.analyse:
        with open(a.analyse, "rb") as fh:
            saved_runs, spk, t0, sent, heard, spoken, voice, *more = pickle.load(fh)
        log = SimLog(sent, heard, spoken, voice)
        show(saved_runs, spk, t0, log)
        if not clicks_check(saved_runs + (more[0] if more else []), spk, t0, log):
            sys.exit(1)
        return
    env = start_vaudio()
    tmp = Path(tempfile.mkdtemp(prefix="voicecli-bench-starter-"))
    log = SimLog(voice=a.voice)
    sim = start_sim(log, tmp, a.voice, words=not a.no_words)
    cenv = {
        **env,
        "GEMINI_API_KEY": KEY,
        "SSL_CERT_FILE": sim.env()["SSL_CERT_FILE"],
        "VOICECLI_HOME": str(tmp / "home"),
    }
    probe = Probe(env)
    wavs = make_wavs(tmp, UTTERANCES[: max(3, a.replies)] + [BARGE])
    clean, echo_wavs, barge = wavs[:3], wavs[: max(3, a.replies)], wavs[-1]
    ours_cmd = [VOICECLI, "talk", "--base-url", sim.base_url, *a.voicecli_args.split()]
    base_cmd = [PY, str(BENCH / "starter_client.py"), "--base-url", sim.base_url]
    runs: list[tuple[Run, list[str]]] = []
    for name, cmd in (("voicecli", ours_cmd), ("starter", base_cmd)):
        if (a.only and a.only != name) or a.skip_clean:
            continue
        runs.append((Run(name, False), cmd + (["--echo", "off"] if name == "voicecli" else [])))
    if not a.skip_echo:
        for name, cmd in (("voicecli", ours_cmd), ("starter", base_cmd)):
            if a.only and a.only != name:
                continue
            runs.append((Run(name, True), cmd + (["--echo", "aec"] if name == "voicecli" else [])))

    def one(run: Run, cmd: list[str]) -> None:
        if run.echo:
            vaudio(env, "loopback", "on", "40")
        try:
            run_client(
                run,
                cmd,
                cenv,
                probe,
                sim,
                log,
                echo_wavs if run.echo else clean,
                barge if run.echo else None,
            )
        finally:
            if run.echo:
                vaudio(env, "loopback", "off")

    pairs: dict[bool, list[tuple[Run, Run]]] = {False: [], True: []}
    extra: list[Run] = []  # the pairs' repeated runs
    try:
        for run, cmd in runs:
            one(run, cmd)
            print(
                f"{run.name} ({'echo' if run.echo else 'clean'}) exit {run.exit_code}",
                file=sys.stderr,
            )
        if not a.only:
            for echo in (False, True):
                both = [(r, c) for r, c in runs if r.echo == echo]
                if len(both) != 2:
                    continue
                pairs[echo].append((both[0][0], both[1][0]))
                for _ in range(a.cpu_pairs - 1):  # the same run again, for CPU and RSS
                    pair = (Run("voicecli", echo), Run("starter", echo))
                    for run, (_, cmd) in zip(pair, both, strict=True):
                        one(run, cmd)
                    pairs[echo].append(pair)
                    extra += pair
        spk, t0 = probe.stop(tmp / "speaker.npz")
    finally:
        sim.stop_thread()
        vaudio(env, "stop")
    with open(tmp / "runs.pickle", "wb") as fh:
        saved = (log.sent, log.heard, log.spoken, log.voice)
        pickle.dump(([r for r, _ in runs], spk, t0, *saved, extra), fh)
    print(f"raw data: {tmp / 'runs.pickle'} (--analyse it again)", file=sys.stderr)
    show([r for r, _ in runs], spk, t0, log)
    for echo, done in pairs.items():
        if len(done) > 1:
            cpu_pairs(done, "loopback (--echo aec)" if echo else "clean (--echo off)")
    if not clicks_check([r for r, _ in runs] + extra, spk, t0, log):
        sys.exit(1)


def clicks_check(runs: list[Run], spk: np.ndarray, t0: float, log: SimLog) -> bool:
    """Clicks on tone replies in every run (the pairs' repeats too), and the check: the
    headphones runs of voicecli have no more clicks than the baseline's, where both play
    every reply (looped into the mic, the baseline cuts itself off: those are reported)."""
    if log.voice != "tone":
        return True
    ok = True
    print("\nclicks on tone replies, run by run (by reply):")
    for echo in (False, True):
        total: dict[str, int | None] = {}
        for name in ("voicecli", "starter"):
            mine = [analyse(r, spk, t0, log) for r in runs if (r.name, r.echo) == (name, echo)]
            total[name] = sum(f.clicks for f in mine) if mine else None
            each = "; ".join(f"{f.clicks} ({', '.join(map(str, f.reply_clicks))})" for f in mine)
            print(f"  {'loopback' if echo else 'headphones'}, {name}: {each or '-'}")
        ours, base = total["voicecli"], total["starter"]
        if not echo and ours is not None and base is not None and ours > base:
            print(f"  FAILED: voicecli {ours} clicks against the baseline's {base} (headphones)")
            ok = False
    return ok


def cpu_pairs(pairs: list[tuple[Run, Run]], label: str) -> None:
    """CPU and peak RSS of one kind of run, pair by pair (the machine is shared: one pair's
    CPU ratio moves by +-10 %, the median of several alternating pairs much less)."""

    def cpu(r: Run) -> float:
        return 100 * r.cpu_s / max(1e-9, r.t_end - r.t_start)

    cpu_r = [cpu(o) / cpu(b) for o, b in pairs]
    rss_r = [o.peak_rss_mb / b.peak_rss_mb for o, b in pairs]
    print(f"\n{label} runs, {len(pairs)} alternating pairs (voicecli / starter):")
    print("  CPU %:  " + ", ".join(f"{cpu(o):.1f} / {cpu(b):.1f}" for o, b in pairs))
    print(
        f"  CPU ratio: median {statistics.median(cpu_r):.2f}x ("
        + ", ".join(f"{x:.2f}" for x in cpu_r)
        + ")"
    )
    print(
        f"  peak RSS ratio: median {statistics.median(rss_r):.2f}x ("
        + ", ".join(f"{x:.2f}" for x in rss_r)
        + ")"
    )


def show(runs: list[Run], spk: np.ndarray, t0: float, log: SimLog) -> None:
    figs = {(r.name, r.echo): analyse(r, spk, t0, log) for r in runs}
    for r in runs:
        tail = [ln for ln in r.stderr.splitlines() if ln.strip()][-3:]
        print(f"{r.name} ({'echo' if r.echo else 'clean'}) exit {r.exit_code}: " + " | ".join(tail))
    for echo in (False, True):
        ours, base = figs.get(("voicecli", echo)), figs.get(("starter", echo))
        if ours and base:
            title = (
                "speaker looped into the mic at 0 dB; voicecli --echo aec"
                if echo
                else "headphones (no echo); voicecli --echo off"
            )
            report(ours, base, title, log.voice != "tone")
        for name in ("voicecli", "starter"):
            f = figs.get((name, echo))
            if f and not (ours and base):
                print(f"\n{name} ({'echo' if echo else 'clean'}): {f}")
            if f and echo:
                echo_detail(name, f)
    print("\n(the machine is shared: CPU figures are noisy; compare the ratios of one run)")


if __name__ == "__main__":
    main()
