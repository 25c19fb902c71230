"""Watching a command's output (``--watch CMD``) or a file (``--watch-file PATH``).

New lines become context for the model, never a request for a reply: ANSI sequences and
progress-bar overwrites are stripped, lines are batched (one message every ``interval_s`` at
most), each message is capped and a per-minute budget bounds the cost; lines over the budget
are dropped and counted, and the next message says how many. The command runs from an argv
list (no shell), without stdin, in its own process group (killed at the end of the session).
Its exit is announced to the model (as a short turn, so a proactive model may speak up) and
shown to the user.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from voicecli.child_env import MARKER, child_env
from voicecli.errors import UsageError
from voicecli.process_tree import stop_tree
from voicecli.safe_text import ESCAPES, UNSAFE


def clean_line(line: str) -> str:
    """A line as a person sees it: no escape sequences, only what the last ``\\r`` left."""
    line = ESCAPES.sub("", line.rstrip("\n"))
    if "\r" in line:
        line = line.rstrip("\r").rsplit("\r", 1)[-1]
    return UNSAFE.sub("", line).rstrip()


@dataclass(frozen=True)
class WatchParams:
    interval_s: float = 2.0  # at most one context message this often
    max_chars: int = 2000  # per message
    budget_chars_per_min: int = 8000  # all messages of one watch in any minute
    tail_lines: int = 10  # --watch-file: lines of the existing file sent first (tail -F)
    poll_s: float = 0.5  # --watch-file: how often the file is checked


class Batcher:
    """Pure: lines in, capped messages out, within a rate and a byte budget."""

    def __init__(self, params: WatchParams) -> None:
        self.p = params
        self._lines: deque[str] = deque()
        self._chars = 0
        self._sent: deque[tuple[float, int]] = deque()  # (time, chars) in the last minute
        self._last_sent = float("-inf")
        self.lines_sent = 0
        self.lines_dropped = 0
        self._dropped_unreported = 0

    def add(self, line: str) -> None:
        if not line:
            return
        if self._chars + len(line) + 1 > self.p.max_chars * 4:  # bounded backlog
            self.lines_dropped += 1
            self._dropped_unreported += 1
            return
        self._lines.append(line)
        self._chars += len(line) + 1

    @property
    def pending(self) -> bool:
        return bool(self._lines) or self._dropped_unreported > 0

    def take(self, now: float) -> tuple[str, int] | None:
        """The next message and its line count, when one is due; else None."""
        if not self.pending or now - self._last_sent < self.p.interval_s:
            return None
        while self._sent and now - self._sent[0][0] >= 60.0:
            self._sent.popleft()
        budget = self.p.budget_chars_per_min - sum(c for _, c in self._sent)
        room = min(self.p.max_chars, budget)
        if room <= 0:
            return None
        out: list[str] = []
        used = 0
        while self._lines and used + len(self._lines[0]) + 1 <= room:
            line = self._lines.popleft()
            self._chars -= len(line) + 1
            out.append(line)
            used += len(line) + 1
        if not out and self._lines:
            if len(self._lines[0]) + 1 <= self.p.max_chars:
                return None  # it fits a message once the budget allows
            line = self._lines.popleft()  # longer than any message: cut
            self._chars -= len(line) + 1
            out.append(line[: max(0, room - 2)] + "…")
            used = room
        sent_lines = len(out)
        if self._dropped_unreported:
            out.append(f"[{self._dropped_unreported} lines not sent: too much output]")
            self._dropped_unreported = 0
        if not out:
            return None
        self._last_sent = now
        self._sent.append((now, used))
        self.lines_sent += sent_lines
        return "\n".join(out), sent_lines

    def overflow(self) -> None:
        """Drop what is still waiting (the budget is spent): counted, reported next time."""
        while self._chars > self.p.max_chars * 2 and self._lines:
            line = self._lines.popleft()
            self._chars -= len(line) + 1
            self.lines_dropped += 1
            self._dropped_unreported += 1


def parse_command(text: str) -> list[str]:
    """``--watch`` takes one string, split like a shell would split words (no shell runs)."""
    try:
        argv = shlex.split(text)
    except ValueError as e:
        raise UsageError(f"cannot parse --watch {text!r}: {e}", "check the quotes") from None
    if not argv:
        raise UsageError("--watch needs a command", 'e.g. --watch "pytest -x"')
    return argv


async def run_command(
    argv: list[str],
    on_line: Callable[[str], None],
    *,
    cwd: Path | None = None,
) -> int:
    """Run ``argv`` (no shell, no stdin, own process group) and feed each output line
    (stdout and stderr merged) to ``on_line``; returns the exit status (-N: signal N).
    Cancelling kills the whole process group and what the command started (``process_tree``).
    The command gets a clean environment (``child_env``: never the API key)."""
    env = child_env()
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
            env=env,
        )
    except OSError as e:
        raise UsageError(
            f"cannot run --watch command {argv[0]!r}: {e.strerror}", "check the command"
        ) from None
    assert proc.stdout is not None
    try:
        while True:
            raw = await proc.stdout.readline()
            if not raw:
                break
            on_line(clean_line(raw.decode("utf-8", errors="replace")))
        return await proc.wait()
    finally:
        if proc.returncode is None:
            await _stop(proc, env[MARKER])


async def _stop(proc: asyncio.subprocess.Process, marker: str) -> None:
    """SIGTERM to the group (2 s to finish), then SIGKILL to all it started."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(2.0):
            await proc.wait()
    stop_tree(proc.pid, marker)
    with contextlib.suppress(TimeoutError, ProcessLookupError):
        async with asyncio.timeout(2.0):
            await proc.wait()


