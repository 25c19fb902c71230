"""Benchmark ``talk --continue``: time to the first audio sent, for a 200-turn session.

    python bench/bench_continue.py [--repeats 5] [--turns 200]

The simulator runs in separate processes (so CPU time measured here is the client's alone):
one honours resumption handles, one refuses them all. The history holds one stored session
of ``--turns`` turns (about 150 characters each side) whose handle the first simulator
issued. Measured in the same run, modes interleaved, from the start of the command's work
(settings, history, plan, connect) to the first ``realtimeInput`` audio handed to the SDK:

* ``new``: a plain ``talk`` (no history read): the cost of connecting at all;
* ``resumed``: ``--continue`` with a handle the server takes;
* ``seeded``: ``--continue`` with the handle refused: a second connection, the newest turns
  within ``continue_budget_tokens`` (8000) sent as initial history;
* ``naive seed``: the baseline: every stored row read back (``HistoryStore.session``) and
  the whole conversation seeded, no budget.

Wall time includes the simulator's answers (TLS handshakes, the refusal); client CPU time
(``time.process_time`` of this process, all its threads) is the client-side work the goal
(< 1 s) is about.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_talk import start_sim  # noqa: E402

from voicecli import continuation  # noqa: E402
from voicecli.audio import synth  # noqa: E402
from voicecli.config import Settings  # noqa: E402
from voicecli.history import HistoryStore, session_meta  # noqa: E402
from voicecli.live import events as ev  # noqa: E402
from voicecli.live.messages import AudioIn  # noqa: E402
from voicecli.live.resilient import ResilientTransport  # noqa: E402
from voicecli.session.engine import TalkRequest, run_talk  # noqa: E402

SCENARIO = 'voice = "tone"\nlatency_ms = 0\nrealtime = 0\ndefault_reply = "ok"\n'


class FirstAudio(Exception):
    """Raised after the first audio is sent: the run stops there (nothing more to measure)."""


def instrument() -> dict[str, float]:
    mark: dict[str, float] = {}
    original = ResilientTransport.send

    async def send(self: ResilientTransport, msg: Any) -> None:
        await original(self, msg)
        if isinstance(msg, AudioIn) and "wall" not in mark:
            mark["wall"], mark["cpu"] = time.perf_counter(), time.process_time()
            raise FirstAudio

    ResilientTransport.send = send  # type: ignore[method-assign]
    return mark


def fill_history(db: Path, turns: int, handle: str) -> int:
    store = HistoryStore(db)
    sid = store.new_session(session_meta(Settings(), "bench", "in.wav"), time.time())
    words = "and then we talked about the weather, the trains and what to cook tonight"
    with store.transaction():
        for i in range(turns):
            t = 3.0 * i
            store.apply(sid, ev.TurnEnded(i + 1, "spoken", f"question {i}: {words}, right?",
                                          f"answer {i}: {words}; {words}.", 2.0, 0.3), t)  # fmt: skip
            store.apply(sid, ev.Usage(100, 50, 150, prompt_audio=90, prompt_text=10), t)
        store.apply(sid, ev.ResumptionUpdate(handle, True), 3.0 * turns)
    store.end_session(sid, {"duration_s": 3.0 * turns})
    store.close()
    return sid


def naive_plan(db: Path, settings: Settings) -> continuation.Plan:
    store = HistoryStore(db)
    try:
        row = continuation.pick_session(store, None)
        data = store.session(row["id"])  # every table, every row
        seed = []
        for turn in data["turns"]:
            seed += [continuation.SeedTurn("user", turn["user_text"])]
            seed += [continuation.SeedTurn("model", turn["model_text"])]
        return continuation.Plan(row["id"], row["id"], None, seed)
    finally:
        store.close()


async def one(mode: str, settings: Settings, db: Path, wav: Path, mark: dict[str, float]) -> Any:
    mark.clear()
    w0, c0 = time.perf_counter(), time.process_time()
    plan = None
    if mode in ("resumed", "seeded"):
        store = HistoryStore(db)
        try:
            plan = continuation.plan(store, None, settings)
        finally:
            store.close()
    elif mode == "naive seed":
        plan = naive_plan(db, settings)
    req = TalkRequest(input=wav, fast=True, continuation=plan)
    try:
        await run_talk(settings, req)
    except* FirstAudio:
        pass
    return mark["wall"] - w0, mark["cpu"] - c0, len(plan.seed) if plan else 0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--turns", type=int, default=200)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-continue-"))
    (tmp / "a").mkdir()
    (tmp / "b").mkdir()
    honour, env_a = start_sim(tmp / "a", SCENARIO)
    refuse, env_b = start_sim(tmp / "b", SCENARIO + "honour_resumption = false\n")
    try:
        wav = tmp / "in.wav"
        synth.make_utterances_wav(wav, [(1.0, 0.5)], rate=16000)

        def settings(env: dict[str, str]) -> Settings:
            return Settings(base_url=env["GOOGLE_GEMINI_BASE_URL"], ca_file=env["SSL_CERT_FILE"],
                            api_key="bench-key", history=False, tools_enabled=False)  # fmt: skip

        # a real handle from the honouring simulator, for the stored session
        handles: list[str] = []

        class Keep:
            def on_event(self, event: object, t: float) -> None:
                if isinstance(event, ev.ResumptionUpdate) and event.handle:
                    handles.append(event.handle)

        asyncio.run(
            run_talk(settings(env_a), TalkRequest(input=wav, fast=True, observers=[Keep()]))
        )
        db = tmp / "history.sqlite3"
        fill_history(db, args.turns, handles[-1])
        mark = instrument()
        modes = {"new": env_a, "resumed": env_a, "seeded": env_b, "naive seed": env_b}
        results: dict[str, list[tuple[float, float, int]]] = {m: [] for m in modes}
        for _ in range(args.repeats):
            for mode, env in modes.items():
                results[mode].append(asyncio.run(one(mode, settings(env), db, wav, mark)))
    finally:
        honour.terminate()
        refuse.terminate()
    print(f"talk --continue, {args.turns}-turn session, median of {args.repeats}:")
    base = statistics.median(c for _, c, _ in results["naive seed"])
    for mode, rows in results.items():
        wall = statistics.median(w for w, _, _ in rows) * 1000
        cpu = statistics.median(c for _, c, _ in rows) * 1000
        seeded = rows[0][2]
        ratio = f", {cpu / (base * 1000):.2f}x naive" if mode != "naive seed" else ""
        print(f"  {mode:<11} first audio sent after {wall:6.0f} ms wall, "
              f"{cpu:5.0f} ms client CPU{ratio}; {seeded} turns seeded")  # fmt: skip


if __name__ == "__main__":
    main()
