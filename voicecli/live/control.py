"""Mid-session control: what ``/system``, ``/style``, ``/tools`` and ``/tool`` change.

``SessionContext`` holds the session's current instructions and tools. A change is sent with
``contextUpdate`` (``send_context_update``: no reconnect, no user turn, no reply) where the
model takes it (``ModelCaps.context_update``), and every later connection's setup is built
from the same state, so a reconnect keeps the change. Each change becomes a
``ContextChange`` event: a notice in the view, a row in history. Where the model cannot take
it, ``change`` raises one clear error and nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from voicecli.config import Settings
from voicecli.errors import ModelError, UsageError
from voicecli.live import events as ev
from voicecli.live.capabilities import ModelCaps
from voicecli.live.messages import ContextUpdate
from voicecli.live.setup import instructions

KINDS = ("system", "style", "tools", "tool_add", "tool_remove")


class Sender(Protocol):
    async def send(self, msg: Any) -> None: ...


@dataclass
class SessionContext:
    settings: Settings
    caps: ModelCaps
    extra_instructions: str | None = None
    toolset: Any = None  # voicecli.tools.ToolSet, or None (no tools opened)
    tools_on: bool = True
    enabled: set[str] = field(default_factory=set)  # enabled tool names

    def __post_init__(self) -> None:
        if self.toolset is not None and not self.enabled:
            self.enabled = set(self.toolset.names)

    # ------------------------------------------------------------------ current state
    def instruction_text(self) -> str | None:
        return instructions(self.settings, self.extra_instructions)

    def declarations(self) -> list[Any] | None:
        """The ``tools`` for a setup or an update: the enabled ones (None: no tools)."""
        ts = self.toolset
        if ts is None or not self.tools_on:
            return None
        from voicecli.live.declare import declare

        specs = [t.spec for t in ts.tools if t.spec.name in self.enabled]
        return declare(specs, search=ts.search, behavior=self.caps.non_blocking_tools) or None

    # ------------------------------------------------------------------ changes
    async def change(self, sender: Sender, kind: str, value: str = "") -> ev.ContextChange:
        """Apply one change and send it; UsageError/ModelError when it cannot be done."""
        if not self.caps.context_update:
            raise ModelError(
                f"{self.caps.name} cannot change instructions or tools mid-session "
                "(no contextUpdate)",
                "restart with the new --system/--style/--tools; `-c` carries the conversation",
            )
        value = value.strip()
        if kind == "system":
            self.settings = replace(self.settings, system=value or None)
            text = f"system instructions now: {value}" if value else "system instructions cleared"
            await sender.send(ContextUpdate(system_instruction=self.instruction_text() or ""))
        elif kind == "style":
            self.settings = replace(self.settings, style=value or None)
            text = f"speaking style now: {value}" if value else "speaking style cleared"
            await sender.send(ContextUpdate(system_instruction=self.instruction_text() or ""))
        elif kind == "tools":
            on = _on_off(value)
            self._need_tools()
            self.tools_on = on
            text = "tools on: " + ", ".join(sorted(self.enabled)) if on else "tools off"
            await sender.send(ContextUpdate(tools=tuple(self.declarations() or ())))
        elif kind in ("tool_add", "tool_remove"):
            ts = self._need_tools()
            if value not in ts.names:
                raise UsageError(
                    f"no tool named {value!r}", f"known: {', '.join(ts.names) or 'none'}"
                )
            if kind == "tool_add":
                self.enabled.add(value)
                text = f"tool {value} added"
            else:
                self.enabled.discard(value)
                text = f"tool {value} removed"
            if not self.tools_on:
                text += " (tools are off: /tools on declares them)"
            else:
                await sender.send(ContextUpdate(tools=tuple(self.declarations() or ())))
        else:
            raise UsageError(f"unknown context change {kind!r}")
        return ev.ContextChange(kind, value, text)

    def _need_tools(self) -> Any:
        if self.toolset is None or not self.toolset.tools:
            raise UsageError(
                "this session has no tools to switch", "start it with --tools (tools_enabled)"
            )
        return self.toolset


def _on_off(value: str) -> bool:
    low = value.lower()
    if low in ("on", "yes", "true", "1"):
        return True
    if low in ("off", "no", "false", "0"):
        return False
    raise UsageError(f"/tools takes on or off, not {value!r}")
