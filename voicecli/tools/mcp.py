"""MCP servers from ``[[mcp_servers]]``: started over stdio, their tools offered to the model.

::

    [[mcp_servers]]
    name = "notes"
    command = ["python3", "notes_server.py"]

Needs the optional ``mcp`` package (``pip install 'voicecli[mcp]'``), imported only when a
server is configured. Each server's tools are listed once at start and declared as
``<prefix>_<tool>`` (the prefix is the server name unless set; ``prefix = ""`` keeps the
names as they are). The servers run for the whole conversation and stop with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from voicecli.child_env import child_env
from voicecli.errors import ToolConfigError
from voicecli.safe_text import safe_value
from voicecli.tools.base import NAME_RE, ToolFailure, ToolSpec, ToolStatus, visible
from voicecli.tools.tables import Entry, entries

_FIELDS = {
    "name",
    "command",
    "env",
    "cwd",
    "prefix",
    "tools",
    "confirm",
    "timeout",
    "startup_timeout",
    "non_blocking",
    "scheduling",
}
INSTALL_HINT = "install the extra: pip install 'voicecli[mcp]'"


@dataclass(frozen=True)
class McpServerConfig:
    name: str
    argv: list[str]
    env: dict[str, str | None] | None = None  # None: pass the variable through
    cwd: str | None = None
    prefix: str = ""
    only: list[str] | None = None  # offer only these tools of the server
    confirm: bool = True
    timeout_s: float = 30.0
    startup_timeout_s: float = 20.0
    non_blocking: bool = True
    scheduling: str = "when_idle"


def parse_mcp_server(raw: dict[str, Any], index: int) -> McpServerConfig:
    entry = Entry(raw, "mcp_servers", index, _FIELDS)
    name = entry.name()
    prefix = entry.text("prefix", default=name) or ""
    if prefix and not NAME_RE.match(prefix):
        raise entry.fail("prefix", "must be letters, digits, _ . : - and start with a letter")
    cwd = entry.text("cwd")
    return McpServerConfig(
        name=name,
        argv=entry.argv(),
        env=entry.env(),
        cwd=str(Path(cwd).expanduser()) if cwd else None,
        prefix=prefix,
        only=entry.names("tools"),
        confirm=entry.flag("confirm", True),
        timeout_s=entry.number("timeout", 30.0, 0, 3600),
        startup_timeout_s=entry.number("startup_timeout", 20.0, 0, 600),
        non_blocking=entry.flag("non_blocking", True),
        scheduling=entry.scheduling(),
    )


def parse_mcp_servers(raw: Any) -> list[McpServerConfig]:
    servers = [parse_mcp_server(e, i) for i, e in enumerate(entries(raw, "mcp_servers"))]
    seen: set[str] = set()
    for s in servers:
        if s.name in seen:
            raise ToolConfigError(f"[[mcp_servers]] {s.name!r}: name is used twice")
        seen.add(s.name)
    return servers


def _import_mcp() -> Any:
    try:
        import mcp
        from mcp.client.stdio import stdio_client
    except ImportError:
        raise ToolConfigError(
            "MCP servers are configured but the mcp package is not installed", INSTALL_HINT
        ) from None
    return mcp, stdio_client


def tool_name(prefix: str, remote: str) -> str:
    """The declared name: prefixed, with characters the API refuses replaced by ``_``."""
    name = re.sub(r"[^A-Za-z0-9_.:-]", "_", f"{prefix}_{remote}" if prefix else remote)
    if not re.match(r"[A-Za-z_]", name):
        name = "_" + name
    return name[:64]


def _schema(tool: Any) -> dict[str, Any] | None:
    schema = getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None)
    if not isinstance(schema, dict) or not schema.get("properties"):
        return None
    return {k: v for k, v in schema.items() if k != "$schema"}


def _field(obj: Any, snake: str, camel: str) -> Any:
    value = getattr(obj, snake, None)
    return getattr(obj, camel, None) if value is None else value


def result_to_response(result: Any) -> dict[str, Any]:
    """An MCP CallToolResult as the answer to the model (ToolFailure when it is an error)."""
    texts: list[str] = []
    for block in getattr(result, "content", None) or []:
        kind = getattr(block, "type", "")
        if kind == "text":
            texts.append(str(block.text))
        else:
            mime = _field(block, "mime_type", "mimeType")
            texts.append(f"[{kind} content{', ' + mime if mime else ''} omitted]")
    text = "\n".join(texts).strip()
    if _field(result, "is_error", "isError"):
        raise ToolFailure(text or "the MCP tool reported an error")
    structured = _field(result, "structured_content", "structuredContent")
    if structured is not None:
        return {"output": structured}
    return {"output": text}


def _leaf(e: BaseException) -> BaseException:
    """The first real error inside (nested) exception groups from anyio task groups."""
    while isinstance(e, BaseExceptionGroup) and e.exceptions:
        e = e.exceptions[0]
    return e


class McpTool:
    def __init__(self, spec: ToolSpec, server: str, remote: str, session: Any) -> None:
        self.spec = spec
        self.server = server
        self.remote = remote
        self.session = session

    def preview(self, args: dict[str, Any]) -> str:
        shown = json.dumps(args, ensure_ascii=False, sort_keys=True)
        return visible(f"MCP server {self.server}: {self.remote} {shown}")

    async def call(self, args: dict[str, Any]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.spec.timeout_s):
                result = await self.session.call_tool(self.remote, args)
        except TimeoutError:
            raise ToolFailure(
                f"the MCP tool did not answer within {self.spec.timeout_s:g} s",
                ToolStatus.TIMEOUT,
            ) from None
        except ToolFailure:
            raise
        except Exception as e:  # server gone, protocol error: an error answer, not a crash
            raise ToolFailure(f"MCP server {self.server!r} failed: {_leaf(e)}") from None
        return result_to_response(result)


class _Collect(logging.Handler):
    """The MCP library's complaints about lines it could not parse, as short excerpts."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        exc = record.exc_info[1] if record.exc_info else None
        errors = getattr(exc, "errors", None)
        if "parse" not in record.getMessage().lower() or len(self.lines) >= 3:
            return
        text = None
        with contextlib.suppress(Exception):
            text = str(errors()[0].get("input")) if callable(errors) else None
        self.lines.append(repr(_short(text)) if text else "(unreadable)")


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 1]}… ({len(text)} characters)"


