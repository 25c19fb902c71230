"""Tool calls through the whole stack: scenario -> simulator -> real SDK -> voicecli tools ->
toolResponse, with the transcript and what the server received checked exactly."""

from __future__ import annotations

import asyncio
import io
import json
import time
from pathlib import Path

from tools_helpers import (
    ECHO_ARGV,
    SLEEPER,
    command_tool,
    records,
    scenario,
    settings_for,
    utterances,
    wait_gone,
)

from voicecli.session.engine import TalkRequest, run_talk
from voicecli.tools.confirm import TerminalApprover, approve_all


def talk_request(tmp_path: Path, turns: int, **kw) -> TalkRequest:
    return TalkRequest(
        input=utterances(tmp_path / "in.wav", turns),
        transcript=tmp_path / "t.jsonl",
        fast=True,
        with_tools=True,
        **kw,
    )


def function_declarations(setup: dict) -> dict[str, dict]:
    out = {}
    for tool in setup.get("tools", []):
        for d in tool.get("functionDeclarations", []):
            out[d["name"]] = d
    return out


async def test_single_builtin_call(sim_factory, tmp_path) -> None:
    sim = sim_factory(
        scenario(
            {
                "heard": "what is six times seven",
                "tool_calls": [{"name": "calculate", "args": {"expression": "6 * 7"}}],
                "reply": "It is {result.result}",
            }
        )
    )
    summary = await run_talk(settings_for(sim), talk_request(tmp_path, 1))
    rec = sim.last_session
    assert summary.spoken == 1
    assert rec.tool_responses == [
        {
            "id": rec.tool_calls[0]["id"],
            "name": "calculate",
            "response": {"expression": "6 * 7", "result": 42},
        }
    ]
    decls = function_declarations(rec.setup)
    assert {"get_current_time", "calculate", "get_working_directory", "get_system_info"} <= set(
        decls
    )
    assert decls["calculate"]["behavior"] == "BLOCKING"  # gemini-3.8-live takes behavior
    log = records(tmp_path / "t.jsonl")
    (result,) = [r for r in log if r["type"] == "tool_result"]
    assert result["results"][0]["status"] == "ok"
    assert result["results"][0]["duration_s"] >= 0
    assert [r["model_text"] for r in log if r["type"] == "turn"] == ["It is 42"]
    assert rec.warnings == []


async def test_parallel_calls_are_answered_together(sim_factory, tmp_path) -> None:
    sim = sim_factory(
        scenario(
            {
                "tool_calls": [
                    {"name": "calculate", "args": {"expression": "1 + 1"}, "id": "c1"},
                    {"name": "get_current_time", "args": {"timezone": "UTC"}, "id": "c2"},
                    {"name": "no_such_tool", "args": {}, "id": "c3"},
                ],
                "reply": "done {result.result}",
            }
        )
    )
    await run_talk(settings_for(sim), talk_request(tmp_path, 1))
    rec = sim.last_session
    by_id = {r["id"]: r for r in rec.tool_responses}
    assert set(by_id) == {"c1", "c2", "c3"}
    assert by_id["c1"]["response"]["result"] == 2
    assert by_id["c2"]["response"]["timezone"] == "UTC"
    assert "unknown tool" in by_id["c3"]["response"]["error"]
    assert rec.messages["tool_response"] == 1  # one message with all three
    assert rec.turns[0].reply_text == "done 2"


async def test_cancelled_call_is_stopped_and_not_answered(sim_factory, tmp_path) -> None:
    pidfile = tmp_path / "child.pid"
    tools = [command_tool("slow_job", SLEEPER, str(pidfile), timeout=60)]
    sim = sim_factory(
        scenario(
            {"tool_calls": [{"name": "slow_job", "args": {}}], "cancel_tool_after_ms": 800},
            {"heard": "still there?", "reply": "yes"},
        )
    )
    summary = await run_talk(settings_for(sim, tools), talk_request(tmp_path, 2))
    rec = sim.last_session
    assert rec.turns[0].tool_cancelled
    assert rec.tool_responses == []  # nothing sent for the cancelled call
    gone = await asyncio.to_thread(wait_gone, int(pidfile.read_text()))
    assert gone, "the cancelled command's process group survived"
    log = records(tmp_path / "t.jsonl")
    assert [r["ids"] for r in log if r["type"] == "tool_cancel"] == [[rec.tool_calls[0]["id"]]]
    assert not [r for r in log if r["type"] == "tool_result"]
    assert summary.spoken == 1  # the session went on


async def test_duplicate_call_runs_once(sim_factory, tmp_path) -> None:
    out = tmp_path / "runs.txt"
    counter = f"open({str(out)!r}, 'a').write('run\\n'); print('ok')"
    tools = [command_tool("count", counter)]
    sim = sim_factory(
        scenario(
            {
                "tool_calls": [{"name": "count", "args": {}}],
                "duplicate_tool_call": True,
                "reply": "{result}",
            }
        )
    )
    await run_talk(settings_for(sim, tools), talk_request(tmp_path, 1))
    rec = sim.last_session
    assert rec.sent["toolCall"] == 2
    assert len(rec.tool_responses) == 1 and rec.warnings == []
    assert out.read_text() == "run\n"


