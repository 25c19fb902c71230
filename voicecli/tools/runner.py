"""The tool handler a Conversation calls for every ``toolCall``: run, answer, never crash.

Each call of a ``toolCall`` message runs as its own task, so parallel calls run at the same
time and one can be cancelled alone (``toolCallCancellation``: the call is stopped, a
command's process group killed, and no answer is sent for it). Ids already seen are not run
again (the server may repeat a call), so every id is answered at most once. Whatever a tool
does (raise, time out, return something odd) the model gets a JSON answer with the same id,
and the session goes on.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any

from voicecli.live import events as ev
from voicecli.safe_text import safe_value
from voicecli.tools.base import Tool, ToolFailure, ToolStatus
from voicecli.tools.confirm import NO_TTY_HINT, Approver, refuse_all

log = logging.getLogger(__name__)

MAX_RESPONSE_CHARS = 100_000
REMEMBER_IDS = 4096


class ToolRunner:
    """Answers tool calls with the tools it was given (a ``ToolHandler`` with ``cancel``)."""

    def __init__(
        self,
        tools: Sequence[Tool],
        approver: Approver = refuse_all,
        *,
        non_blocking: bool = False,
    ) -> None:
        self.tools = {t.spec.name: t for t in tools}
        self.approver = approver
        self.non_blocking = non_blocking  # the model takes NON_BLOCKING and scheduling
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._running: dict[str, asyncio.Task[ev.FunctionResult]] = {}
        self.duplicates = 0

    # ----------------------------------------------------------------------------- calls
    async def __call__(self, call: ev.ToolCall) -> list[ev.FunctionResult]:
        tasks: list[tuple[str, asyncio.Task[ev.FunctionResult]]] = []
        for c in call.calls:
            if not self._claim(c.id):
                self.duplicates += 1
                log.info("tool call %s (%s) repeated: answered once", c.id, c.name)
                continue
            task = asyncio.create_task(self._run_one(c), name=f"tool {c.name} {c.id}")
            tasks.append((c.id, task))
            if c.id:
                self._running[c.id] = task
        if not tasks:
            return []
        try:
            await asyncio.wait([t for _, t in tasks])
        finally:
            for cid, task in tasks:
                if not task.done():
                    task.cancel()
                self._running.pop(cid, None)
        return [t.result() for _, t in tasks if not t.cancelled()]

    def cancel(self, ids: Iterable[str]) -> None:
        """The server abandoned these calls: stop them; they get no answer."""
        for cid in ids:
            self._claim(cid)  # a call arriving after its cancellation is not run
            task = self._running.get(cid)
            if task is not None and not task.done():
                task.cancel()

    def _claim(self, cid: str) -> bool:
        """True the first time an id is seen (calls without an id are always new)."""
        if not cid:
            return True
        if cid in self._seen:
            return False
        self._seen[cid] = None
        while len(self._seen) > REMEMBER_IDS:
            self._seen.popitem(last=False)
        return True

    # ----------------------------------------------------------------------------- one call
    async def _run_one(self, c: ev.FunctionCall) -> ev.FunctionResult:
        start = time.monotonic()
        tool = self.tools.get(c.name)
        status = ToolStatus.OK
        try:
            if tool is None:
                known = ", ".join(sorted(self.tools)) or "none"
                raise ToolFailure(f"unknown tool {c.name!r} (available: {known})")
            args = dict(c.args or {})
            if tool.spec.confirm:
                preview = tool.preview(args)
                if not await self.approver(c.name, preview):
                    interactive = getattr(self.approver, "interactive", lambda: True)()
                    raise ToolFailure(
                        "the user did not allow this tool call"
                        if interactive
                        else f"this tool needs the user's confirmation; {NO_TTY_HINT}",
                        ToolStatus.REFUSED,
                    )
            response = await tool.call(args)
        except ToolFailure as e:
            response, status = e.response(), e.status
        except asyncio.CancelledError:
            raise
        except Exception as e:  # a bug in a tool: an error answer, never the end of the session
            log.exception("tool %s failed", c.name)
            response, status = {"error": f"{type(e).__name__}: {e}"}, ToolStatus.ERROR
        return ev.FunctionResult(
            c.id,
            c.name,
            _json_safe(response),
            scheduling=self._scheduling(tool),
            status=status,
            duration_s=round(time.monotonic() - start, 3),
        )

    def _scheduling(self, tool: Tool | None) -> str | None:
        if not self.non_blocking or tool is None or not tool.spec.non_blocking:
            return None
        return tool.spec.scheduling.upper()


def _json_safe(response: Any) -> dict[str, Any]:
    """A dict that JSON-encodes (no NaN or infinity), at most MAX_RESPONSE_CHARS long once
    encoded, with its text terminal-safe and any key redacted: what a tool says reaches the
    model, the screen, the transcript and history only this way."""
    if not isinstance(response, dict):
        response = {"output": response}
    try:
        plain = json.loads(json.dumps(response, default=str, allow_nan=False))
    except ValueError:  # NaN or infinity somewhere: not JSON
        return {"error": "the tool's answer held a number that is not finite (NaN or infinity)"}
    text = json.dumps(safe_value(plain), ensure_ascii=False)
    if len(text) > MAX_RESPONSE_CHARS:
        return {
            "output": text[:MAX_RESPONSE_CHARS],
            "truncated": True,
            "note": "the tool's answer was cut to its first characters (JSON text)",
        }
    safe: dict[str, Any] = json.loads(text)
    return safe