async def start_server(config: McpServerConfig, stack: contextlib.AsyncExitStack) -> list[McpTool]:
    """Start one server (closed by ``stack``) and wrap its tools; ToolConfigError on failure."""
    mcp, stdio_client = _import_mcp()
    errlog = stack.enter_context(  # the server's stderr, quoted if it fails to start
        tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115
    )
    params = mcp.StdioServerParameters(
        command=config.argv[0],
        args=config.argv[1:],
        env=child_env(config.env),
        cwd=config.cwd,
    )
    garbled = _Collect()
    library_log = logging.getLogger("mcp")
    library_log.addHandler(garbled)
    try:
        async with asyncio.timeout(config.startup_timeout_s):
            read, write = await stack.enter_async_context(stdio_client(params, errlog=errlog))
            session = await stack.enter_async_context(mcp.ClientSession(read, write))
            await session.initialize()
            listed = await session.list_tools()
    except Exception as e:
        leaf = _leaf(e)
        why = "did not answer in time" if isinstance(leaf, TimeoutError) else f"failed: {leaf}"
        if garbled.lines:
            why = f"wrote something that is not MCP (JSON-RPC) on its stdout: {garbled.lines[0]}"
        errlog.seek(0)
        tail = " ".join(safe_value(errlog.read()[-300:]).split())  # no escapes, no key
        raise ToolConfigError(
            f"MCP server {config.name!r} ({_short(' '.join(config.argv))}) {why}"
            + (f"; its stderr: {_short(tail)}" if tail else ""),
            "check the [[mcp_servers]] command in the config, or start it by hand to see",
        ) from None
    finally:
        library_log.removeHandler(garbled)
    tools = []
    for t in listed.tools:
        if config.only is not None and t.name not in config.only:
            continue
        spec = ToolSpec(
            name=tool_name(config.prefix, t.name),
            description=(t.description or t.name).strip(),
            parameters=_schema(t),
            source=f"mcp:{config.name}",
            confirm=config.confirm,
            non_blocking=config.non_blocking,
            scheduling=config.scheduling,
            timeout_s=config.timeout_s,
        )
        tools.append(McpTool(spec, config.name, t.name, session))
    return tools
