"""Plain output: finished lines on stdout ("you: ...", "gemini: ..."), status on stderr.

Used when stdout is not a terminal and for scripted runs; the rich live view builds on the
same events.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from typing import TextIO

from voicecli.live import events as ev
from voicecli.live.ports import OutputClosed
from voicecli.safe_text import visible
from voicecli.ui.confirm import Question
from voicecli.ui.sources import source_lines

EXCERPT_CHARS = 200  # a tool call's arguments or result, as shown (a model may send MBs)


def excerpt(value: object, limit: int = EXCERPT_CHARS) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


def _to_devnull(stream: TextIO) -> None:
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)


def _reader_gone(stream: TextIO) -> bool:
    """A pipe whose reader has exited (``| head -1``) polls as an error before any write."""
    if not hasattr(select, "poll"):
        return False
    try:
        poller = select.poll()
        poller.register(stream.fileno(), 0)  # POLLERR and POLLHUP are always reported
        return any(e & (select.POLLERR | select.POLLHUP) for _, e in poller.poll(0))
    except (OSError, ValueError, AttributeError):  # no file descriptor (tests' StringIO)
        return False


def _fmt_t(t: float) -> str:
    return f"{int(t // 60):02d}:{t % 60:04.1f}"


class PlainView:
    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, *, echo_input: bool = False
    ) -> None:
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        # keys are read one at a time (so a confirmation can take one): the line being typed
        # is drawn on ``err`` by us, below the output, and redrawn after each printed line
        self.echo_input = echo_input
        self._input: str | None = None
        self._asking = False
        self._user_start: float | None = None
        self._model_start: float | None = None
        self._held: list[str] = []
        self._sources: list[ev.Sources] = []  # the reply's grounding, printed under it
        self.closed = False  # stdout is gone: the session is being ended
        self._checked_at = 0.0

    def _clear_input(self) -> None:
        if self.echo_input and self._input is not None and not self._asking:
            self.err.write("\r\x1b[K")
            self.err.flush()

    def _draw_input(self) -> None:
        if self.echo_input and self._input is not None and not self._asking:
            self.err.write(f"› {self._input}")
            self.err.flush()

    def _print(self, text: str, stream: TextIO) -> None:
        if stream is self.out and self.closed:
            return
        try:
            self._clear_input()
            print(text, file=stream, flush=True)
            self._draw_input()
        except BrokenPipeError:  # the reader went away (`| head -1`)
            _to_devnull(stream)  # nothing more reaches it, not even at exit
            if stream is self.out:
                self.closed = True
                raise OutputClosed from None
        except ValueError:  # the stream was closed under us
            if stream is self.out:
                self.closed = True

    def set_input(self, text: str) -> None:
        """The line being typed (keys mode): echoed on ``err``."""
        self._clear_input()
        self._input = text
        self._draw_input()

    def ask(self, question: Question | None) -> None:
        """Show a confirmation question (the typed line waits), or end it (None)."""
        if question is None:
            self._asking = False
            self._draw_input()
            return
        self._clear_input()
        self._asking = True
        for line in question.lines():
            print(f"voicecli: {line}", file=self.err, flush=True)

    def status(self, text: str) -> None:
        self._print(text, self.err)

    def on_session_end(self, record: dict[str, object]) -> None:
        with contextlib.suppress(OutputClosed):  # the session is ending anyway
            for held in self._held:  # a reply that never finished: the typed lines still show
                self._print(held, self.out)
        self._held.clear()

    def _began(self, event: object, t: float) -> None:
        """Note when the utterance and the reply in progress began (their lines' stamps)."""
        if isinstance(event, ev.UserSpeechStarted | ev.InputTranscript) or (
            isinstance(event, ev.VoiceActivity) and event.kind == "start"
        ):
            if self._user_start is None:
                self._user_start = t
        elif self._model_start is None and (
            isinstance(event, ev.AudioChunk | ev.OutputTranscript)
            or (isinstance(event, ev.ModelText) and not event.thought)
        ):
            self._model_start = t

    def on_event(self, event: object, t: float) -> None:
        if not self.closed and abs(t - self._checked_at) >= 0.25:  # between lines, too
            self._checked_at = t
            if _reader_gone(self.out):
                self.closed = True
                _to_devnull(self.out)
                raise OutputClosed
        self._began(event, t)
        if isinstance(event, ev.TurnEnded):
            said_at = self._user_start if self._user_start is not None else t
            stamp = _fmt_t(self._model_start if self._model_start is not None else t)
            if event.user_text:
                self._print(f"[{_fmt_t(said_at)}] you: {event.user_text}", self.out)
                self._user_start = None
            if event.outcome == "silent":
                line = "(chose not to answer)"
            else:
                line = event.model_text or f"({event.audio_s:.1f} s of audio)"
                if event.outcome == "interrupted":
                    line += " [interrupted]"
            lat = f"  ({event.latency_s * 1000:.0f} ms)" if event.latency_s is not None else ""
            self._print(f"[{stamp}] gemini: {line}{lat}", self.out)
            for text in source_lines(self._sources):
                self._print(f"[{stamp}]   {text}", self.out)
            self._sources.clear()
            self._model_start = None
            for held in self._held:  # typed while this reply was under way: below it
                self._print(held, self.out)
            self._held.clear()
        elif isinstance(event, ev.Sources):
            self._sources.append(event)
        elif isinstance(event, ev.UserText):
            typed = f"[{_fmt_t(t)}] you (typed): {event.text}"
            if self._model_start is not None:
                self._held.append(typed)
            else:
                self._print(typed, self.out)
        elif isinstance(event, ev.ToolCall):
            for c in event.calls:
                self.status(f"  tool call {visible(c.name)}({excerpt(c.args)})")
        elif isinstance(event, ev.ToolResults):
            for r in event.results:
                self.status(f"  tool result {visible(r.name)}: {excerpt(r.response)}")
        elif isinstance(event, ev.ContextChange | ev.Continued | ev.MuteChanged | ev.Stall):
            self.status(event.text)
        elif isinstance(event, ev.Notice):
            self.status(f"{event.level}: {event.text}" if event.level != "info" else event.text)
        elif isinstance(event, ev.GoAway):
            self.status(f"server will close the connection in {event.time_left_s} s")
