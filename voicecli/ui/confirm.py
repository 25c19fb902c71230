"""Tool confirmations during a conversation: the question owns the keyboard while it is asked.

When a ``confirm = true`` tool is called, ``KeyApprover`` takes the next key from the typed
input reader (``StdinLines.claim``): whatever line was being typed is paused (kept, not sent),
the view shows the question with the exact argv, and one key answers it: ``y`` yes, ``n`` (or
Enter, Esc) no, ``a`` yes for the rest of the session for this tool. With no answer in
``timeout_s`` the answer is no. Where keys cannot be read one at a time (a terminal in line
mode), the next line answers instead. A call the server cancels withdraws its question.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from voicecli.tools.base import visible

ANSWER_TIMEOUT_S = 60.0
YES, NO, ALWAYS = "y", "n", "a"
ANSWERS = {"y": YES, "n": NO, "a": ALWAYS, "\r": NO, "\n": NO, "\x1b": NO, "\x04": NO}


@dataclass(frozen=True)
class Question:
    """One confirmation on screen: what will run, and until when it waits."""

    tool: str
    preview: str
    deadline: float  # time.monotonic() value
    one_key: bool  # False: the answer is a line (y/n/a, then Enter)

    def lines(self, now: float | None = None) -> list[str]:
        left = max(0, round(self.deadline - (time.monotonic() if now is None else now)))
        keys = "y = yes, n = no, a = always for this tool" + ("" if self.one_key else ", Enter")
        return [
            f"the model wants to run tool {visible(self.tool)}:",
            f"    {self.preview}",
            f"allow? [{keys}] (no answer in {left} s: no)",
        ]


class KeyReader(Protocol):
    """What the approver needs from the typed input reader (``ui.prompt.StdinLines``)."""

    one_key: bool

    def claim(self) -> asyncio.Queue[str]:
        """From now on keys (or lines) go to the returned queue, not to the typed line."""
        ...

    def release(self) -> None:
        """Give the keyboard back to typed input (the paused line is shown again)."""
        ...


class QuestionView(Protocol):
    def ask(self, question: Question | None) -> None: ...
    def status(self, text: str) -> None: ...


def parse_answer(text: str) -> str | None:
    """A key (or a typed line) as YES / NO / ALWAYS; None: not an answer (ignored)."""
    if text == "":
        return NO  # Enter on an empty line, or end of input
    key = text.strip().lower()[:1] if text.strip() else text[:1]
    return ANSWERS.get(key)


class KeyApprover:
    """An ``Approver`` that asks on the terminal through the typed input reader."""

    def __init__(
        self,
        reader: KeyReader,
        view: QuestionView,
        timeout_s: float = ANSWER_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.reader = reader
        self.view = view
        self.timeout_s = timeout_s
        self.clock = clock
        self.always: set[str] = set()
        self._lock = asyncio.Lock()

    def interactive(self) -> bool:
        return True

    async def __call__(self, name: str, preview: str) -> bool:
        if name in self.always:
            return True
        shown = visible(name)
        async with self._lock:  # one question at a time
            if name in self.always:
                return True
            try:
                answer = await self._ask(name, preview)
            except asyncio.CancelledError:  # the server cancelled the call (or the run ends)
                self.view.status(f"the call of {shown} was cancelled: question withdrawn")
                raise
        if answer == ALWAYS:
            self.always.add(name)
            self.view.status(f"allowed {shown} (and its later calls this session)")
        elif answer == YES:
            self.view.status(f"allowed {shown}")
        elif answer is None:
            self.view.status(f"no answer in {self.timeout_s:g} s: {shown} not run")
        else:
            self.view.status(f"not allowed: {shown} not run")
        return answer in (YES, ALWAYS)

    async def _ask(self, name: str, preview: str) -> str | None:
        deadline = self.clock() + self.timeout_s
        keys = self.reader.claim()
        self.view.ask(Question(name, preview, deadline, self.reader.one_key))
        try:
            async with asyncio.timeout(self.timeout_s):
                while True:
                    answer = parse_answer(await keys.get())
                    if answer is not None:
                        return answer
        except TimeoutError:
            return None
        finally:  # answered, timed out, or withdrawn (the server cancelled the call)
            with contextlib.suppress(Exception):
                self.reader.release()
            self.view.ask(None)