class FileFollower:
    """``tail -F``: the last lines first, then what is appended; follows the name, so a
    file that is rotated, replaced or truncated is read again from its start, and a file
    that does not exist yet is waited for. ``poll()`` is synchronous (run it in a thread)."""

    def __init__(self, path: Path, tail_lines: int = 10) -> None:
        self.path = path
        self.tail_lines = tail_lines
        self._fh: object | None = None
        self._ino: int | None = None
        self._pos = 0
        self._partial = b""
        self._pending: list[bytes] = []  # the last lines found at the first open
        self._first = True

    def poll(self) -> list[str]:
        lines: list[bytes] = []
        try:
            st = os.stat(self.path)
        except OSError:
            lines += self._drain()
            self._close()
            return self._decode(lines)
        if self._fh is None or st.st_ino != self._ino:
            lines += self._drain()
            self._close()
            self._open(st.st_ino)
        elif st.st_size < self._pos:  # truncated: start again
            self._seek(0)
        lines += self._drain()
        return self._decode(lines)

    def _open(self, ino: int) -> None:
        try:
            fh = open(self.path, "rb")  # noqa: SIM115 (kept open between polls)
        except OSError:
            return
        self._fh, self._ino, self._partial = fh, ino, b""
        if self._first:  # like tail: start with the last lines of what is there
            self._first = False
            size = os.fstat(fh.fileno()).st_size
            start = max(0, size - 64 * 1024)
            fh.seek(start)
            parts = fh.read().split(b"\n")
            self._pos = fh.tell()
            if start > 0:
                parts = parts[1:] or [b""]  # the first piece is the end of a line cut by the seek
            self._partial = parts.pop()
            self._pending = parts[-self.tail_lines :] if self.tail_lines else []
        else:
            self._pos = 0

    def _seek(self, pos: int) -> None:
        assert self._fh is not None
        self._fh.seek(pos)  # type: ignore[attr-defined]
        self._pos, self._partial = pos, b""

    def _drain(self) -> list[bytes]:
        pending, self._pending = self._pending, []
        if self._fh is None:
            return pending
        data = self._fh.read()  # type: ignore[attr-defined]
        if not data:
            return pending
        self._pos += len(data)
        parts = (self._partial + data).split(b"\n")
        self._partial = parts.pop()
        return pending + parts

    def _close(self) -> None:
        if self._fh is not None:
            self._fh.close()  # type: ignore[attr-defined]
        self._fh, self._ino = None, None

    def close(self) -> None:
        self._close()

    @staticmethod
    def _decode(lines: list[bytes]) -> list[str]:
        return [clean_line(b.decode("utf-8", errors="replace")) for b in lines]


SendContext = Callable[[str], Awaitable[None]]