async def test_failing_command_gives_structured_error_and_session_goes_on(
    sim_factory, tmp_path
) -> None:
    script = "import sys; sys.stderr.write('no such country'); sys.exit(3)"
    tools = [command_tool("lookup", script, "{country}")]
    sim = sim_factory(
        scenario(
            {
                "tool_calls": [{"name": "lookup", "args": {"country": "Atlantis"}}],
                "reply": "sorry: {result.error}",
            },
            {"heard": "never mind", "reply": "ok"},
        )
    )
    summary = await run_talk(settings_for(sim, tools), talk_request(tmp_path, 2))
    (resp,) = sim.last_session.tool_responses
    assert resp["response"] == {
        "error": "the command failed with exit status 3",
        "exit_status": 3,
        "stderr": "no such country",
    }
    assert summary.spoken == 2
    log = records(tmp_path / "t.jsonl")
    (result,) = [r for r in log if r["type"] == "tool_result"]
    assert result["results"][0]["status"] == "error"


async def test_slow_command_times_out(sim_factory, tmp_path) -> None:
    pidfile = tmp_path / "child.pid"
    tools = [command_tool("slow_job", SLEEPER, str(pidfile), timeout=1)]
    sim = sim_factory(
        scenario({"tool_calls": [{"name": "slow_job", "args": {}}], "reply": "{result.error}"})
    )
    t0 = time.monotonic()
    await run_talk(settings_for(sim, tools), talk_request(tmp_path, 1))
    assert time.monotonic() - t0 < 8
    (resp,) = sim.last_session.tool_responses
    assert resp["response"]["error"] == "the command timed out after 1 s and was stopped"
    assert resp["response"]["exit_status"] is None
    assert await asyncio.to_thread(wait_gone, int(pidfile.read_text()))
    (result,) = [r for r in records(tmp_path / "t.jsonl") if r["type"] == "tool_result"]
    assert result["results"][0]["status"] == "timeout"


HOSTILE = "; rm -rf / $(touch {m}) | && `touch {m}` > {m} * ~ $HOME \\ 'q' \"dq\""


async def test_injection_runs_nothing_extra(sim_factory, tmp_path, monkeypatch) -> None:
    marker = tmp_path / "pwned"
    argv_out = tmp_path / "argv.json"
    monkeypatch.setenv("ARGV_OUT", str(argv_out))
    monkeypatch.chdir(tmp_path)
    value = HOSTILE.format(m=marker)
    tools = [command_tool("echo_argv", ECHO_ARGV, "{text}", "--", "x{text}", env=["ARGV_OUT"])]
    sim = sim_factory(
        scenario({"tool_calls": [{"name": "echo_argv", "args": {"text": value}}], "reply": "ok"})
    )
    await run_talk(settings_for(sim, tools), talk_request(tmp_path, 1))
    assert json.loads(argv_out.read_text()) == [value, "--", "x" + value]
    assert not marker.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["argv.json", "in.wav", "t.jsonl"]
    (resp,) = sim.last_session.tool_responses
    assert resp["response"] == {"output": [value, "--", "x" + value]}


async def test_confirmation_refused_without_terminal(sim_factory, tmp_path, monkeypatch) -> None:
    argv_out = tmp_path / "argv.json"
    monkeypatch.setenv("ARGV_OUT", str(argv_out))
    tools = [command_tool("echo_argv", ECHO_ARGV, "{text}", confirm=True, env=["ARGV_OUT"])]
    turn = {"tool_calls": [{"name": "echo_argv", "args": {"text": "hi"}}], "reply": "{result}"}
    sim = sim_factory(scenario(turn))
    no_tty = TerminalApprover(inp=io.StringIO("y\n"), err=io.StringIO())
    t0 = time.monotonic()
    await run_talk(settings_for(sim, tools), talk_request(tmp_path, 1, approver=no_tty))
    assert time.monotonic() - t0 < 8
    assert not argv_out.exists()
    (resp,) = sim.last_session.tool_responses
    assert "--yes" in resp["response"]["error"]
    (result,) = [r for r in records(tmp_path / "t.jsonl") if r["type"] == "tool_result"]
    assert result["results"][0]["status"] == "refused"

    # --yes approves it
    sim2 = sim_factory(scenario(turn))
    await run_talk(settings_for(sim2, tools), talk_request(tmp_path, 1, approver=approve_all))
    assert json.loads(argv_out.read_text()) == ["hi"]


async def test_no_tools_and_search(sim_factory, tmp_path) -> None:
    sim = sim_factory(scenario({"reply": "hi"}))
    s = settings_for(sim, tools_enabled=False, search=True)
    await run_talk(s, talk_request(tmp_path, 1))
    assert sim.last_session.setup["tools"] == [{"googleSearch": {}}]


async def test_non_blocking_tools_get_scheduling(sim_factory, tmp_path) -> None:
    tools = [command_tool("job", "print('done')", scheduling="interrupt")]
    sim = sim_factory(scenario({"tool_calls": [{"name": "job", "args": {}}], "reply": "ok"}))
    await run_talk(settings_for(sim, tools, builtin_tools=False), talk_request(tmp_path, 1))
    rec = sim.last_session
    assert function_declarations(rec.setup)["job"]["behavior"] == "NON_BLOCKING"
    assert set(function_declarations(rec.setup)) == {"job"}
    (resp,) = rec.tool_responses
    assert resp["scheduling"] == "INTERRUPT" and resp["response"] == {"output": "done"}


async def test_model_without_non_blocking_gets_neither(sim_factory, tmp_path) -> None:
    tools = [command_tool("job", "print('done')")]
    sim = sim_factory(scenario({"tool_calls": [{"name": "job", "args": {}}], "reply": "ok"}))
    s = settings_for(sim, tools, model="gemini-3.1-flash-live-preview")
    await run_talk(s, talk_request(tmp_path, 1))
    rec = sim.last_session
    assert "behavior" not in function_declarations(rec.setup)["job"]
    assert "scheduling" not in rec.tool_responses[0]
