"""Benchmark the terminal UI: CPU cost per minute of conversation.

    python bench/bench_ui.py

A scripted minute of conversation (6 exchanges: 4 s of the user speaking with partial
transcripts, then a 6 s reply as 10 ms audio chunks (3000 a minute: 50 chunks/s on average)
with partial transcripts every 300 ms, a tool call every other turn, usage per turn) plus the mic meter updated every
20 ms, is fed to:

1. the live view as it runs: events update state; a redraw at most 8 times a second and only
   when something visible changed (simulated time, ``tick`` called at 8 Hz);
2. a naive baseline: the same view redrawn after every event;
3. the JSON-lines view (``--json``) for reference.

Rendering goes to a null terminal console (100x30, truecolor), so the rich layout and ANSI
output are done for real and only the terminal write is free. CPU is ``time.process_time``.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from voicecli.live import events as ev  # noqa: E402
from voicecli.ui.jsonl import JsonLinesView  # noqa: E402
from voicecli.ui.live_view import LiveView  # noqa: E402

MINUTE = 60.0
TICK_S = 1 / 8
REPEATS = 5
CHUNK = bytes(480)  # 10 ms of 24 kHz PCM16: 100 chunks/s while the model speaks

Item = tuple[float, object]  # (session time, event) ; event None = a mic level update


def conversation_minute() -> list[Item]:
    items: list[Item] = []
    t, turn = 0.0, 0
    words = [
        "well",
        "I",
        "was",
        "wondering",
        "whether",
        "you",
        "could",
        "tell",
        "me",
        "something",
        "about",
        "cats",
    ]
    while t < MINUTE - 10:
        turn += 1
        items.append((t, ev.UserSpeechStarted()))
        for i in range(13):  # user partials every 300 ms for 4 s
            items.append((t + 0.3 * i, ev.InputTranscript(words[i % len(words)] + " ")))
        t += 4.0
        items.append((t, ev.UserSpeechEnded()))
        t += 0.4
        if turn % 2 == 0:
            call = ev.FunctionCall(f"c{turn}", "get_weather", {"city": "Oslo"})
            items.append((t, ev.ToolCall((call,))))
            items.append((t + 0.2, ev.ToolResults((ev.FunctionResult(call.id, call.name, {"result": {"temp_c": 4}}),))))  # fmt: skip
            t += 0.2
        reply_t = t
        for i in range(600):  # 6 s of reply audio in 10 ms chunks
            items.append((reply_t + i * 0.01, ev.AudioChunk(CHUNK)))
            if i % 30 == 0:
                items.append((reply_t + i * 0.01, ev.OutputTranscript(words[i // 30 % 12] + " ")))
        t = reply_t + 6.0
        items.append((t, ev.TurnEnded(turn, "spoken", "user words", "model words", 6.0, 0.4)))
        items.append((t, ev.Usage(100, 200, 300)))
        t += 0.2
    for i in range(int(MINUTE / 0.02)):  # the mic meter, every 20 ms all minute long
        items.append((i * 0.02, None))
    items.sort(key=lambda it: it[0])
    return items


def null_console() -> Console:
    return Console(
        file=open(os.devnull, "w"),  # noqa: SIM115
        force_terminal=True,
        width=100,
        height=30,
        color_system="truecolor",
    )


def level(i: int) -> float:
    return -60.0 + (i * 7 % 50)


def run_view(items: list[Item], naive: bool) -> tuple[float, int]:
    """CPU seconds to show the minute; the number of redraws."""
    view = LiveView(null_console(), connection_limit_s=600.0, clock_fn=lambda: 0.0)
    view.start(ticker=False)
    next_tick = 0.0
    cpu0 = time.process_time()
    for i, (t, event) in enumerate(items):
        if event is None:
            view.set_level(level(i))
        else:
            view.on_event(event, t)
            if naive:
                view._drawn = None  # force: redraw after every event
                view.tick(t)
        if not naive and t >= next_tick:
            view.tick(t)
            next_tick += TICK_S
    cpu = time.process_time() - cpu0
    renders = view.renders
    view.stop()
    return cpu, renders


def run_json(items: list[Item]) -> float:
    view = JsonLinesView(io.StringIO(), io.StringIO())
    cpu0 = time.process_time()
    for t, event in items:
        if event is not None:
            view.on_event(event, t)
    return time.process_time() - cpu0


def best(fn: Callable[[], float]) -> float:
    return statistics.median(fn() for _ in range(REPEATS))


def main() -> None:
    items = conversation_minute()
    n_events = sum(1 for _, e in items if e is not None)
    n_audio = sum(1 for _, e in items if isinstance(e, ev.AudioChunk))
    print(f"one minute: {n_events} events ({n_audio} audio chunks), {len(items) - n_events} "
          "mic level updates")  # fmt: skip
    ours = [run_view(items, naive=False) for _ in range(REPEATS)]
    naive = [run_view(items, naive=True) for _ in range(REPEATS)]
    cpu = statistics.median(c for c, _ in ours)
    naive_cpu = statistics.median(c for c, _ in naive)
    json_cpu = best(lambda: run_json(items))
    rows = [
        ("live view (8 Hz, on change)", cpu, ours[0][1]),
        ("naive: redraw every event", naive_cpu, naive[0][1]),
        ("--json lines (reference)", json_cpu, 0),
    ]
    print(f"{'':30} {'CPU s/min':>10} {'% of a core':>12} {'redraws':>8}")
    for name, c, r in rows:
        print(f"{name:30} {c:>10.3f} {c / MINUTE * 100:>11.2f}% {r:>8}")
    print(f"live view is {naive_cpu / cpu:.0f}x cheaper than the naive baseline; "
          f"goal < 1% of a core: {'met' if cpu / MINUTE < 0.01 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
