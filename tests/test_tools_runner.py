"""Call semantics: every id answered once, cancellation, parallel calls, errors, confirmation."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import time
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

from voicecli.live import events as ev
from voicecli.live.capabilities import lookup
from voicecli.live.declare import declare
from voicecli.tools.base import FunctionTool, ToolFailure, ToolSpec
from voicecli.tools.builtin import builtin_tools
from voicecli.tools.confirm import AskApprover, TerminalApprover, approve_all
from voicecli.tools.runner import ToolRunner


def fake(name: str, func: Any, **spec: Any) -> FunctionTool:
    return FunctionTool(ToolSpec(name, f"{name} tool", **spec), func)


async def slow(args: dict[str, Any]) -> dict[str, Any]:
    await asyncio.sleep(float(args.get("s", 0.3)))
    return {"slept": args.get("s", 0.3)}


async def broken(args: dict[str, Any]) -> dict[str, Any]:
    raise RuntimeError("the tool has a bug")


def call(*calls: tuple[str, str, dict[str, Any]]) -> ev.ToolCall:
    return ev.ToolCall(tuple(ev.FunctionCall(i, n, a) for i, n, a in calls))


async def test_parallel_calls_run_together() -> None:
    runner = ToolRunner([fake("slow", slow)])
    t0 = time.monotonic()
    results = await runner(call(("a", "slow", {"s": 0.3}), ("b", "slow", {"s": 0.3})))
    assert time.monotonic() - t0 < 0.55
    assert [(r.id, r.status) for r in results] == [("a", "ok"), ("b", "ok")]
    assert all(r.duration_s is not None and r.duration_s >= 0.29 for r in results)


async def test_cancelled_call_gets_no_answer_and_others_do() -> None:
    runner = ToolRunner([fake("slow", slow)])
    task = asyncio.create_task(runner(call(("a", "slow", {"s": 5}), ("b", "slow", {"s": 0.1}))))
    await asyncio.sleep(0.05)
    runner.cancel(["a"])
    results = await asyncio.wait_for(task, 2)
    assert [r.id for r in results] == ["b"]


async def test_cancel_before_the_call_arrives() -> None:
    runner = ToolRunner([fake("slow", slow)])
    runner.cancel(["late"])
    assert await runner(call(("late", "slow", {}))) == []


async def test_duplicate_ids_are_answered_once() -> None:
    runs = 0

    async def counted(args: dict[str, Any]) -> dict[str, Any]:
        nonlocal runs
        runs += 1
        await asyncio.sleep(0.1)
        return {"n": runs}

    runner = ToolRunner([fake("count", counted)])
    msg = call(("x", "count", {}))
    first, second = await asyncio.gather(runner(msg), runner(msg))
    assert len(first) == 1 and second == []
    assert await runner(msg) == []  # also after it finished
    assert runs == 1 and runner.duplicates == 2


async def test_failures_become_error_answers() -> None:
    async def refuses(args: dict[str, Any]) -> dict[str, Any]:
        raise ToolFailure("bad input", exit_status=2, stderr="nope")

    runner = ToolRunner([fake("broken", broken), fake("refuses", refuses)])
    results = await runner(call(("1", "broken", {}), ("2", "refuses", {}), ("3", "missing", {})))
    by_id = {r.id: r for r in results}
    assert by_id["1"].status == "error"
    assert by_id["1"].response == {"error": "RuntimeError: the tool has a bug"}
    assert by_id["2"].response == {"error": "bad input", "exit_status": 2, "stderr": "nope"}
    assert "unknown tool 'missing'" in by_id["3"].response["error"]
    assert "broken" in by_id["3"].response["error"]  # lists what exists


async def test_odd_return_values_are_made_json_safe() -> None:
    async def odd(args: dict[str, Any]) -> Any:
        return {"when": dt.date(2026, 1, 2), "path": Path("/tmp"), "big": "x" * 200_000}

    (r,) = await ToolRunner([fake("odd", odd)])(call(("1", "odd", {})))
    assert r.response["truncated"] is True and len(r.response["output"]) == 100_000
    (r,) = await ToolRunner([fake("odd", lambda a: _ret({"d": dt.date(2026, 1, 2)}))])(
        call(("1", "odd", {}))
    )
    assert r.response == {"d": "2026-01-02"}


async def _ret(value: Any) -> Any:
    return value


async def test_confirmation_without_a_terminal_is_refused_at_once() -> None:
    ran = False

    async def danger(args: dict[str, Any]) -> dict[str, Any]:
        nonlocal ran
        ran = True
        return {}

    approver = TerminalApprover(inp=io.StringIO("y\n"), err=io.StringIO())
    runner = ToolRunner([fake("danger", danger, confirm=True)], approver)
    (r,) = await asyncio.wait_for(runner(call(("1", "danger", {}))), 1)
    assert r.status == "refused" and not ran
    assert "--yes" in r.response["error"]
    (r,) = await ToolRunner([fake("danger", danger, confirm=True)], approve_all)(
        call(("2", "danger", {}))
    )
    assert r.status == "ok" and ran


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("answer", "allowed"), [("y\n", True), ("yes\n", True), ("\n", False), ("n\n", False)]
)
async def test_terminal_question(answer: str, allowed: bool) -> None:
    err = io.StringIO()
    approver = TerminalApprover(inp=_Tty(answer), err=err)
    assert await approver("lookup", "python3 lookup.py France") is allowed
    assert "python3 lookup.py France" in err.getvalue() and "[y/N]" in err.getvalue()


async def test_ask_approver_routes_the_question_through_the_ui() -> None:
    asked: list[str] = []

    async def ask(text: str) -> str:
        asked.append(text)
        return "y"

    assert await AskApprover(ask)("lookup", "python3 lookup.py 'a\\u001b'") is True
    assert "lookup" in asked[0] and "[y/N]" in asked[0]

    async def never(text: str) -> str:
        await asyncio.sleep(10)
        return "y"

    assert await AskApprover(never, timeout_s=0.1)("t", "x") is False


async def test_unanswered_question_times_out_as_no() -> None:
    class Blocking(_Tty):
        def readline(self, *a: Any) -> str:
            time.sleep(2)
            return "y\n"

    approver = TerminalApprover(inp=Blocking(), err=io.StringIO(), timeout_s=0.2)
    assert await approver("t", "x") is False


async def test_scheduling_only_for_non_blocking_tools_on_models_that_take_it() -> None:
    tools = [fake("nb", slow, non_blocking=True, scheduling="interrupt"), fake("b", slow)]
    msg = call(("1", "nb", {"s": 0}), ("2", "b", {"s": 0}))
    results = await ToolRunner(tools, non_blocking=True)(msg)
    assert [r.scheduling for r in results] == ["INTERRUPT", None]
    results = await ToolRunner(tools, non_blocking=False)(call(("3", "nb", {"s": 0})))
    assert [r.scheduling for r in results] == [None]


def test_declarations() -> None:
    specs = [t.spec for t in builtin_tools()] + [
        ToolSpec("cmd", "a command", {"type": "object", "properties": {}}, non_blocking=True)
    ]
    (fns, search) = declare(
        specs, search=True, behavior=lookup("gemini-3.8-live").non_blocking_tools
    )
    assert search.google_search is not None
    decl = {d.name: d for d in fns.function_declarations or []}
    assert decl["cmd"].behavior == types.Behavior.NON_BLOCKING
    assert decl["calculate"].behavior == types.Behavior.BLOCKING
    params = decl["calculate"].parameters
    assert params is not None and params.required == ["expression"]
    assert decl["calculate"].parameters_json_schema is None
    (fns,) = declare(specs, behavior=lookup("gemini-3.1-flash-live-preview").non_blocking_tools)
    assert all(d.behavior is None for d in fns.function_declarations or [])
    assert declare([], search=False) == []


async def test_builtin_tools() -> None:
    runner = ToolRunner(builtin_tools())
    results = await runner(
        call(
            ("1", "get_current_time", {}),
            ("2", "get_current_time", {"timezone": "Asia/Tokyo"}),
            ("3", "get_current_time", {"timezone": "Mars/Olympus"}),
            ("4", "calculate", {"expression": "2 * (3 + 4)"}),
            ("5", "calculate", {"expression": "__import__('os')"}),
            ("6", "get_working_directory", {}),
            ("7", "get_system_info", {}),
        )
    )
    r = {x.id: x.response for x in results}
    now = dt.datetime.now().astimezone()
    assert r["1"]["date"] in (
        now.date().isoformat(),
        (now - dt.timedelta(seconds=5)).date().isoformat(),
    )
    assert r["2"]["timezone"] == "Asia/Tokyo" and r["2"]["utc_offset"] == "+09:00"
    assert "unknown timezone" in r["3"]["error"]
    assert r["4"] == {"expression": "2 * (3 + 4)", "result": 14}
    assert "error" in r["5"]
    assert r["6"]["path"] == str(Path.cwd())
    assert r["7"]["os"] and r["7"]["cpus"]
