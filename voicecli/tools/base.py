"""What every tool is: a spec the model sees, and an async ``call`` that answers it.

Built-in, command and MCP tools differ only in how ``call`` works. A tool returns a JSON-ready
dict on success and raises ``ToolFailure`` for an answer that is an error (bad arguments, a
command that failed, a timeout); the runner turns both into one ``FunctionResult``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol

from voicecli.safe_text import visible

__all__ = ["visible"]  # used by the tools to show argv and names

# Function names the Live API takes: a letter or underscore, then letters, digits, _ . : -
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")
SCHEDULINGS = ("when_idle", "interrupt", "silent")


class ToolStatus:
    OK = "ok"
    ERROR = "error"
    REFUSED = "refused"  # not confirmed by the user, or no terminal to ask on
    TIMEOUT = "timeout"


@dataclass(frozen=True)
class ToolSpec:
    """How a tool is declared to the model, and how voicecli treats its calls."""

    name: str
    description: str
    parameters: dict[str, Any] | None = None  # JSON Schema of an object, None: no arguments
    source: str = "builtin"  # builtin | command | mcp:<server>
    confirm: bool = False  # ask the user before each call
    non_blocking: bool = False  # the model keeps talking while the call runs (if supported)
    scheduling: str = "when_idle"  # for non-blocking results: when_idle | interrupt | silent
    timeout_s: float = 30.0


class ToolFailure(Exception):
    """A call that ends in an error answer to the model (the session goes on)."""

    def __init__(self, error: str, status: str = ToolStatus.ERROR, **details: Any) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.details = details

    def response(self) -> dict[str, Any]:
        return {"error": self.error, **self.details}


class Tool(Protocol):
    spec: ToolSpec

    async def call(self, args: dict[str, Any]) -> dict[str, Any]:
        """Run the tool; a JSON-ready dict, or ToolFailure."""
        ...

    def preview(self, args: dict[str, Any]) -> str:
        """What will run, for the confirmation prompt (exact argv for commands)."""
        ...


@dataclass
class FunctionTool:
    """A tool backed by a plain async function (the built-ins, tests)."""

    spec: ToolSpec
    func: Any  # async (args) -> dict

    async def call(self, args: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = await self.func(args)
        return result

    def preview(self, args: dict[str, Any]) -> str:
        return f"{self.spec.name}({args})"
