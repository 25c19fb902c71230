"""[[tools]] and [[mcp_servers]] validation: every mistake names the entry and the field."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from voicecli import config as cfg
from voicecli.config import Settings
from voicecli.errors import ExitCode, ToolConfigError
from voicecli.tools import check_config
from voicecli.tools.command import CommandTool, parse_command_tools
from voicecli.tools.mcp import parse_mcp_servers, tool_name

GOOD = """
[[tools]]
name = "lookup_capital"
description = "Return the capital city of a country."
command = ["python3", "lookup.py", "{country}"]
confirm = false
timeout = 10
[tools.parameters.country]
type = "string"
description = "Country name"

[[mcp_servers]]
name = "notes"
command = ["python3", "notes_server.py"]
"""


def tool(**over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "t",
        "description": "d",
        "command": ["prog", "{x}"],
        "parameters": {"x": {"type": "string"}},
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def test_example_from_the_issue_loads(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(GOOD)
    settings = cfg.load(tmp_path / "config.toml", env={})
    config = check_config(settings)
    (c,) = config.commands
    assert c.spec.name == "lookup_capital" and c.spec.timeout_s == 10 and not c.spec.confirm
    assert c.spec.parameters == {
        "type": "object",
        "properties": {"country": {"type": "string", "description": "Country name"}},
        "required": ["country"],
    }
    (m,) = config.mcp_servers
    assert (m.name, m.argv, m.prefix, m.confirm) == (
        "notes",
        ["python3", "notes_server.py"],
        "notes",
        True,
    )


def test_example_config_tables_parse() -> None:
    """The commented [[tools]] / [[mcp_servers]] examples in config.example.toml are valid."""
    text = (Path(__file__).parent.parent / "config.example.toml").read_text()
    start = text.index("# [[tools]]")
    toml_line = re.compile(r"^# (\[|[a-z_]+ = )")  # commented-out keys, not the prose
    lines = [ln[2:] for ln in text[start:].splitlines() if toml_line.match(ln)]
    raw = tomllib.loads("\n".join(lines))
    (c,) = parse_command_tools(raw["tools"])
    assert c.spec.name == "lookup_capital" and c.spec.confirm
    (m,) = parse_mcp_servers(raw["mcp_servers"])
    assert m.only == ["search", "add"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (tool(name=None), r"entry 1: name is required"),
        (tool(name="bad name!"), r"'bad name!': name must start"),
        (tool(description=None), r"'t': description is required"),
        (tool(command="prog {x}"), r"'t': command must be a list of strings"),
        (tool(command=[]), r"command must be a list"),
        (tool(command=["{x}", "a"]), r"must name its program literally"),
        (tool(command=["prog", "{y}"]), r"parameters.x is declared but not used.*write \{x\}"),
        (tool(command=["prog"]), r"parameters.x is declared but not used"),
        (tool(confirm="yes"), r"'t': confirm must be true or false"),
        (tool(timeout=0), r"'t': timeout must be a number above 0"),
        (tool(timeout="10"), r"timeout must be a number"),
        (tool(scheduling="later"), r"scheduling must be one of"),
        (tool(shell=True), r"'t': unknown field 'shell'"),
        (tool(parameters={"x": {"type": "list"}}), r"parameters.x.type must be one of"),
        (tool(parameters={"x": {"kind": "string"}}), r"parameters.x.kind is unknown"),
        (tool(parameters={"x": "string"}), r"parameters.x must be a table"),
        (tool(parameters={"x": {"type": "integer", "default": "ten"}}), r"default is not valid"),
        (tool(parameters={"x": {"enum": []}}), r"enum must be a non-empty list"),
        (tool(env={"A": 1}), r"env must be a list of variable names"),
        (tool(env=["A B"]), r"env must be a list of variable names"),
        (tool(command=["sh", "-c", "echo {x}"]), r"inside a shell's -c script"),
        (tool(command=["/bin/bash", "-ec", "ls {x}"]), r"inside a shell's -c script"),
    ],
)
def test_command_tool_mistakes(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(ToolConfigError, match=message) as info:
        parse_command_tools([entry])
    assert info.value.exit_code == ExitCode.TOOL


def test_tables_must_be_arrays_of_tables() -> None:
    with pytest.raises(
        ToolConfigError, match=r"tools must be a list of tables, written \[\[tools\]\]"
    ):
        parse_command_tools({"name": "x"})
    with pytest.raises(ToolConfigError, match="mcp_servers must be a list"):
        parse_mcp_servers("notes")


def test_duplicate_names_are_refused() -> None:
    settings = Settings(tables={"tools": [tool(), tool()]})
    with pytest.raises(ToolConfigError, match="two tools are named 't'"):
        check_config(settings)
    dup = {"name": "a", "command": ["x"]}
    with pytest.raises(ToolConfigError, match="'a': name is used twice"):
        parse_mcp_servers([dup, dup])


def test_mcp_server_mistakes() -> None:
    with pytest.raises(ToolConfigError, match=r"\[\[mcp_servers\]\] 'n': command must be"):
        parse_mcp_servers([{"name": "n"}])
    with pytest.raises(ToolConfigError, match="'n': unknown field 'url'"):
        parse_mcp_servers([{"name": "n", "command": ["x"], "url": "http://x"}])
    with pytest.raises(ToolConfigError, match="'n': tools must be a list of names"):
        parse_mcp_servers([{"name": "n", "command": ["x"], "tools": "a"}])
    with pytest.raises(ToolConfigError, match="prefix must be"):
        parse_mcp_servers([{"name": "n", "command": ["x"], "prefix": "has space"}])


def test_mcp_names_are_prefixed_and_cleaned() -> None:
    assert tool_name("notes", "search") == "notes_search"
    assert tool_name("", "search") == "search"
    assert tool_name("n", "weird name/with:chars") == "n_weird_name_with:chars"
    assert tool_name("", "9lives") == "_9lives"
    assert len(tool_name("p", "x" * 200)) == 64


def test_shell_positional_arguments_are_fine() -> None:
    (c,) = parse_command_tools([tool(command=["sh", "-c", 'echo "$1"', "sh", "{x}"])])
    assert CommandTool(c).argv({"x": "$(id)"}) == ["sh", "-c", 'echo "$1"', "sh", "$(id)"]


def test_parameter_defaults_make_arguments_optional() -> None:
    (c,) = parse_command_tools(
        [
            tool(
                command=["prog", "{x}", "--n={n}"],
                parameters={"x": {}, "n": {"type": "integer", "default": 3}},
            )
        ]
    )
    assert c.spec.parameters is not None and c.spec.parameters["required"] == ["x"]
    assert CommandTool(c).argv({"x": "a"}) == ["prog", "a", "--n=3"]
