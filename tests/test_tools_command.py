"""Command tools: exact argv (no shell, ever), limits, and errors as structured answers."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from tools_helpers import wait_gone

from voicecli.tools.base import ToolFailure, ToolStatus
from voicecli.tools.command import CommandTool, parse_command_tool

ECHO = "import json, sys; print(json.dumps(sys.argv[1:]))"

HOSTILE = [
    "; rm -rf / $(touch {marker}) | && `touch {marker}`",
    "$(touch {marker})",
    "`touch {marker}`",
    "a; touch {marker}",
    "x && touch {marker} || touch {marker}",
    "* ? [a-z] ~ $HOME ${{HOME}} 'quoted' \"dq\" \\ \n newline",
    "> {marker}",
]


def make(command: list[str], params: dict[str, Any] | None = None, **over: Any) -> CommandTool:
    raw: dict[str, Any] = {
        "name": "t",
        "description": "test tool",
        "command": command,
        "parameters": {"x": {"type": "string"}} if params is None else params,
        "confirm": False,
        **over,
    }
    return CommandTool(parse_command_tool(raw, 0))


@pytest.mark.parametrize("template", HOSTILE)
async def test_hostile_arguments_reach_the_program_literally(template: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    value = template.format(marker=marker)
    tool = make([sys.executable, "-c", ECHO, "{x}"], cwd=str(tmp_path))
    result = await tool.call({"x": value})
    assert result == {"output": [value]}
    assert not marker.exists()
    assert _files(tmp_path) == []


async def test_placeholder_inside_an_element_stays_one_element() -> None:
    tool = make([sys.executable, "-c", ECHO, "--name={x}", "{x}.txt", "{{x}}"])
    result = await tool.call({"x": "a b  c"})
    assert result["output"] == ["--name=a b  c", "a b  c.txt", "{x}"]


async def test_only_declared_names_are_placeholders_other_braces_are_literal() -> None:
    lookup = "import sys; print({'France': 'Paris'}[sys.argv[1]])"
    tool = make(["python3", "-c", lookup, "{country}"], params={"country": {"type": "string"}})
    assert tool.argv({"country": "France"}) == ["python3", "-c", lookup, "France"]
    assert (await tool.call({"country": "France"}))["output"] == "Paris"
    literal = [
        "{print $1}",  # awk
        ".items[] | {name, id}",  # jq
        "{{.Names}}",  # docker --format
        "{",
        "}{",
        "{y}",  # not a declared parameter
        "{{y}}",
    ]
    tool = make([sys.executable, "-c", ECHO, *literal, "{{x}}", "<{x}>"])
    out = (await tool.call({"x": "v"}))["output"]
    assert out == [*literal, "{x}", "<v>"]


async def test_leading_dash_is_refused_unless_allowed() -> None:
    tool = make([sys.executable, "-c", ECHO, "{x}"])
    with pytest.raises(ToolFailure, match="starts with '-'") as info:
        await tool.call({"x": "--help"})
    assert info.value.status == ToolStatus.REFUSED
    # after a literal "--" it cannot be an option
    safe = make([sys.executable, "-c", ECHO, "--", "{x}"])
    assert (await safe.call({"x": "--help"}))["output"] == ["--", "--help"]
    allowed = make([sys.executable, "-c", ECHO, "{x}"], allow_options=True)
    assert (await allowed.call({"x": "-v"}))["output"] == ["-v"]
    # a prefix in the same element keeps it harmless
    prefixed = make([sys.executable, "-c", ECHO, "--q={x}"])
    assert (await prefixed.call({"x": "-1"}))["output"] == ["--q=-1"]


async def test_typed_parameters() -> None:
    params = {
        "n": {"type": "integer"},
        "f": {"type": "number"},
        "b": {"type": "boolean"},
        "c": {"type": "string", "enum": ["red", "blue"]},
    }
    tool = make([sys.executable, "-c", ECHO, "{n}", "{f}", "{b}", "{c}"], params)
    out = await tool.call({"n": 3.0, "f": "2.5", "b": True, "c": "red"})
    assert out["output"] == ["3", "2.5", "true", "red"]
    for bad, msg in [
        ({"n": 1.5, "f": 1, "b": True, "c": "red"}, "'n' must be a whole number"),
        ({"n": 1, "f": "x", "b": True, "c": "red"}, "'f' must be a number"),
        ({"n": 1, "f": 1, "b": "maybe", "c": "red"}, "'b' must be true or false"),
        ({"n": 1, "f": 1, "b": True, "c": "green"}, "'c' must be one of red, blue"),
        ({"n": 1, "f": 1, "b": True}, "missing argument 'c'"),
        ({"n": 1, "f": float("nan"), "b": True, "c": "red"}, "finite"),
    ]:
        with pytest.raises(ToolFailure, match=msg):
            await tool.call(bad)


async def test_nul_and_huge_values_are_refused() -> None:
    tool = make([sys.executable, "-c", ECHO, "{x}"])
    with pytest.raises(ToolFailure, match="NUL"):
        await tool.call({"x": "a\x00b"})
    with pytest.raises(ToolFailure, match="longer than"):
        await tool.call({"x": "a" * 10000})


async def test_failure_is_structured() -> None:
    code = "import sys; print('partial'); sys.stderr.write('boom: bad input\\n'); sys.exit(3)"
    tool = make([sys.executable, "-c", code], params={})
    with pytest.raises(ToolFailure) as info:
        await tool.call({})
    assert info.value.response() == {
        "error": "the command failed with exit status 3",
        "exit_status": 3,
        "stderr": "boom: bad input",
        "output": "partial",
    }


async def test_missing_program() -> None:
    tool = make(["/nonexistent/program", "{x}"])
    with pytest.raises(ToolFailure, match="cannot run '/nonexistent/program'") as info:
        await tool.call({"x": "a"})
    assert info.value.response()["exit_status"] is None


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


SPAWNER = (
    "import subprocess, sys, time\n"
    "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
    "open(sys.argv[1], 'w').write(str(p.pid))\n"
    "print('started', flush=True)\n"
    "time.sleep(60)\n"
)


async def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    tool = make([sys.executable, "-c", SPAWNER, str(pidfile)], params={}, timeout=1.0)
    t0 = time.monotonic()
    with pytest.raises(ToolFailure) as info:
        await tool.call({})
    assert time.monotonic() - t0 < 5
    assert info.value.status == ToolStatus.TIMEOUT
    assert info.value.response()["exit_status"] is None
    assert "timed out after 1 s" in info.value.error
    assert wait_gone(int(pidfile.read_text())), "grandchild survived the timeout"


async def test_cancelled_call_kills_its_processes(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    tool = make([sys.executable, "-c", SPAWNER, str(pidfile)], params={}, timeout=60)
    task = asyncio.create_task(tool.call({}))
    for _ in range(200):
        if pidfile.exists() and pidfile.read_text():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert wait_gone(int(pidfile.read_text()))


async def test_output_is_capped_and_json_is_parsed() -> None:
    big = make([sys.executable, "-c", "print('x' * 1_000_000)"], params={}, max_output=1000)
    out = await big.call({})
    assert out == {"output": "x" * 1000, "truncated": True}
    js = make([sys.executable, "-c", 'print(\'{"capital": "Paris"}\')'], params={})
    assert await js.call({}) == {"output": {"capital": "Paris"}}


async def test_stdin_is_not_inherited() -> None:
    tool = make([sys.executable, "-c", "import sys; print(repr(sys.stdin.read()))"], params={})
    assert (await tool.call({}))["output"] == "''"


def test_preview_shows_exact_argv_with_escapes() -> None:
    tool = make(["prog", "{x}"])
    assert tool.preview({"x": "a b"}) == "prog 'a b'"
    shown = tool.preview({"x": "ok\x1b[2Kfake prompt"})
    assert "\x1b" not in shown and "\\u001b" in shown
    assert json.dumps(tool.argv({"x": "a b"})) == '["prog", "a b"]'
