"""MCP servers over stdio: a tiny server written here (with the mcp package's own server API),
started by voicecli, its tools declared and called through a simulator scenario."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest
from tools_helpers import records, scenario, settings_for, utterances

from voicecli.errors import ToolConfigError
from voicecli.session.engine import TalkRequest, run_talk
from voicecli.tools.mcp import McpServerConfig, start_server

pytest.importorskip("mcp")

SERVER = '''
import sys
try:
    from mcp.server.mcpserver import MCPServer as Server  # mcp 2.x
except ImportError:
    from mcp.server.fastmcp import FastMCP as Server  # mcp 1.x

server = Server("tiny")


@server.tool()
def shout(text: str) -> str:
    """Return the text in capital letters."""
    return text.upper()


@server.tool()
def fail(reason: str) -> str:
    """Always fails."""
    raise ValueError("failed on purpose: " + reason)


print("tiny server starting", file=sys.stderr)
server.run()
'''


@pytest.fixture
def server_script(tmp_path: Path) -> Path:
    path = tmp_path / "tiny_server.py"
    path.write_text(SERVER)
    return path


async def test_mcp_tool_called_through_a_scenario(sim_factory, tmp_path, server_script) -> None:
    sim = sim_factory(
        scenario(
            {
                "heard": "shout hello",
                "tool_calls": [{"name": "tiny_shout", "args": {"text": "hello"}}],
                "reply": "{result}",
            },
            {
                "heard": "now fail",
                "tool_calls": [{"name": "tiny_fail", "args": {"reason": "test"}}],
                "reply": "{result.error}",
            },
        )
    )
    servers = [{"name": "tiny", "command": [sys.executable, str(server_script)], "confirm": False}]
    s = settings_for(sim, mcp_servers=servers, builtin_tools=False)
    req = TalkRequest(
        input=utterances(tmp_path / "in.wav", 2),
        transcript=tmp_path / "t.jsonl",
        fast=True,
        with_tools=True,
    )
    summary = await run_talk(s, req)
    rec = sim.last_session
    decls = {d["name"]: d for t in rec.setup["tools"] for d in t.get("functionDeclarations", [])}
    assert set(decls) == {"tiny_shout", "tiny_fail"}
    assert decls["tiny_shout"]["description"] == "Return the text in capital letters."
    shout_decl = decls["tiny_shout"]
    # declared with parameters (the OpenAPI subset), never parametersJsonSchema
    assert "parametersJsonSchema" not in shout_decl and "parameters_json_schema" not in shout_decl
    schema = shout_decl["parameters"]
    assert schema["properties"]["text"]["type"] == "STRING" and schema["required"] == ["text"]
    assert decls["tiny_shout"]["behavior"] == "NON_BLOCKING"
    shout, fail = rec.tool_responses
    assert "HELLO" in str(shout["response"]["output"])
    assert "fail" in fail["response"]["error"]  # mcp 2 hides the exception's text
    assert summary.spoken == 2
    statuses = [
        r["results"][0]["status"]
        for r in records(tmp_path / "t.jsonl")
        if r["type"] == "tool_result"
    ]
    assert statuses == ["ok", "error"]


SCHEMAS = """
from pydantic import BaseModel
try:
    from mcp.server.mcpserver import MCPServer as Server  # mcp 2.x
except ImportError:
    from mcp.server.fastmcp import FastMCP as Server  # mcp 1.x

server = Server("tiny")


class Place(BaseModel):
    city: str
    zone: str | None = None


class Node(BaseModel):
    name: str
    children: list["Node"] = []


@server.tool()
def where(place: Place) -> str:
    \"\"\"Say where.\"\"\"
    return "in " + place.city


@server.tool()
def tree(root: Node) -> str:
    \"\"\"A recursive argument.\"\"\"
    return root.name


server.run()
"""


class Notices:
    def __init__(self) -> None:
        self.texts: list[tuple[str, str]] = []

    def on_event(self, event: object, t: float) -> None:
        if type(event).__name__ == "Notice":
            self.texts.append((event.text, event.level))  # type: ignore[attr-defined]


async def test_mcp_schemas_converted_or_left_out_with_one_notice(sim_factory, tmp_path) -> None:
    """Issue 27: a $ref with a nullable field is inlined and the call gets its arguments; a
    recursive schema cannot be declared: that tool is left out, said once at start-up."""
    script = tmp_path / "schemas.py"
    script.write_text(SCHEMAS)
    sim = sim_factory(
        scenario(
            {
                "heard": "where",
                "tool_calls": [{"name": "tiny_where", "args": {"place": {"city": "Tokyo"}}}],
                "reply": "{result}",
            }
        )
    )
    servers = [{"name": "tiny", "command": [sys.executable, str(script)], "confirm": False}]
    s = settings_for(sim, mcp_servers=servers, builtin_tools=False)
    notices = Notices()
    req = TalkRequest(
        input=utterances(tmp_path / "in.wav", 1), fast=True, with_tools=True, observers=[notices]
    )
    summary = await run_talk(s, req)
    rec = sim.last_session
    decls = {d["name"]: d for t in rec.setup["tools"] for d in t.get("functionDeclarations", [])}
    assert set(decls) == {"tiny_where"}
    place = decls["tiny_where"]["parameters"]["properties"]["place"]
    assert place["properties"]["zone"]["nullable"] is True and place["required"] == ["city"]
    assert "Tokyo" in str(rec.tool_responses[0]["response"]) and summary.spoken == 1
    left = [(text, level) for text, level in notices.texts if "left out" in text]
    assert len(left) == 1 and left[0][1] == "warning"
    assert "tiny_tree" in left[0][0] and "refers to itself" in left[0][0]


async def test_server_that_cannot_start_is_a_tool_config_error(tmp_path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import sys; print('cannot open database', file=sys.stderr); sys.exit(1)")
    config = McpServerConfig("broken", [sys.executable, str(bad)], startup_timeout_s=10)
    async with contextlib.AsyncExitStack() as stack:
        with pytest.raises(ToolConfigError, match="MCP server 'broken'") as info:
            await start_server(config, stack)
    assert "cannot open database" in info.value.message


async def test_missing_program_is_a_tool_config_error() -> None:
    config = McpServerConfig("gone", ["/nonexistent/mcp-server"], startup_timeout_s=5)
    async with contextlib.AsyncExitStack() as stack:
        with pytest.raises(ToolConfigError, match="MCP server 'gone'"):
            await start_server(config, stack)


async def test_mcp_package_missing_is_explained(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "mcp", None)
    config = McpServerConfig("x", ["x"])
    async with contextlib.AsyncExitStack() as stack:
        with pytest.raises(ToolConfigError, match="mcp package is not installed") as info:
            await start_server(config, stack)
    assert "voicecli[mcp]" in (info.value.hint or "")
