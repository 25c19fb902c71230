"""Tool confirmations: one key answers (y / n / a = always), the question has its own
timeout, a cancelled call withdraws it, and the live view shows it instead of the prompt."""

from __future__ import annotations

import asyncio
import time

import pytest
from test_ui_live_view import make_view, region

from voicecli.live import events as ev
from voicecli.ui.confirm import KeyApprover, Question, parse_answer


class Keys:
    """A stand-in for the typed input reader: keys pressed go to the claim, if any."""

    one_key = True

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str] | None = None
        self.released = 0

    def claim(self) -> asyncio.Queue[str]:
        self.queue = asyncio.Queue()
        return self.queue

    def release(self) -> None:
        self.queue = None
        self.released += 1

    async def press(self, key: str) -> None:
        while self.queue is None:  # noqa: ASYNC110 (the approver claims soon)
            await asyncio.sleep(0.001)
        self.queue.put_nowait(key)


class Screen:
    def __init__(self) -> None:
        self.asked: list[Question | None] = []
        self.lines: list[str] = []

    def ask(self, question: Question | None) -> None:
        self.asked.append(question)

    def status(self, text: str) -> None:
        self.lines.append(text)


def test_answers() -> None:
    assert [parse_answer(k) for k in "yYnNaA"] == ["y", "y", "n", "n", "a", "a"]
    assert parse_answer("\r") == parse_answer("\x1b") == parse_answer("") == "n"
    assert parse_answer("x") is None and parse_answer(" ") is None
    assert parse_answer("yes") == "y" and parse_answer("always") == "a"  # line mode


async def test_one_key_and_always() -> None:
    keys, screen = Keys(), Screen()
    approve = KeyApprover(keys, screen)
    ask = asyncio.create_task(approve("run_it", "prog 'a b'"))
    await keys.press("x")  # not an answer: ignored, still asking
    await keys.press("y")
    assert await ask is True
    q = screen.asked[0]
    assert q is not None and q.preview == "prog 'a b'" and screen.asked[-1] is None
    assert "prog 'a b'" in q.lines()[1] and "y = yes, n = no, a = always" in q.lines()[2]
    assert keys.released == 1 and screen.lines == ["allowed run_it"]

    ask = asyncio.create_task(approve("run_it", "prog"))
    await keys.press("a")
    assert await ask is True
    assert await approve("run_it", "prog again") is True  # not asked again
    assert len([a for a in screen.asked if a is not None]) == 2

    ask = asyncio.create_task(approve("other", "x"))
    await keys.press("n")
    assert await ask is False and screen.lines[-1] == "not allowed: other not run"


async def test_no_answer_in_time_is_no_and_a_cancelled_call_withdraws() -> None:
    keys, screen = Keys(), Screen()
    approve = KeyApprover(keys, screen, timeout_s=0.05)
    start = time.monotonic()
    assert await approve("slow", "x") is False
    assert time.monotonic() - start < 1.0
    assert screen.lines == ["no answer in 0.05 s: slow not run"] and screen.asked[-1] is None

    approve = KeyApprover(keys, screen)
    ask = asyncio.create_task(approve("gone", "x"))
    await asyncio.sleep(0.01)
    ask.cancel()
    with pytest.raises(asyncio.CancelledError):
        await ask
    assert screen.asked[-1] is None and keys.queue is None
    assert screen.lines[-1] == "the call of gone was cancelled: question withdrawn"


def test_live_view_shows_the_question_instead_of_the_prompt() -> None:
    view, console = make_view()
    view.set_input("half a li")
    view.on_event(ev.ToolCall((ev.FunctionCall("c1", "lookup", {"q": "x"}),)), 1.0)
    view.ask(Question("lookup", "lookup.py 'a b; c'", time.monotonic() + 42, True))
    text = region(view, console, 2.0)
    assert "lookup.py 'a b; c'" in text and "allow? [y = yes" in text
    assert "waiting for your answer" in text and "running" not in text
    assert "half a li" not in text  # the typed line waits
    view.ask(None)
    text = region(view, console, 2.5)
    assert "half a li" in text and "allow?" not in text
