"""Asking the user before a tool runs (``confirm = true``, the default for commands and MCP).

``--yes`` approves everything. Otherwise the question goes to the terminal: the tool, the
exact argv (control characters escaped, so a crafted argument cannot rewrite the prompt),
``[y/N]`` with no as the default. Without a terminal the answer is no at once, never a hang.
The line is read in a daemon thread so the event loop keeps running and exit never waits
for a question nobody answers.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TextIO

from voicecli.tools.base import visible

Approver = Callable[[str, str], Awaitable[bool]]  # (tool name, what will run) -> approved
NO_TTY_HINT = "no terminal to ask on: run with --yes to approve tools, or set confirm = false"
ANSWER_TIMEOUT_S = 60.0


async def approve_all(name: str, preview: str) -> bool:
    return True


async def refuse_all(name: str, preview: str) -> bool:
    return False


class TerminalApprover:
    """Asks on ``err`` and reads ``inp`` (stderr and stdin by default), one question at a time."""

    def __init__(
        self,
        inp: TextIO | None = None,
        err: TextIO | None = None,
        timeout_s: float = ANSWER_TIMEOUT_S,
    ) -> None:
        self.inp = inp or sys.stdin
        self.err = err or sys.stderr
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()
        self._pending: concurrent.futures.Future[str] | None = None

    def interactive(self) -> bool:
        try:
            return self.inp.isatty()
        except (AttributeError, ValueError):
            return False

    async def __call__(self, name: str, preview: str) -> bool:
        if not self.interactive():
            return False
        async with self._lock:
            print(f"\nvoicecli: {question(name, preview)}", end="", file=self.err, flush=True)
            try:
                answer = asyncio.shield(asyncio.wrap_future(self._read()))
                line = await asyncio.wait_for(answer, self.timeout_s)
            except TimeoutError:
                print("(no answer: not run)", file=self.err, flush=True)
                return False
            return line.strip().lower() in ("y", "yes")

    def _read(self) -> concurrent.futures.Future[str]:
        # a read left over from an unanswered question answers this one
        if self._pending is not None and not self._pending.done():
            return self._pending
        fut: concurrent.futures.Future[str] = concurrent.futures.Future()

        def read() -> None:
            try:
                line = self.inp.readline()
            except (OSError, ValueError):  # closed stdin and the like: counts as "no"
                line = ""
            fut.set_result(line)

        threading.Thread(target=read, name="voicecli-confirm", daemon=True).start()
        self._pending = fut
        return fut


def question(name: str, preview: str) -> str:
    """The confirmation question, safe to print (control characters escaped)."""
    return f"the model wants to run tool {visible(name)}:\n    {preview}\n  allow? [y/N] "


class AskApprover:
    """For UIs that own the terminal (a typed-input prompt): ``ask`` shows the question and
    returns the user's line, so only one reader ever consumes stdin."""

    def __init__(self, ask: Callable[[str], Awaitable[str]], timeout_s: float = ANSWER_TIMEOUT_S):
        self.ask = ask
        self.timeout_s = timeout_s
        self._lock = asyncio.Lock()

    async def __call__(self, name: str, preview: str) -> bool:
        async with self._lock:
            try:
                line = await asyncio.wait_for(self.ask(question(name, preview)), self.timeout_s)
            except TimeoutError:
                return False
        return line.strip().lower() in ("y", "yes")


def make_approver(yes: bool) -> Approver:
    return approve_all if yes else TerminalApprover()
