"""The model's tool calls while a conversation runs: each call's handler runs as a task and
its results go back on the connection (a failing handler is an error result, never the end
of the session); while one is pending the microphone may be held
(``ModelCaps.audio_during_call``)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from voicecli.live import events as ev
from voicecli.live import messages as m

log = logging.getLogger(__name__)


class ToolTasks:
    """``conv``: the conversation (its handler, transport, options, guard and observers)."""

    def __init__(self, conv: Any) -> None:
        self._conv = conv
        self._tasks: set[asyncio.Task[None]] = set()
        self._holding = False  # the microphone is held while a call is pending

    def __bool__(self) -> bool:
        """A call is pending."""
        return bool(self._tasks)

    def start(self, call: ev.ToolCall) -> None:
        task = asyncio.create_task(self._run(call))
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()

    def hold_mic(self) -> bool:
        """Hold the microphone while a call is pending, if the options say so."""
        held = self._conv.opt.hold_audio_in_calls and bool(self._tasks)
        if held and not self._holding:
            self._conv.notify(ev.Notice("microphone held until the tool's answer is sent"))
        self._holding = held
        return held

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not self._tasks:
            self._conv.guard.tools_idle(time.monotonic())
        self._conv._poke()  # the end of a run may have waited for it

    async def _run(self, call: ev.ToolCall) -> None:
        conv = self._conv
        try:
            results = await conv.tool_handler(call)
        except Exception as e:  # a failing tool never ends the session
            log.exception("tool handler failed")
            results = [
                ev.FunctionResult(c.id, c.name, {"error": str(e)}, status="error")
                for c in call.calls
            ]
        if results:
            await conv.transport.send(m.ToolResults(tuple(results)))
            conv.notify(ev.ToolResults(tuple(results), t=time.monotonic()))
