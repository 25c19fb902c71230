"""Plain output: finished lines on stdout ("you: ...", "gemini: ..."), status on stderr.

Used when stdout is not a terminal and for scripted runs; the rich live view builds on the
same events.
"""

from __future__ import annotations

import sys
from typing import TextIO

from voicecli.live import events as ev

EXCERPT_CHARS = 200  # a tool call's arguments or result, as shown (a model may send MBs)


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _fmt_t(t: float) -> str:
    return f"{int(t // 60):02d}:{t % 60:04.1f}"


class PlainView:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    def status(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def on_event(self, event: object, t: float) -> None:
        if isinstance(event, ev.TurnEnded):
            stamp = _fmt_t(t)
            if event.user_text:
                print(f"[{stamp}] you: {event.user_text}", file=self.out, flush=True)
            if event.outcome == "silent":
                line = "(chose not to answer)"
            else:
                line = event.model_text or f"({event.audio_s:.1f} s of audio)"
                if event.outcome == "interrupted":
                    line += " [interrupted]"
            lat = f"  ({event.latency_s * 1000:.0f} ms)" if event.latency_s is not None else ""
            print(f"[{stamp}] gemini: {line}{lat}", file=self.out, flush=True)
        elif isinstance(event, ev.UserText):
            print(f"[{_fmt_t(t)}] you (typed): {event.text}", file=self.out, flush=True)
        elif isinstance(event, ev.ToolCall):
            for c in event.calls:
                self.status(f"  tool call {c.name}({excerpt(c.args)})")
        elif isinstance(event, ev.ToolResults):
            for r in event.results:
                self.status(f"  tool result {r.name}: {excerpt(r.response)}")
        elif isinstance(event, ev.ContextChange | ev.Continued | ev.MuteChanged):
            self.status(event.text)
        elif isinstance(event, ev.Notice):
            self.status(f"{event.level}: {event.text}" if event.level != "info" else event.text)
        elif isinstance(event, ev.GoAway):
            self.status(f"server will close the connection in {event.time_left_s} s")
