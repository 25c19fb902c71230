"""What ``voicecli talk`` shows and reads: the view and typed input.

* ``--json``: JSON lines on stdout (``ui.jsonl``), status on stderr;
* stdout is a terminal: the rich live view (``ui.live_view``);
* otherwise: plain lines (``ui.plain``).

Only the view in use is imported (rich alone is a few MB of a session's memory); the rest of
this module asks the view what it can do (a level meter, session counts, a typed line)
rather than which class it is.

Typed input is always on: keys in the live view's prompt line when stdin is a terminal too,
otherwise lines from stdin (a pipe or file works, so scripts and tests can type).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from voicecli.audio.format import dbfs
from voicecli.config import Settings
from voicecli.errors import VoicecliError
from voicecli.pricing import prices_for
from voicecli.tools.confirm import Approver, approve_all, make_approver
from voicecli.ui.confirm import KeyApprover, Question
from voicecli.ui.prompt import Prompt, StdinLines
from voicecli.ui.status import SessionStatus


class View(Protocol):
    def on_event(self, event: Any, t: float) -> None: ...
    def status(self, text: str) -> None: ...


@dataclass
class TalkUI:
    view: View
    prompt: Prompt | None = None
    observers: list[Any] = field(default_factory=list)

    def status(self, text: str) -> None:
        self.view.status(text)

    def approver(self, yes: bool) -> Approver:
        """How ``confirm = true`` tools are asked: ``--yes`` approves; with a terminal on
        stdin the question takes the keyboard from typed input (``ui.confirm``); otherwise
        the call is refused at once (no one to ask)."""
        if yes:
            return approve_all
        reader = self.prompt.reader if self.prompt is not None else None
        if reader is not None and reader.fd is not None and _fd_isatty(reader.fd):
            view = self.view if hasattr(self.view, "ask") else _StatusQuestions(self.view)
            return KeyApprover(reader, view)  # type: ignore[arg-type]
        return make_approver(False)

    def metered(self, source: Any) -> Any:
        """The microphone source, feeding the view's level meter when it has one (the live
        view's ``set_level``)."""
        set_level = getattr(self.view, "set_level", None)
        if set_level is not None and source is not None:
            return MeteredSource(source, set_level)
        return source

    def on_start(self, then: Callable[[Any], None] | None = None) -> Callable[[Any], None]:
        """A ``TalkRequest.on_start`` hook: ``then(conv)``, then typed input begins."""

        def start(conv: Any) -> None:
            if then is not None:
                then(conv)
            attach = getattr(self.view, "attach_stats", None)  # the live and JSON-lines views
            if attach is not None:
                attach(conv.stats)  # one set of counts: the conversation's
            if self.prompt is not None:
                self.prompt.start(conv)

        return start


class MeteredSource:
    """An ``AudioSource`` that passes frames through and reports their level to the view.

    One RMS over a 10-30 ms frame every ``every`` frames: microseconds, on the uplink task.
    """

    def __init__(self, source: Any, on_level: Callable[[float], None], every: int = 2) -> None:
        self.source = source
        self.frame_ms = source.frame_ms
        self.on_level = on_level
        self.every = every

    async def frames(self) -> AsyncIterator[bytes]:
        n = 0
        async for frame in self.source.frames():
            n += 1
            if n % self.every == 0:
                self.on_level(dbfs(frame))
            yield frame

    async def aclose(self) -> None:
        await self.source.aclose()


class _StatusQuestions:
    """For views without a question area (JSON lines): the question as status lines."""

    def __init__(self, view: View) -> None:
        self.view = view

    def ask(self, question: Question | None) -> None:
        if question is not None:
            for line in question.lines():
                self.view.status(f"voicecli: {line}")

    def status(self, text: str) -> None:
        self.view.status(text)


def _fd_isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def pick_view(settings: Settings, json_out: bool) -> View:
    """The view for this session; only its module is imported."""
    if json_out:
        from voicecli.ui.jsonl import JsonLinesView

        return JsonLinesView()
    if _isatty(sys.stdout) and os.environ.get("TERM") != "dumb":
        from voicecli.ui.live_view import LiveView

        return LiveView(connection_limit_s=settings.connection_limit or None)
    from voicecli.ui.plain import PlainView

    return PlainView(echo_input=_key_by_key())


def _key_by_key() -> bool:
    """Plain view with a terminal on stdin and stderr: keys are read one at a time (cbreak),
    so a tool confirmation can be answered with one key; the typed line is drawn on stderr."""
    return _isatty(sys.stdin) and _isatty(sys.stderr) and os.environ.get("TERM") != "dumb"


@contextlib.contextmanager
def talk_ui(
    settings: Settings,
    *,
    json_out: bool = False,
    typed_input: bool = True,
) -> Iterator[TalkUI]:
    """Open the view and typed input for one session; both are closed on the way out."""
    view = pick_view(settings, json_out)
    ui = TalkUI(view, observers=[view])
    if typed_input:
        # keys one at a time, the line being typed drawn by the view (``echo_input``: the
        # live view always, the plain view with a terminal); JSON lines reads whole lines
        set_input = getattr(view, "set_input", None)
        keys = set_input is not None and bool(getattr(view, "echo_input", False))
        reader = StdinLines(keys=keys, on_buffer=set_input if keys else None)
        status = SessionStatus(settings.connection_limit or None)
        status.prices = prices_for(settings.model, settings.tables)
        ui.prompt = Prompt(reader, status)
    start, stop = getattr(view, "start", None), getattr(view, "stop", None)  # the live view
    capture = _capture_stderr(view)
    if start is not None:
        start()
    if capture is not None:
        capture.start()
    try:
        yield ui
    except VoicecliError as e:
        error = getattr(view, "error", None)  # JSON lines: the error is a record too
        if error is not None:
            error(e, settings.api_key)
        raise
    finally:
        if ui.prompt is not None:
            ui.prompt.close()
        if capture is not None:
            capture.stop()  # before the view's last lines: they go to the real stderr
        if stop is not None:
            stop()
        underruns = getattr(view, "native_underruns", 0)
        if underruns:
            view.status(
                f"voicecli: the audio device reported {underruns} underruns "
                "(counted, not printed; --debug shows them)"
            )


def _capture_stderr(view: Any) -> Any:
    """While the live view owns the terminal, stderr goes through it (``ui.stderr_capture``):
    native libraries (ALSA, PortAudio) would otherwise write over the redrawn region."""
    native_line = getattr(view, "native_line", None)
    if native_line is None or not _fd_isatty(2):
        return None
    from voicecli.ui.stderr_capture import StderrCapture

    view.show_underruns = logging.getLogger().isEnabledFor(logging.DEBUG)
    return StderrCapture(native_line)
