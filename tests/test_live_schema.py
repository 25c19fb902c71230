"""Issue 27: tools are declared to Live with ``parameters`` (the OpenAPI Schema subset),
converted from JSON Schema; an MCP tool that cannot be converted is left out, said once."""

from __future__ import annotations

import pytest
from google.genai import types

from voicecli.errors import ToolConfigError
from voicecli.live.declare import declare
from voicecli.live.schema import SchemaError, to_parameters
from voicecli.tools.base import FunctionTool, ToolSpec
from voicecli.tools.builtin import builtin_tools
from voicecli.tools.registry import ToolSet, declarable
from voicecli.tools.runner import ToolRunner

T = types.Type


def dump(schema: types.Schema | None) -> dict:
    assert schema is not None
    return schema.model_dump(exclude_none=True, mode="json")


def test_refs_are_inlined_and_what_the_subset_lacks_is_translated() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "$defs": {
            "Place": {
                "type": "object",
                "properties": {
                    "kind": {"const": "city"},
                    "zone": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                },
                "required": ["kind"],
                "additionalProperties": False,
            }
        },
        "properties": {
            "place": {"$ref": "#/$defs/Place", "description": "where"},
            "unit": {"type": ["string", "null"], "enum": ["c", "f", None]},
            "days": {"type": "integer", "enum": [1, 7], "minimum": 1},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
        "required": ["place", "missing"],
        "additionalProperties": False,
    }
    assert dump(to_parameters(schema)) == {
        "type": "OBJECT",
        "properties": {
            "place": {
                "type": "OBJECT",
                "description": "where",
                "properties": {
                    "kind": {"type": "STRING", "enum": ["city"]},
                    "zone": {"type": "STRING", "nullable": True},
                },
                "required": ["kind"],
            },
            "unit": {"type": "STRING", "enum": ["c", "f"], "nullable": True},
            "days": {"type": "INTEGER", "minimum": 1.0, "description": "One of: 1, 7"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "max_items": 3},
        },
        "required": ["place"],
    }


@pytest.mark.parametrize(
    ("schema", "why"),
    [
        (
            {
                "type": "object",
                "$defs": {"N": {"type": "object", "properties": {"next": {"$ref": "#/$defs/N"}}}},
                "properties": {"n": {"$ref": "#/$defs/N"}},
            },
            "refers to itself",
        ),
        ({"type": "object", "properties": {"x": {}}}, "no type"),
        ({"type": "object", "properties": {"x": {"$ref": "other.json#/a"}}}, "not to a local"),
        ({"type": "object", "properties": {"x": {"type": "array"}}}, "without one item schema"),
    ],
)
def test_what_cannot_be_declared_says_where_and_why(schema: dict, why: str) -> None:
    with pytest.raises(SchemaError, match=why):
        to_parameters(schema)


def test_every_declaration_uses_parameters_never_the_json_schema_field() -> None:
    specs = [t.spec for t in builtin_tools()]
    (tool,) = declare(specs)
    for decl in tool.function_declarations or []:
        assert decl.parameters_json_schema is None
    calc = next(d for d in tool.function_declarations or [] if d.name == "calculate")
    assert calc.parameters is not None and calc.parameters.required == ["expression"]


async def _noop(args: dict) -> dict:
    return {}


def test_an_mcp_tool_that_cannot_be_converted_is_left_out_with_one_notice() -> None:
    recursive = {
        "type": "object",
        "$defs": {"N": {"type": "object", "properties": {"n": {"$ref": "#/$defs/N"}}}},
        "properties": {"tree": {"$ref": "#/$defs/N"}},
    }
    good = FunctionTool(ToolSpec("ok", "fine", {"type": "object"}, source="mcp:s"), _noop)
    bad = FunctionTool(ToolSpec("tree", "recursive", recursive, source="mcp:s"), _noop)
    bad2 = FunctionTool(
        ToolSpec("any", "untyped", {"properties": {"v": {}}}, source="mcp:s"), _noop
    )
    kept, left_out = declarable([good, bad, bad2])
    assert kept == [good]
    ts = ToolSet(kept, declare([t.spec for t in kept]), ToolRunner(kept), left_out=left_out)
    notice = ts.left_out_notice()
    assert notice is not None and notice.count("\n") == 0
    assert "tree (" in notice and "refers to itself" in notice and "any (" in notice
    # our own tools must convert: a broken one is a configuration error, not left out
    own = FunctionTool(ToolSpec("mine", "x", recursive, source="command"), _noop)
    with pytest.raises(ToolConfigError, match="mine"):
        declarable([own])
