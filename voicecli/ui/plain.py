"""Plain output: the conversation on stdout ("you: ...", "gemini: ...", tool calls and
their results), status on stderr.

Used when stdout is not a terminal and for scripted runs; the rich live view builds on the
same events. Lines come as the conversation goes: your line once the model starts to
answer (or calls a tool), the model's words as they arrive, its marks and latency when the
turn ends; a tool call in between ends the model's line and the next words start a new one.
"""

from __future__ import annotations

import contextlib
import json
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


def call_text(name: str, args: dict[str, object]) -> str:
    """``calculate(expression="2+2")``: a call as a person reads it."""
    shown = ", ".join(
        f"{k}={json.dumps(v, ensure_ascii=False, default=str)}" for k, v in args.items()
    )
    return f"{visible(name)}({excerpt(visible(shown))})"


def result_text(response: object) -> str:
    """A tool's result as JSON text, shortened."""
    try:
        text = json.dumps(response, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = str(response)
    return excerpt(visible(text))


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
        self._next_user_start: float | None = None  # an utterance begun during a reply
        self._model_start: float | None = None
        self._held: list[str] = []
        self._heard = ""  # your words so far in this turn (input transcripts)
        self._heard_shown = False  # your line is printed already
        self._open = False  # the model's line is being written (no newline yet)
        self._streamed = False  # some of the model's words of this turn are printed
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
        self._clear_input()
        if stream is self.out:
            self._end_model_line()
        self._write(text + "\n", stream)
        self._draw_input()

    def _write(self, text: str, stream: TextIO) -> None:
        """Write and flush; a reader that went away (``| head -1``) ends the session quietly."""
        if stream is self.out and self.closed:
            return
        try:
            stream.write(text)
            stream.flush()
        except BrokenPipeError:  # the reader went away
            _to_devnull(stream)  # nothing more reaches it, not even at exit
            if stream is self.out:
                self.closed = True
                raise OutputClosed from None
        except ValueError:  # the stream was closed under us
            if stream is self.out:
                self.closed = True

    def _end_model_line(self, tail: str = "") -> None:
        if self._open:
            self._open = False
            self._write(tail + "\n", self.out)

    def _say_heard(self, t: float) -> None:
        """Your line, once the model answers or calls a tool (the words are in by then)."""
        if self._heard.strip() and not self._heard_shown:
            said_at = self._user_start if self._user_start is not None else t
            self._print(f"[{_fmt_t(said_at)}] you: {self._heard.strip()}", self.out)
            self._heard_shown = True

    def _model_words(self, text: str, t: float) -> None:
        self._say_heard(t)
        if not self._open:
            self._clear_input()
            start = self._model_start if self._model_start is not None else t
            stamp = _fmt_t(start if not self._streamed else t)
            self._open = self._streamed = True
            self._write(f"[{stamp}] gemini: ", self.out)
            self._draw_input()
        self._clear_input()
        self._write(text, self.out)
        self._draw_input()

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
            self._end_model_line(" [cut off]")  # a reply the session's end cut short
            for held in self._held:  # a reply that never finished: the typed lines still show
                self._print(held, self.out)
        self._held.clear()

    def _began(self, event: object, t: float) -> None:
        """Note when the utterance and the reply in progress began (their lines' stamps)."""
        starts = isinstance(event, ev.UserSpeechStarted) or (
            isinstance(event, ev.VoiceActivity) and event.kind == "start"
        )
        if starts and self._model_start is not None and self._user_start is not None:
            self._next_user_start = t  # a barge-in: the next turn's utterance begins
        elif starts or isinstance(event, ev.InputTranscript):
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
        if isinstance(event, ev.InputTranscript):
            self._heard += event.text
        elif isinstance(event, ev.OutputTranscript) or (
            isinstance(event, ev.ModelText) and not event.thought
        ):
            if event.text:
                self._model_words(event.text, t)
        elif isinstance(event, ev.TurnEnded):
            said_at = self._user_start if self._user_start is not None else t
            stamp = _fmt_t(self._model_start if self._model_start is not None else t)
            if event.user_text and not self._heard_shown:
                self._print(f"[{_fmt_t(said_at)}] you: {event.user_text}", self.out)
            self._user_start, self._next_user_start = self._next_user_start, None
            self._heard, self._heard_shown = "", False
            mark = ""
            if event.outcome == "interrupted":
                mark = " [cut off]" if event.reason == "stopped" else " [interrupted]"
            lat = f"  ({event.latency_s * 1000:.0f} ms)" if event.latency_s is not None else ""
            if self._open:
                self._end_model_line(f"{mark}{lat}")
            elif not self._streamed or mark:
                if event.outcome == "silent":
                    line = "(chose not to answer)"
                elif self._streamed:
                    line = mark.strip()
                else:
                    line = (event.model_text or f"({event.audio_s:.1f} s of audio)") + mark
                self._print(f"[{stamp}] gemini: {line}{lat}", self.out)
            for text in source_lines(self._sources):
                self._print(f"[{stamp}]   {text}", self.out)
            self._sources.clear()
            self._model_start = None
            self._streamed = False
            for held in self._held:  # typed while this reply was under way: below it
                self._print(held, self.out)
            self._held.clear()
        elif isinstance(event, ev.UserText):
            typed = f"[{_fmt_t(t)}] you (typed): {event.text}"
            if self._model_start is not None:
                self._held.append(typed)
            else:
                self._print(typed, self.out)
        elif isinstance(event, ev.ToolCall):
            self._say_heard(t)
            for c in event.calls:
                self._print(f"[{_fmt_t(t)}] tool call {call_text(c.name, dict(c.args))}", self.out)
        elif isinstance(event, ev.ToolResults):
            for r in event.results:
                self._print(
                    f"[{_fmt_t(t)}] tool result {visible(r.name)}: {result_text(r.response)}",
                    self.out,
                )
        elif isinstance(event, ev.Sources):
            self._sources.append(event)
        elif isinstance(event, ev.ContextChange | ev.Continued | ev.MuteChanged | ev.Stall):
            self.status(event.text)
        elif isinstance(event, ev.Notice):
            self.status(f"{event.level}: {event.text}" if event.level != "info" else event.text)
        elif isinstance(event, ev.GoAway):
            self.status(f"server will close the connection in {event.time_left_s} s")
