"""The rich live view: the conversation as it happens, tool calls, and a status line.

Finished things (your line, the model's line with its marks, finished tool calls, notices)
are printed once and scroll up like ordinary terminal output. Below them, a small live
region is redrawn: the partial transcripts of the turn in progress (updated in place),
running tool calls with a spinner, the status line (state, mic meter, latency, session time,
time left, tokens) and, when typing is on, the prompt line.

Cost: ``on_event`` only updates state and bumps a version counter (an audio chunk touches a
few counters); a ticker thread redraws at most ``refresh_hz`` times a second, and only when
something visible changed (or the clock's second, the mic meter or a spinner moved).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console, Group, RenderableType
from rich.control import Control
from rich.live import Live
from rich.panel import Panel
from rich.segment import ControlType, Segment
from rich.spinner import Spinner
from rich.text import Text

from voicecli.live import events as ev
from voicecli.live.stats import SessionStats
from voicecli.safe_text import visible
from voicecli.ui.confirm import Question
from voicecli.ui.sources import source_lines
from voicecli.ui.status import SessionStatus, clock, ms
from voicecli.ui.status_line import METER_STEPS, status_line

ARGS_CHARS = 160


@dataclass
class ToolEntry:
    id: str
    name: str
    args: dict[str, Any]
    started: float
    ended: float | None = None
    response: dict[str, Any] | None = None
    cancelled: bool = False


def _stamp(t: float) -> Text:
    return Text(f"{clock(t)} ", style="dim")


def _short(value: Any, limit: int = ARGS_CHARS) -> str:
    text = visible(json.dumps(value, ensure_ascii=False, default=str, separators=(", ", ": ")))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tail(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else "…" + text[-limit + 1 :]


def _reconnect_text(event: ev.Reconnect) -> tuple[str, str]:
    why = f": {event.reason}" if event.reason else ""
    if event.phase == "reconnecting":
        attempt = f" (attempt {event.attempt})" if event.attempt else ""
        return f"· reconnecting{why}{attempt}", "yellow"
    if event.phase == "resumed":
        return "· reconnected, conversation resumed", "green"
    if event.seeded:
        return f"· reconnected as a new session, {event.seeded} earlier turns seeded{why}", "yellow"
    return f"· reconnected as a new session: earlier context is lost{why}", "yellow"


def question_panel(question: Question) -> RenderableType:
    """The confirmation being asked: the tool, the exact argv, the keys and the time left."""
    what, argv, allow = question.lines()
    return Panel(
        Group(Text(what), Text(argv, style="bold"), Text(allow, style="bold yellow")),
        title=Text("confirm", style="bold yellow"),
        title_align="left",
        box=box.ROUNDED,
        border_style="yellow",
        expand=False,
        padding=(0, 1),
    )


def tool_panel(entry: ToolEntry, now: float, asking: bool = False) -> RenderableType:
    """A compact panel for one tool call: running (spinner), done, failed or cancelled."""
    args = Text.assemble(("args ", "dim"), _short(entry.args))
    if asking and entry.ended is None and not entry.cancelled:
        body: RenderableType = Group(args, Text("waiting for your answer", style="yellow"))
        style, note = "yellow", "confirm"
    elif entry.cancelled:
        body = Group(args, Text("cancelled by the server", style="yellow"))
        style, note = "yellow", "cancelled"
    elif entry.ended is None:
        waited = f"running {max(0.0, now - entry.started):.1f} s"
        body = Group(args, Spinner("dots", text=Text(waited, style="dim"), style="cyan"))
        style, note = "cyan", "running"
    else:
        resp = entry.response or {}
        took = ms(entry.ended - entry.started)
        if "error" in resp:
            body = Group(args, Text.assemble(("error ", "bold red"), _short(resp["error"])))
            style, note = "red", f"failed in {took}"
        else:
            result = resp.get("result", resp) if len(resp) == 1 else resp
            body = Group(args, Text.assemble(("result ", "dim"), _short(result)))
            style, note = "green", took
    return Panel(
        body,
        title=Text(f"⚙ {visible(entry.name)}", style="bold"),
        title_align="left",
        subtitle=Text(note, style="dim"),
        subtitle_align="right",
        box=box.ROUNDED,
        border_style=style,
        expand=False,
        padding=(0, 1),
    )


class LiveView:
    """Observer drawing the conversation on a rich Console (``with view:`` while talking)."""

    echo_input = True  # typed keys are read one at a time and drawn in the prompt line

    def __init__(
        self,
        console: Console | None = None,
        *,
        connection_limit_s: float | None = None,
        refresh_hz: float = 8.0,
        clock_fn: Callable[[], float] = time.monotonic,
        err_console: Console | None = None,
    ) -> None:
        self.console = console or Console()
        self.err_console = err_console or Console(stderr=True)
        self.session = SessionStatus(connection_limit_s=connection_limit_s)
        self.refresh_s = 1.0 / refresh_hz
        self.renders = 0
        self._clock = clock_fn
        self._lock = threading.Lock()
        self._version = 0
        self._drawn: tuple[Any, ...] | None = None
        self._pending: list[RenderableType] = []  # finished items, printed once
        self._user = ""  # partial transcripts of the turn in progress
        self._model = ""
        self._user_start: float | None = None  # when the utterance in progress began
        self._model_start: float | None = None  # when the reply in progress began
        self._held: list[RenderableType] = []  # typed lines that came during a reply
        self._sources: list[ev.Sources] = []  # the reply's grounding, shown under it
        self._tools: dict[str, ToolEntry] = {}  # running tool calls by id
        self._input: str | None = None  # the prompt line, when typing is on
        self._question: Question | None = None  # a confirmation being asked
        self._drawn_rows: list[int] = []  # cell width of each row of the last live region
        self._drawn_width = 0
        self._t0: float | None = None  # clock value at session time 0
        self._live: Live | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.native_underruns = 0  # ALSA's "underrun occurred" lines, counted (stderr_capture)
        self.show_underruns = False  # --debug: each one shown too

    # ------------------------------------------------------------------------ feeding
    def on_event(self, event: object, t: float) -> None:
        with self._lock:
            if self._t0 is None:
                self._t0 = self._clock() - t
            before = self.session.shown_state
            latency = self.session.on_event(event, t)
            if isinstance(event, ev.AudioChunk):  # hot path: redraw only on a visible change
                if self._model_start is None:
                    self._model_start = t
                if latency is not None or self.session.shown_state != before:
                    self._version += 1
                return
            self._apply(event, t)
            self._version += 1

    def _apply(self, event: object, t: float) -> None:
        if isinstance(event, ev.InputTranscript):
            if self._user_start is None:
                self._user_start = t
            self._user += event.text
        elif isinstance(event, ev.UserSpeechStarted) or (
            isinstance(event, ev.VoiceActivity) and event.kind == "start"
        ):
            if self._user_start is None:
                self._user_start = t
        elif isinstance(event, ev.OutputTranscript) or (
            isinstance(event, ev.ModelText) and not event.thought
        ):
            if self._model_start is None:
                self._model_start = t
            self._model += event.text
        elif isinstance(event, ev.TurnEnded):
            self._commit_turn(event, t)
        elif isinstance(event, ev.UserText):
            line = Text.assemble(_stamp(t), ("you (typed): ", "bold cyan"), event.text)
            # typed during a reply: printed below the line it interrupts, once that ends
            (self._held if self._model_start is not None else self._pending).append(line)
        elif isinstance(event, ev.ToolCall):
            for c in event.calls:
                self._tools[c.id] = ToolEntry(c.id, c.name, dict(c.args), started=t)
        elif isinstance(event, ev.ToolResults):
            for r in event.results:
                entry = self._tools.pop(r.id, None) or ToolEntry(r.id, r.name, {}, started=t)
                entry.ended, entry.response = t, r.response
                self._pending.append(tool_panel(entry, t))
        elif isinstance(event, ev.ToolCallCancellation):
            for call_id in event.ids:
                cancelled = self._tools.pop(call_id, None)
                if cancelled is not None:
                    cancelled.cancelled = True
                    self._pending.append(tool_panel(cancelled, t))
        elif isinstance(event, ev.ContextChange | ev.Continued):
            self._pending.append(Text.assemble(_stamp(t), (f"· {event.text}", "cyan")))
        elif isinstance(event, ev.MuteChanged):
            self._pending.append(Text.assemble(_stamp(t), (f"· {event.text}", "dim")))
        elif isinstance(event, ev.Notice):
            style = {"warning": "yellow", "error": "bold red"}.get(event.level, "dim")
            self._pending.append(Text.assemble(_stamp(t), (f"· {event.text}", style)))
        elif isinstance(event, ev.Reconnect):
            self._pending.append(Text.assemble(_stamp(t), _reconnect_text(event)))
        elif isinstance(event, ev.Sources):
            self._sources.append(event)  # shown under the reply (``_commit_turn``)
        elif isinstance(event, ev.Stall):
            style = "green" if event.action == "recovered" else "yellow"
            self._pending.append(Text.assemble(_stamp(t), (f"· {event.text}", style)))
        elif isinstance(event, ev.GoAway) and event.time_left_s is not None:
            text = f"· the server will close the connection in {event.time_left_s:.0f} s"
            self._pending.append(Text.assemble(_stamp(t), (text, "yellow")))

    def _commit_turn(self, turn: ev.TurnEnded, t: float) -> None:
        """The turn's lines, each stamped with the time it began (the utterance's start,
        the reply's first sound), then any line typed while the reply was under way."""
        if turn.user_text:  # else a partial, if any, is already the next utterance's
            said_at = self._user_start if self._user_start is not None else t
            self._pending.append(
                Text.assemble(_stamp(said_at), ("you: ", "bold cyan"), turn.user_text)
            )
            self._user = ""
            self._user_start = None
        replied_at = self._model_start if self._model_start is not None else t
        line = Text.assemble(_stamp(replied_at), ("gemini: ", "bold magenta"))
        if turn.outcome == "silent":
            line.append("… chose not to answer", style="dim italic")
        else:
            said = turn.model_text or self._model.strip()
            line.append(said or f"({turn.audio_s:.1f} s of audio)")
            if turn.outcome == "interrupted":
                cut = "cut off" if turn.reason == "stopped" else "interrupted"
                line.append(f"  ✂ {cut}", style="bold yellow")
        if turn.latency_s is not None:
            line.append(f"  {ms(turn.latency_s)}", style="dim")
        self._pending.append(line)
        for text in source_lines(self._sources):
            self._pending.append(Text.assemble(_stamp(replied_at), (f"  {text}", "dim")))
        self._sources.clear()
        self._model = ""
        self._model_start = None
        self._pending.extend(self._held)
        self._held.clear()

    def attach_stats(self, stats: SessionStats) -> None:
        """Show the conversation's counts (one set of counts: the conversation's)."""
        self.session.attach(stats)

    def set_level(self, dbfs: float) -> None:
        """The mic level (dBFS) for the meter; cheap, callable from the audio side."""
        self.session.set_level(dbfs)

    def set_input(self, text: str) -> None:
        """The line being typed (the prompt calls this on every key)."""
        with self._lock:
            self._input = text
            self._version += 1
        self._wake.set()

    def ask(self, question: Question | None) -> None:
        """Show a confirmation question in place of the prompt line, or end it (None)."""
        with self._lock:
            self._question = question
            self._version += 1
        self._wake.set()

    def status(self, text: str) -> None:
        """A status message outside the conversation (startup, summary)."""
        with self._lock:
            if self._live is not None:
                self._pending.append(Text(text, style="dim"))
                self._version += 1
                return
        self.err_console.print(text, style="dim", highlight=False)

    def native_line(self, line: str) -> None:
        """A line a library wrote to stderr while the view owned the terminal: ALSA's
        underruns counted, anything else a dim notice (``ui.stderr_capture``)."""
        from voicecli.ui.stderr_capture import is_underrun

        with self._lock:
            if is_underrun(line):
                self.native_underruns += 1
                if not self.show_underruns:
                    return
            self._pending.append(Text.assemble(_stamp(self.now()), (f"· stderr: {line}", "dim")))
            self._version += 1
        self._wake.set()

    # ------------------------------------------------------------------------ drawing
    def now(self) -> float:
        return 0.0 if self._t0 is None else self._clock() - self._t0

    def render(self, now: float | None = None) -> RenderableType:
        """The live region (partials, running tools, status line, prompt)."""
        with self._lock:
            return self._render_locked(self.now() if now is None else now)

    def _render_locked(self, now: float) -> RenderableType:
        width = max(20, self.console.width)
        parts: list[RenderableType] = []
        if self._user.strip():
            parts.append(
                Text.assemble(("you: ", "bold cyan"), _tail(self._user, width * 2), ("…", "dim"))
            )
        if self._model.strip():
            parts.append(Text.assemble(("gemini: ", "bold magenta"), _tail(self._model, width * 2)))
        asking = self._question
        parts.extend(
            tool_panel(e, now, asking is not None and e.name == asking.tool)
            for e in self._tools.values()
        )
        parts.append(self.status_line(now))
        if asking is not None:  # the question owns the keyboard; the typed line waits
            parts.append(question_panel(asking))
        elif self._input is not None:
            parts.append(Text.assemble(("› ", "bold"), self._input, ("▏", "bold")))
        return Group(*parts)

    def status_line(self, now: float) -> Text:
        return status_line(self.session, now, self.console.width)

    def tick(self, now: float | None = None) -> bool:
        """Print finished items and redraw if anything visible changed; True when drawn."""
        with self._lock:
            now = self.now() if now is None else now
            key = (self._version, int(now), self.session.level_bucket(METER_STEPS))
            if key == self._drawn and not self._tools:
                return False
            self._drawn = key
            pending, self._pending = self._pending, []
            renderable = self._render_locked(now)
        if self._live is not None:
            self._forget_reflowed_region()
        for item in pending:
            self.console.print(item, highlight=False)
        if self._live is not None:
            self._live.update(renderable, refresh=True)
            self._remember_region(renderable)
        self.renders += 1
        return True

    def _remember_region(self, renderable: RenderableType) -> None:
        """The width of each row just drawn, to know what a narrower window made of them."""
        lines = self.console.render_lines(renderable, self.console.options, pad=False)
        self._drawn_rows = [Segment.get_line_length(line) for line in lines]
        self._drawn_width = self.console.width

    def _forget_reflowed_region(self) -> None:
        """After the window got narrower, a terminal that re-wraps old rows (tmux, VTE) shows
        the last region on more rows than rich counts: erase all of them, so no stale line
        stays behind, and let rich draw afresh."""
        width = self.console.width
        if not self._drawn_rows or width >= self._drawn_width or self._live is None:
            if width != self._drawn_width:
                self._drawn_width = width
            return
        rows = sum(max(1, -(-n // width)) for n in self._drawn_rows)
        moves: list[Any] = [(ControlType.CARRIAGE_RETURN,), (ControlType.ERASE_IN_LINE, 2)]
        moves += [(ControlType.CURSOR_UP, 1), (ControlType.ERASE_IN_LINE, 2)] * (rows - 1)
        render = getattr(self._live, "_live_render", None)
        if render is not None:
            render._shape = None  # nothing left for rich to move over
        self.console.control(Control(*moves))
        self._drawn_rows, self._drawn_width = [], width

    # ------------------------------------------------------------------------ lifecycle
    def start(self, *, ticker: bool = True) -> LiveView:
        """Take over the terminal; ``ticker=False``: the caller calls ``tick`` (benchmarks)."""
        live = Live(console=self.console, auto_refresh=False, transient=True)
        live.start()
        with self._lock:
            self._live = live
        self._stop.clear()
        if ticker:
            self._thread = threading.Thread(target=self._run, name="voicecli-view", daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.refresh_s)  # a key press wakes it early: typing feels direct
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                self.tick()
            except Exception:  # drawing must never take the session down
                continue

    def stop(self) -> None:
        with self._lock:
            self._pending.extend(self._held)
            self._held.clear()
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(2.0)
            self._thread = None
        self.tick()
        with self._lock:
            live, self._live = self._live, None
        if live is not None:
            live.stop()

    def __enter__(self) -> LiveView:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
