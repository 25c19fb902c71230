"""Which tools a conversation gets: built-ins, ``[[tools]]`` commands, MCP servers, search.

``check_config`` validates the config tables (at load, before anything connects);
``open_tools`` starts the MCP servers, lists their tools and yields a ``ToolSet``: the
declarations for the session setup and the handler for the conversation. Names must be
unique across all sources; a clash is a ``ToolConfigError`` naming both.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from voicecli.config import Settings
from voicecli.errors import ToolConfigError
from voicecli.live.capabilities import ModelCaps
from voicecli.live.declare import SchemaError, declare, to_parameters
from voicecli.tools.base import Tool
from voicecli.tools.builtin import builtin_tools
from voicecli.tools.command import CommandConfig, CommandTool, parse_command_tools
from voicecli.tools.confirm import Approver, refuse_all
from voicecli.tools.mcp import McpServerConfig, parse_mcp_servers, start_server
from voicecli.tools.runner import ToolRunner


@dataclass(frozen=True)
class ToolConfig:
    commands: list[CommandConfig]
    mcp_servers: list[McpServerConfig]


def check_config(settings: Settings) -> ToolConfig:
    """Parse ``[[tools]]`` and ``[[mcp_servers]]``; ToolConfigError naming entry and field."""
    config = ToolConfig(
        parse_command_tools(settings.tables.get("tools")),
        parse_mcp_servers(settings.tables.get("mcp_servers")),
    )
    unique([CommandTool(c) for c in config.commands])
    return config


def unique(tools: Sequence[Tool]) -> list[Tool]:
    """The tools in order; ToolConfigError if two share a name."""
    by_name: dict[str, Tool] = {}
    for tool in tools:
        other = by_name.get(tool.spec.name)
        if other is not None:
            raise ToolConfigError(
                f"two tools are named {tool.spec.name!r} ({other.spec.source} and "
                f"{tool.spec.source})",
                "rename one in the config, or set a prefix for the MCP server",
            )
        by_name[tool.spec.name] = tool
    return list(by_name.values())


@dataclass
class ToolSet:
    tools: list[Tool]
    declarations: list[Any]  # google-genai ``types.Tool`` objects for the setup
    handler: ToolRunner
    search: bool = False
    left_out: list[str] = field(default_factory=list)  # "name (why)": MCP tools not declared

    def left_out_notice(self) -> str | None:
        """The one start-up line naming the MCP tools that could not be declared."""
        if not self.left_out:
            return None
        return "MCP tools left out (their arguments cannot be declared to Live): " + "; ".join(
            self.left_out
        )

    @property
    def names(self) -> list[str]:
        return [t.spec.name for t in self.tools]

    def describe(self) -> str:
        parts = []
        if self.tools:
            parts.append(f"tools: {', '.join(self.names)}")
        if self.search:
            parts.append("Google Search grounding on")
        return "; ".join(parts) or "no tools"


@contextlib.asynccontextmanager
async def open_tools(
    settings: Settings,
    caps: ModelCaps,
    approver: Approver = refuse_all,
    *,
    extra: Sequence[Tool] = (),
) -> AsyncIterator[ToolSet]:
    """The conversation's tools, ready to declare and call; MCP servers stop on exit."""
    config = check_config(settings)
    async with contextlib.AsyncExitStack() as stack:
        tools: list[Tool] = []
        if settings.tools_enabled:
            if settings.builtin_tools:
                tools.extend(builtin_tools())
            tools.extend(CommandTool(c) for c in config.commands)
            for server in config.mcp_servers:
                tools.extend(await start_server(server, stack))
            tools.extend(extra)
        tools, left_out = declarable(unique(tools))
        behavior = caps.non_blocking_tools
        yield ToolSet(
            tools=tools,
            declarations=declare(
                [t.spec for t in tools], search=settings.search, behavior=behavior
            ),
            handler=ToolRunner(tools, approver, non_blocking=behavior),
            search=settings.search,
            left_out=left_out,
        )


def declarable(tools: Sequence[Tool]) -> tuple[list[Tool], list[str]]:
    """The tools whose arguments Live ``parameters`` can declare, and "name (why)" for the
    MCP tools that are left out; our own tools (built-in, ``[[tools]]``) must convert."""
    kept: list[Tool] = []
    left_out: list[str] = []
    for tool in tools:
        try:
            to_parameters(tool.spec.parameters)
        except SchemaError as e:
            if not tool.spec.source.startswith("mcp:"):
                raise ToolConfigError(
                    f"tool {tool.spec.name!r} ({tool.spec.source}): its parameters cannot be "
                    f"declared ({e})",
                    "simplify its parameters in the config",
                ) from None
            left_out.append(f"{tool.spec.name} ({e})")
            continue
        kept.append(tool)
    return kept, left_out
