"""Typed input alongside voice: a prompt line whose text goes into the same Live session.

Reading never blocks the event loop. In a terminal with the live view, stdin is switched to
cbreak mode (no echo) and read with ``loop.add_reader``; a pure ``LineEditor`` turns keys into
lines and the view draws the line being typed. Otherwise (a pipe, a file, a terminal without
the live view) a daemon thread reads lines with ``os.read`` and hands them to the loop with
``call_soon_threadsafe``. Either way, lines land in a bounded asyncio queue that ``Prompt``
serves: plain text becomes a user turn (``Conversation.send_text``), ``/commands`` control the
session (see ``ui.commands``).
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol

from voicecli.errors import VoicecliError
from voicecli.live import events as ev
from voicecli.live.stats import SessionStats
from voicecli.ui.commands import Cmd, Command, help_lines, parse
from voicecli.ui.status import SessionStatus

log = logging.getLogger(__name__)

QUEUE_SIZE = 64


class LineEditor:
    """Keys in, finished lines out: Enter, Backspace, Ctrl-U, Ctrl-W; Ctrl-D on empty = /quit.

    Escape sequences (arrow keys ...) are skipped. Pure: no terminal, no clock.
    """

    def __init__(self) -> None:
        self.buffer = ""
        self._esc = ""  # an escape sequence being skipped
        self._last_cr = False

    def feed(self, data: str) -> list[str]:
        lines: list[str] = []
        for ch in data:
            if self._esc:
                self._esc += ch
                if (len(self._esc) == 2 and ch not in "[O") or (
                    len(self._esc) > 2 and "@" <= ch <= "~"
                ):
                    self._esc = ""
                continue
            if ch == "\n" and self._last_cr:
                self._last_cr = False
                continue
            self._last_cr = ch == "\r"
            if ch in "\r\n":
                lines.append(self.buffer)
                self.buffer = ""
            elif ch in "\x7f\b":
                self.buffer = self.buffer[:-1]
            elif ch == "\x15":  # Ctrl-U
                self.buffer = ""
            elif ch == "\x17":  # Ctrl-W
                self.buffer = self.buffer.rstrip()
                self.buffer = self.buffer[: self.buffer.rfind(" ") + 1]
            elif ch == "\x04":  # Ctrl-D
                if not self.buffer:
                    lines.append("/quit")
            elif ch == "\x1b":
                self._esc = ch
            elif ch >= " ":
                self.buffer += ch
        return lines


Sink = Callable[[str | None], None]  # a line, or None at end of input


_ACTIVE: set[StdinLines] = set()  # readers that changed the terminal mode


def restore_terminal() -> None:
    """Give the terminal back (echo, line mode) before a forced exit (second Ctrl-C)."""
    if _ACTIVE and os.isatty(1):  # the live view hides the cursor while it draws
        with contextlib.suppress(OSError):
            os.write(1, b"\x1b[?25h\n")
    for reader in list(_ACTIVE):
        reader.close()


class StdinLines:
    """Lines from stdin into the loop. ``keys=True``: cbreak mode + ``LineEditor`` (a TTY)."""

    def __init__(
        self,
        fd: int | None = None,
        *,
        keys: bool = False,
        on_buffer: Callable[[str], None] | None = None,
    ) -> None:
        self.fd = fd if fd is not None else _stdin_fd()
        self.keys = keys and self.fd is not None and os.isatty(self.fd)
        self.on_buffer = on_buffer
        self.editor = LineEditor()
        self._saved: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._closed = False
        self._claim: asyncio.Queue[str] | None = None  # a confirmation owns the keyboard

    # --- a confirmation question takes the keys (ui.confirm) -----------------------------
    @property
    def one_key(self) -> bool:
        """True: each key arrives on its own (cbreak); False: whole lines (line mode)."""
        return self.keys

    def claim(self) -> asyncio.Queue[str]:
        """Keys (or lines, in line mode) go to the returned queue until ``release``; the line
        being typed is left as it is (paused, not sent)."""
        self._claim = asyncio.Queue(QUEUE_SIZE)
        return self._claim

    def release(self) -> None:
        self._claim = None
        if self.on_buffer is not None:
            self.on_buffer(self.editor.buffer)

    def _to_claim(self, text: str) -> None:
        claim = self._claim
        if claim is None:
            return
        for piece in text if self.keys else [text]:
            with contextlib.suppress(asyncio.QueueFull):
                claim.put_nowait(piece)

    def _deliver(self, sink: Sink, line: str | None) -> None:
        """On the loop: a line from the reader thread, to the question if one is asked."""
        if self._claim is not None:
            self._to_claim("" if line is None else line)
            if line is not None:
                return
        sink(line)

    def start(self, loop: asyncio.AbstractEventLoop, sink: Sink) -> None:
        self._loop = loop
        if self.keys and self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
            _ACTIVE.add(self)
            loop.add_reader(self.fd, self._on_keys, sink)
            if self.on_buffer is not None:
                self.on_buffer("")
            return
        target = self._read_fd if self.fd is not None else self._read_textio
        threading.Thread(target=target, args=(sink,), name="voicecli-stdin", daemon=True).start()

    # --- cbreak mode, on the loop --------------------------------------------------------
    def _on_keys(self, sink: Sink) -> None:
        assert self.fd is not None
        try:
            data = os.read(self.fd, 1024)
        except OSError:
            data = b""
        if not data:
            self._remove_reader()
            self._to_claim("\x04")
            sink(None)
            return
        text = self._decoder.decode(data)
        if self._claim is not None:  # a question owns the keys; the typed line waits
            self._to_claim(text)
            return
        for line in self.editor.feed(text):
            sink(line)
        if self.on_buffer is not None:
            self.on_buffer(self.editor.buffer)

    def _remove_reader(self) -> None:
        if self._loop is not None and self.keys and self.fd is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_reader(self.fd)

    # --- line mode, in a thread ----------------------------------------------------------
    def _hand(self, sink: Sink, line: str | None) -> bool:
        loop = self._loop
        if self._closed or loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(self._deliver, sink, line)
        except RuntimeError:  # the loop closed meanwhile
            return False
        return True

    def _read_fd(self, sink: Sink) -> None:
        assert self.fd is not None
        pending = ""
        while True:
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            if not data:
                break
            pending += self._decoder.decode(data)
            *lines, pending = pending.split("\n")
            for line in lines:
                if not self._hand(sink, line.rstrip("\r")):
                    return
        if pending:
            self._hand(sink, pending)
        self._hand(sink, None)

    def _read_textio(self, sink: Sink) -> None:
        try:
            for line in sys.stdin:
                if not self._hand(sink, line.rstrip("\r\n")):
                    return
        except (OSError, ValueError):  # no readable stdin (e.g. under a test runner)
            pass
        self._hand(sink, None)

    def close(self) -> None:
        """Stop reading and give the terminal back as it was (safe to call twice)."""
        self._closed = True
        self._remove_reader()
        if self._saved is not None and self.fd is not None:
            import termios

            with contextlib.suppress(Exception):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None
        _ACTIVE.discard(self)


def _stdin_fd() -> int | None:
    try:
        return sys.stdin.fileno() if sys.stdin is not None else None
    except (AttributeError, OSError, ValueError):  # replaced stdin (tests) or closed
        return None


class Session(Protocol):
    """What the prompt needs from a ``live.conversation.Conversation``."""

    observers: list[Any]
    stats: SessionStats

    @property
    def muted(self) -> bool: ...

    def set_muted(self, muted: bool) -> None: ...
    def uplink_seconds(self) -> tuple[float, float]: ...

    def rel(self, t: float | None = None) -> float: ...
    def notify(self, event: ev.AnyEvent, t: float | None = None) -> None: ...
    async def send_text(self, text: str) -> None: ...
    async def change_context(self, kind: str, value: str = "") -> None: ...
    def request_stop(self) -> None: ...


class Prompt:
    """Serves typed lines for one conversation; plug ``start`` into ``TalkRequest.on_start``."""

    def __init__(self, reader: StdinLines | None = None, status: SessionStatus | None = None):
        self.reader = reader
        self.status = status
        self.conv: Session | None = None
        self.dropped = 0
        self.quit_requested = False
        self._queue: asyncio.Queue[str | None] | None = None
        self._task: asyncio.Task[None] | None = None
        self.on_end: Callable[[], None] | None = None  # typed input is over (end of stdin)

    def start(self, conv: Session) -> None:
        """Begin serving input (called inside the running loop, once the session is up)."""
        self.conv = conv
        if self.status is None:
            self.status = SessionStatus()
        self.status.attach(conv.stats)  # the conversation counts; the status shows
        if not any(obs is self.status for obs in conv.observers):
            conv.observers.append(self.status)
        loop = asyncio.get_running_loop()
        self._queue = asyncio.Queue(QUEUE_SIZE)
        if self.reader is not None:
            self.reader.start(loop, self.put)
        self._task = loop.create_task(self._serve(), name="voicecli-prompt")

    def put(self, line: str | None) -> None:
        """Queue one typed line (None: end of input); when full, drop the oldest and count."""
        assert self._queue is not None
        if self._queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(line)

    async def _serve(self) -> None:
        assert self._queue is not None
        while True:
            line = await self._queue.get()
            if line is None:
                if self.on_end is not None:
                    self.on_end()
                return
            try:
                await self.handle(line)
            except Exception as e:  # typed input never ends the session by failing
                log.debug("typed input failed", exc_info=True)
                self._say(f"could not send: {e}", "error")

    def _say(self, text: str, level: str = "info") -> None:
        assert self.conv is not None
        self.conv.notify(ev.Notice(text, level), self.conv.rel())

    async def handle(self, line: str) -> None:
        conv = self.conv
        assert conv is not None
        cmd = parse(line)
        if cmd.kind is Cmd.EMPTY:
            return
        if cmd.kind is Cmd.TEXT:
            await conv.send_text(cmd.arg)
        elif cmd.kind in (Cmd.STYLE, Cmd.SYSTEM, Cmd.TOOLS, Cmd.TOOL):
            kind, value = cmd.kind.value, cmd.arg
            if cmd.kind is Cmd.TOOL:
                verb, _, value = cmd.arg.partition(" ")
                kind = f"tool_{verb}"
            try:
                await conv.change_context(kind, value)
            except VoicecliError as e:
                self._say(f"/{cmd.kind.value}: {e.one_line()}", "warning")
        elif cmd.kind is Cmd.MUTE:
            conv.set_muted(True)
        elif cmd.kind is Cmd.UNMUTE:
            conv.set_muted(False)
        elif cmd.kind is Cmd.STATS:
            self._say(self.stats_line())
        elif cmd.kind in (Cmd.LOOK, Cmd.UNSHARE):
            await self._media(cmd)
        elif cmd.kind is Cmd.HELP:
            for text in help_lines():
                self._say(text)
        elif cmd.kind is Cmd.QUIT:
            self.quit_requested = True
            self._say("ending the session")
            conv.request_stop()
        else:
            self._say(cmd.error or "unknown command", "warning")

    async def _media(self, cmd: Command) -> None:
        """/look and /unshare act on the session's sharing (voicecli.video), if any."""
        media = getattr(self.conv, "media", None)
        if cmd.kind is Cmd.UNSHARE:
            if media is None or not media.shared:
                self._say("nothing is shared")
            else:
                await media.unshare()
            return
        if media is None:
            self._say("/look needs a session started with a sharing option", "warning")
            return
        try:
            self._say(await media.look(cmd.arg))
        except VoicecliError as e:
            self._say(e.one_line(), "warning")

    def stats_line(self) -> str:
        assert self.conv is not None and self.status is not None
        line = self.status.stats_line(self.conv.rel())
        heard, sent = self.conv.uplink_seconds()
        line += f"; mic {heard:.1f} s heard, {sent:.1f} s sent"
        reconnects = self.conv.stats.reconnects
        if reconnects:
            line += f"; {reconnects} reconnect{'s' if reconnects != 1 else ''}"
        media = getattr(self.conv, "media", None)
        if media is not None:
            line += "; " + media.snapshot().stats()
        if self.conv.muted:
            line += " (muted)"
        return line

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self._task is not None and not self._task.done():
            with contextlib.suppress(RuntimeError):  # the loop is already closed
                self._task.cancel()
