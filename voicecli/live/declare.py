"""Tool specs as google-genai types, kept in ``live/`` with the other SDK code (``tools/``
describes its tools in its own terms: ``tools.base.ToolSpec``, whatever has these fields).

Function declarations carry their arguments as ``parameters`` (the OpenAPI ``Schema``
subset), converted from the tool's JSON Schema by ``live.schema``: Live has been reported to
ignore the JSON-schema field (LIVE_FACTS "Tools"). Where the model takes it, each
declaration says whether the model waits for the result (``BLOCKING``) or keeps talking
(``NON_BLOCKING``); Google Search grounding is one more ``Tool``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from google.genai import types

from voicecli.live.schema import SchemaError, to_parameters

__all__ = ["SchemaError", "ToolSpec", "declaration", "declare", "to_parameters"]


class ToolSpec(Protocol):
    """What a declaration needs from a tool (``tools.base.ToolSpec`` has it)."""

    @property
    def name(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def parameters(self) -> dict[str, Any] | None: ...
    @property
    def non_blocking(self) -> bool: ...


def declaration(spec: ToolSpec, *, behavior: bool) -> types.FunctionDeclaration:
    """SchemaError when the tool's arguments cannot be declared (``registry`` leaves such
    an MCP tool out before it gets here)."""
    return types.FunctionDeclaration(
        name=spec.name,
        description=spec.description,
        parameters=to_parameters(spec.parameters),
        behavior=(
            (types.Behavior.NON_BLOCKING if spec.non_blocking else types.Behavior.BLOCKING)
            if behavior
            else None
        ),
    )


def declare(
    specs: Sequence[ToolSpec], *, search: bool = False, behavior: bool = False
) -> list[types.Tool]:
    """The ``tools`` of the session setup; ``behavior``: the model takes call behavior."""
    out: list[types.Tool] = []
    if specs:
        out.append(
            types.Tool(function_declarations=[declaration(s, behavior=behavior) for s in specs])
        )
    if search:
        out.append(types.Tool(google_search=types.GoogleSearch()))
    return out
